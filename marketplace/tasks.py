"""Site-wide scheduled housekeeping."""

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone


@shared_task
def clear_expired_sessions() -> int:
    """Delete expired login sessions so the session table does not grow without bound.

    Sessions are not audit records: the audit trail keeps logins and logouts separately.
    """
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task(name="marketplace.ratings_refresh_all")
def ratings_refresh_all() -> int:
    """Nightly: every provider's Bayesian score with today's prior (the mean of all reviews)."""
    from . import services

    return services.ratings_refresh_all()
