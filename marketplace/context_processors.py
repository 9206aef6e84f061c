"""Values every page template needs."""

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    return {"council_name": settings.CAIRN_COUNCIL_NAME}
