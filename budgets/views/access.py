"""What every budgets page checks first: that the person's role may use the page (403 otherwise),
and that the record asked for is one they may see (404 otherwise, so its existence is not given away)."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.exceptions import NotVisible


def visible_or_404(getter, user, pk):
    """`getter(user, pk)`, or a 404 when the selector says the person may not see the record."""
    try:
        return getter(user, pk)
    except NotVisible as exc:
        raise Http404(exc.message) from exc


class RoleRequiredMixin(LoginRequiredMixin):
    """403 for a signed-in person whose role may not use the page."""

    allowed = staticmethod(lambda user: False)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.allowed(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
