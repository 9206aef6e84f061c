"""Celery wrappers: each calls one service."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="accounts.notifications_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notifications_email(notification_ids: list[int]) -> int:
    return services.notifications_send_email(notification_ids=notification_ids)
