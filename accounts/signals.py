"""Audit rows for Django's authentication signals: the only hook Django offers for logins.

The receivers hold no rules; they hand over to `services.audit_record`.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .models import AuditAction
from .services import audit_record


@receiver(user_logged_in, dispatch_uid="cairn_audit_login")
def _logged_in(sender, request, user, **kwargs):
    audit_record(actor=user, action=AuditAction.LOGIN, request=request)


@receiver(user_logged_out, dispatch_uid="cairn_audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, action=AuditAction.LOGOUT, request=request)


@receiver(user_login_failed, dispatch_uid="cairn_audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; keep only the name tried.
    audit_record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        request=getattr(request, "_request", request),
        actor_username=str(credentials.get("username", ""))[:150],
    )
