"""Each transition names its permission (`permission=`), and the services enforce it after the
lock with `has_transition_perm` (django-fsm-2 does not enforce it when the method is called)."""

import pytest
from django_fsm import has_transition_perm

from careplans.models import CarePlan, PlanStatus

pytestmark = pytest.mark.django_db

EDGES = {
    "submit": PlanStatus.DRAFT,
    "start_review": PlanStatus.SUBMITTED,
    "request_changes": PlanStatus.IN_REVIEW,
    "refer_to_senior": PlanStatus.IN_REVIEW,
    "approve": PlanStatus.IN_REVIEW,
    "reject": PlanStatus.IN_REVIEW,
    "withdraw": PlanStatus.DRAFT,
    "supersede": PlanStatus.APPROVED,
}
ALLOWED = {
    "submit": {"client_user", "social_worker", "team_manager"},
    "withdraw": {"client_user"},
}
REVIEWERS = {"social_worker", "team_manager"}
ROLES = [
    "client_user", "social_worker", "team_manager", "case_manager", "finance_user", "provider_user", "admin_person",
]  # fmt: skip


@pytest.mark.parametrize("edge", sorted(EDGES))
@pytest.mark.parametrize("role", ROLES)
def test_each_transition_declares_who_may_take_it(edge, role, request, draft_plan):
    CarePlan.objects.filter(pk=draft_plan.pk).update(status=EDGES[edge])
    plan = CarePlan.objects.get(pk=draft_plan.pk)
    user = request.getfixturevalue(role)
    assert has_transition_perm(getattr(plan, edge), user) == (role in ALLOWED.get(edge, REVIEWERS))


def test_a_social_worker_without_the_client_may_not_review(draft_plan):
    from tests import factories

    stranger = factories.SocialWorkerFactory()
    CarePlan.objects.filter(pk=draft_plan.pk).update(status=PlanStatus.SUBMITTED)
    plan = CarePlan.objects.get(pk=draft_plan.pk)
    assert not has_transition_perm(plan.start_review, stranger)
