"""The Celery app, configured from Django settings (the `CELERY_` names).

With no `CELERY_BROKER_URL` the settings make tasks run eagerly inside the web process, so a
newcomer needs no Redis; with one, `celery -A marketplace worker` and `celery -A marketplace beat`
run them.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.base")

app = Celery("cairn")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
