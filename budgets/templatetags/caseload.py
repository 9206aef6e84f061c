"""The team page's clients with where each has got to: `{% team_progress teams as progress %}` then
`{% with p=progress|progress_of:assignment.client_id %}`.

A tag because the team page belongs to `accounts`, which may not import this app; the tag reads every
client of every team shown at once (`budgets.caseload.client_progress`: three queries in all)."""

from __future__ import annotations

from django import template

from ..caseload import ClientProgress, client_progress

register = template.Library()


@register.simple_tag
def team_progress(teams) -> dict[int, ClientProgress]:
    ids = [a.client_id for team in teams for member in team.members.all() for a in member.open_caseload]
    return client_progress(ids)


@register.filter
def progress_of(progress: dict, client_id: int) -> ClientProgress | None:
    return progress.get(client_id)
