"""Background jobs of the budgets app: thin wrappers over services."""

from celery import shared_task


@shared_task(acks_late=True)
def whatif_run_task(run_id: int) -> int:
    from .services.whatif import whatif_run

    return whatif_run(run_id=run_id).pk


@shared_task(acks_late=True)
def reassessment_run_task(run_id: int) -> int:
    from .services.reassessment import reassessment_run

    return reassessment_run(run_id=run_id).pk
