"""Settings for pytest: fast password hashing, in-memory email, tasks run inline.

DATABASE_URL still chooses the database, so the same suite runs on SQLite and PostgreSQL.
CELERY_BROKER_URL is kept (a broker test uses it) but tasks run eagerly unless a test starts a
real worker.
"""

from .base import *  # noqa: F403
from .base import BASE_DIR

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Tests do not run collectstatic; serve build/static straight from the finders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
MEDIA_ROOT = BASE_DIR / "build" / "test-media"
