"""The quality dashboard's trend per provider: `{% provider_trend_table providers %}` draws, for
the providers given, a table of the average score in each of the last months with a small line
of the same numbers (one query for all of them)."""

from __future__ import annotations

from django import template
from django.utils import timezone

from ..charts import provider_trends, trend_months

register = template.Library()


@register.inclusion_tag("includes/chart_provider_trends.html")
def provider_trend_table(providers):
    providers = list(providers)
    today = timezone.localdate()
    trends = provider_trends([p.pk for p in providers], today)
    return {"months": trend_months(today), "rows": [(p, trends[p.pk]) for p in providers]}
