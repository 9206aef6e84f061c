"""Celery wrappers: each calls one service."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="approvals.escalate_overdue_reviews")
def escalate_overdue_reviews() -> int:
    return services.reviews_escalate_overdue()
