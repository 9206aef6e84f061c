"""Celery beat's schedule: every scheduled job Cairn runs, in one place.

Read by `CELERY_BEAT_SCHEDULE` in settings. django-celery-beat's database scheduler copies these
entries into the database, where an administrator can see, pause or re-time them in the admin.
Each later capability adds its jobs here (overdue reviews, invoice auto-confirmation, reclaim...).
"""

from celery.schedules import crontab


def _job(task: str, **when) -> dict:
    return {"task": task, "schedule": crontab(**when)}


BEAT_SCHEDULE: dict[str, dict] = {
    "clear-expired-sessions": _job("marketplace.tasks.clear_expired_sessions", hour=3, minute=15),
    # Hourly in working hours, so an overdue review reaches the team manager the morning it is
    # late; escalation marks each review once, so extra runs change nothing.
    "escalate-overdue-reviews": _job(
        "approvals.escalate_overdue_reviews", minute=5, hour="7-18", day_of_week="mon-fri"
    ),
    # Daily: invoices nobody confirmed or disputed within the policy's days are confirmed.
    "auto-confirm-invoices": _job("payments.invoices_auto_confirm", hour=6, minute=0),
    # Scores are refreshed on every review; the prior they share drifts, so all are redone nightly.
    "refresh-ratings": _job("marketplace.ratings_refresh_all", hour=2, minute=30),
    # Daily: any approved plan whose direct payment / fund schedule was never made gets it.
    "schedule-missing-funds": _job("payments.funds_schedule_missing", hour=5, minute=30),
    # Daily, after the schedules: fund loads that have fallen due are paid (a run of their own).
    "pay-due-loads": _job("payments.loads_pay_due", hour=6, minute=15),
    # Daily, after the loads: contributions for periods that have ended are charged (or corrected).
    "charge-contributions": _job("payments.contributions_charge_due", hour=6, minute=45),
    # Payments a dead worker left in flight are picked up again (each attempt is safe to repeat).
    "resume-stalled-payments": _job("payments.payments_resume_stalled", minute="*/10"),
}
