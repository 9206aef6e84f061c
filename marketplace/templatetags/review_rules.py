"""The review rules said up front, on pages of apps below the marketplace (the plan page's "Rate"
links) that cannot import its selectors: a template tag is looked up at render time, not imported.
"""

from __future__ import annotations

import datetime

from django import template

from ..selectors import review_again_from
from ..services import rating_policy

register = template.Library()


@register.simple_tag
def review_again(user, provider) -> datetime.date | None:
    """When `user` may next review `provider` (None: now), by the rating policy's waiting period."""
    return review_again_from(user, provider, rating_policy())


@register.simple_tag
def review_interval_days() -> int:
    return rating_policy().review_interval_days
