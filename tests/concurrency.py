"""Running service calls at the same moment in threads, for the PostgreSQL race tests."""

import threading

from django.db import connections


def race(calls):
    """Run the calls in threads released together by a barrier. Each outcome is the call's result
    or the exception it raised; the tests say which exceptions they expect."""
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        try:
            barrier.wait()
            outcomes.append(call())
        except Exception as exc:
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(outcomes) == len(calls), "a thread did not finish"
    return outcomes
