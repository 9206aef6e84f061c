"""What-if re-pricing: how every current client's budget would change under a draft scheme.

Runs as a background job with progress. It reads each client's latest completed assessment
(answers, modifiers, indicative amount) in one streamed query, prices the answers with the same
`ras.price` the assessments use, and writes a summary and a per-client CSV. It changes no budget.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.csv_safe import csv_cell
from accounts.models import AuditAction, User
from accounts.services import audit_record

from ..exceptions import NotAllowed, SchemeNotEditable
from ..models import Assessment, AssessmentStatus, RasScheme, SchemeStatus, WhatIfRun, WhatIfStatus
from ..permissions import can_manage_schemes
from ..ras import compile_scheme, price_amount

PROGRESS_EVERY = 2000
BUCKETS = [
    "down more than £5,000",
    "down £1,000 to £5,000",
    "down less than £1,000",
    "no change",
    "up less than £1,000",
    "up £1,000 to £5,000",
    "up more than £5,000",
]


def _bucket(change: Decimal) -> str:
    size = abs(change)
    if size == 0:
        return "no change"
    band = 0 if size > 5000 else 1 if size >= 1000 else 2
    return BUCKETS[band] if change < 0 else BUCKETS[6 - band]


def whatif_start(*, actor: User, scheme: RasScheme) -> WhatIfRun:
    """Queue a run for a draft scheme (after this transaction commits). Administrators only."""
    if not can_manage_schemes(actor):
        raise NotAllowed("Only administrators can run what-if re-pricing.")
    if scheme.status != SchemeStatus.DRAFT:
        raise SchemeNotEditable("What-if runs are for draft schemes; a published scheme already prices budgets.")
    from ..tasks import whatif_run_task

    with transaction.atomic():
        run = WhatIfRun.objects.create(scheme=scheme, requested_by=actor)
        audit_record(actor=actor, action=AuditAction.CREATE, target=run)
        whatif_run_task.delay_on_commit(run.pk)
    return run


def latest_completed_assessments():
    """(client id, username, full name, answers, modifiers, indicative amount) of each client's
    latest completed assessment, streamed, latest first within a client."""
    return (
        Assessment.objects.filter(status=AssessmentStatus.COMPLETED)
        .order_by("client_id", "-completed_at", "-id")
        .values_list("client_id", "client__username", "client__full_name", "answers", "modifiers", "indicative_budget")
        .iterator(chunk_size=10000)
    )


def whatif_run(*, run_id: int) -> WhatIfRun:
    """Do the run. Safe to call again: a finished run is left as it is."""
    run = WhatIfRun.objects.select_related("scheme").get(pk=run_id)
    if run.status == WhatIfStatus.DONE:
        return run
    compiled = compile_scheme(run.scheme)
    total = Assessment.objects.filter(status=AssessmentStatus.COMPLETED).values("client_id").distinct().count()
    WhatIfRun.objects.filter(pk=run.pk).update(
        status=WhatIfStatus.RUNNING, total=total, done=0, started_at=timezone.now(), error=""
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["client_id", "username", "name", "current", "proposed", "change"])
    up = down = same = unpriced = done = 0
    total_change = Decimal(0)
    distribution = dict.fromkeys(BUCKETS, 0)
    last_client = None
    # Many people give the same answers; price each distinct set once.
    priced: dict[tuple, Decimal | None] = {}
    try:
        for client_id, username, name, answers, modifiers, current in latest_completed_assessments():
            if client_id == last_client:
                continue
            last_client = client_id
            done += 1
            key = (tuple(answers.items()), tuple(modifiers))
            if key in priced:
                proposed = priced[key]
            else:
                proposed = priced[key] = price_amount(compiled, answers, modifiers)
            if proposed is None:
                unpriced += 1
                writer.writerow([client_id, csv_cell(username), csv_cell(name), f"{current:.2f}", "", ""])
            else:
                change = proposed - current
                total_change += change
                up += change > 0
                down += change < 0
                same += change == 0
                distribution[_bucket(change)] += 1
                figures = [f"{current:.2f}", f"{proposed:.2f}", f"{change:.2f}"]
                writer.writerow([client_id, csv_cell(username), csv_cell(name), *figures])
            if done % PROGRESS_EVERY == 0:
                WhatIfRun.objects.filter(pk=run.pk).update(done=done)
    except Exception as exc:
        WhatIfRun.objects.filter(pk=run.pk).update(status=WhatIfStatus.FAILED, error=str(exc)[:2000])
        raise
    run.refresh_from_db()
    run.csv_file.save(f"whatif-{run.pk}.csv", ContentFile(out.getvalue().encode()), save=False)
    run.summary = {
        "priced": up + down + same,
        "up": up,
        "down": down,
        "same": same,
        "unpriced": unpriced,
        "total_change": f"{total_change:.2f}",
        "distribution": distribution,
    }
    run.total = total
    run.done = done
    run.status = WhatIfStatus.DONE
    run.finished_at = timezone.now()
    run.save()
    return run
