"""Cairn's project package: settings, URLs, the Celery app and the site-wide pages.

It is also the top app (docs/architecture.md): role home pages and, later, the service catalogue and ratings.
"""

from .celery import app as celery_app

__all__ = ("celery_app",)
