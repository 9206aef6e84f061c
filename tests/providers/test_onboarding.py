"""Provider onboarding, `pending → verified → suspended ⇄ verified` by case managers (PRODUCT.md §6;
API.md "Providers and services"): every edge both ways through the services and through
`POST /api/v1/providers/{id}/verify/`, `/suspend/` and `/reinstate/`, who may move a provider,
the audit trail, and that the status never changes any other way."""

import pytest
from django.contrib.contenttypes.models import ContentType
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed, InvalidInput, StateConflict
from accounts.models import AuditAction, AuditEvent, Role
from providers import services
from providers.models import Provider, ProviderStatus, ServiceOffering
from tests import factories
from tests.factories import ROLE_FIXTURES

pytestmark = pytest.mark.django_db

PENDING, VERIFIED, SUSPENDED = ProviderStatus.PENDING, ProviderStatus.VERIFIED, ProviderStatus.SUSPENDED
NOT_CASE_MANAGERS = [name for role, name in ROLE_FIXTURES.items() if role != Role.CASE_MANAGER]

# (action, the state it starts from, the state it ends in)
ALLOWED = [("verify", PENDING, VERIFIED), ("suspend", VERIFIED, SUSPENDED), ("reinstate", SUSPENDED, VERIFIED)]
# (action, a state it may not start from)
DISALLOWED = [
    ("verify", VERIFIED),
    ("verify", SUSPENDED),
    ("suspend", PENDING),
    ("suspend", SUSPENDED),
    ("reinstate", PENDING),
    ("reinstate", VERIFIED),
]
SERVICE = {
    "verify": services.provider_verify,
    "suspend": services.provider_suspend,
    "reinstate": services.provider_reinstate,
}
REASON = "Registration lapsed with the CQC."


def url(provider_id, action):
    return f"/api/v1/providers/{provider_id}/{action}/"


def in_state(status):
    return factories.ProviderFactory(name="Heron Care", status=status)


def snapshot(provider):
    """What a refused call must leave alone."""
    provider = Provider.objects.get(pk=provider.pk)
    return (provider.status, provider.status_reason, provider.status_changed_at, provider.updated_at)


def transition_events(provider):
    return AuditEvent.objects.filter(
        action=AuditAction.TRANSITION,
        target_type=ContentType.objects.get_for_model(Provider),
        target_id=str(provider.pk),
    )


def call(action, *, actor, provider, reason=""):
    return SERVICE[action](actor=actor, provider=provider, reason=reason)


# --- through the services ------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "source", "target"), ALLOWED)
def test_case_manager_moves_provider_along_an_allowed_edge(case_manager, action, source, target):
    provider = in_state(source)
    moved = call(action, actor=case_manager, provider=provider, reason=REASON)
    assert moved.status == target
    stored = Provider.objects.get(pk=provider.pk)
    assert stored.status == target
    assert stored.status_reason == REASON
    assert stored.status_changed_at is not None


@pytest.mark.parametrize(("action", "source", "target"), ALLOWED)
def test_each_transition_is_audited_with_its_reason(case_manager, action, source, target):
    provider = in_state(source)
    call(action, actor=case_manager, provider=provider, reason=f"  {REASON}  ")
    event = transition_events(provider).get()
    assert event.actor == case_manager
    assert event.message == REASON
    assert event.changes == {"from": source, "to": target}


def test_verify_and_reinstate_need_no_reason(case_manager):
    provider = in_state(PENDING)
    assert services.provider_verify(actor=case_manager, provider=provider).status == VERIFIED
    services.provider_suspend(actor=case_manager, provider=provider, reason=REASON)
    assert services.provider_reinstate(actor=case_manager, provider=provider).status == VERIFIED
    assert Provider.objects.get(pk=provider.pk).status_reason == ""


def test_the_full_cycle_pending_verified_suspended_verified_suspended(case_manager):
    provider = in_state(PENDING)
    services.provider_verify(actor=case_manager, provider=provider)
    services.provider_suspend(actor=case_manager, provider=provider, reason="Safeguarding concern")
    services.provider_reinstate(actor=case_manager, provider=provider, reason="Concern resolved")
    services.provider_suspend(actor=case_manager, provider=provider, reason="Second concern")
    assert Provider.objects.get(pk=provider.pk).status == SUSPENDED
    steps = [(e.changes["from"], e.changes["to"], e.message) for e in transition_events(provider).order_by("id")]
    assert steps == [
        (PENDING, VERIFIED, ""),
        (VERIFIED, SUSPENDED, "Safeguarding concern"),
        (SUSPENDED, VERIFIED, "Concern resolved"),
        (VERIFIED, SUSPENDED, "Second concern"),
    ]


@pytest.mark.parametrize("reason", ["", "   "])
def test_suspending_without_a_reason_is_refused_and_changes_nothing(case_manager, reason):
    provider = in_state(VERIFIED)
    before = snapshot(provider)
    with pytest.raises(InvalidInput) as caught:
        services.provider_suspend(actor=case_manager, provider=provider, reason=reason)
    assert caught.value.field == "reason"
    assert snapshot(provider) == before
    assert not transition_events(provider).exists()


@pytest.mark.parametrize(("action", "source"), DISALLOWED)
def test_a_disallowed_edge_is_a_state_conflict_and_changes_nothing(case_manager, action, source):
    provider = in_state(source)
    before = snapshot(provider)
    with pytest.raises(StateConflict):
        call(action, actor=case_manager, provider=provider, reason=REASON)
    assert snapshot(provider) == before
    assert not transition_events(provider).exists()


def test_a_stale_copy_cannot_repeat_a_transition(case_manager):
    # The state is checked after the row lock, not on the caller's (stale) instance.
    provider = in_state(PENDING)
    stale = Provider.objects.get(pk=provider.pk)
    services.provider_verify(actor=case_manager, provider=provider)
    with pytest.raises(StateConflict):
        services.provider_verify(actor=case_manager, provider=stale)
    assert transition_events(provider).count() == 1


@pytest.mark.parametrize(("action", "source", "target"), ALLOWED)
@pytest.mark.parametrize("name", NOT_CASE_MANAGERS)
def test_only_case_managers_may_move_a_provider(request, name, action, source, target):
    actor = request.getfixturevalue(name)
    provider = in_state(source)
    before = snapshot(provider)
    with pytest.raises(ActionNotAllowed):
        call(action, actor=actor, provider=provider, reason=REASON)
    assert snapshot(provider) == before
    assert not transition_events(provider).exists()


def test_a_deactivated_case_manager_may_not_move_a_provider(case_manager):
    case_manager.is_active = False
    case_manager.save()
    provider = in_state(PENDING)
    with pytest.raises(ActionNotAllowed):
        services.provider_verify(actor=case_manager, provider=provider)
    assert Provider.objects.get(pk=provider.pk).status == PENDING


def test_staff_cannot_verify_their_own_provider(provider_user):
    provider = provider_user.provider
    with pytest.raises(ActionNotAllowed):
        services.provider_verify(actor=provider_user, provider=provider)
    assert Provider.objects.get(pk=provider.pk).status == PENDING


# --- status is not a profile field ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["case_manager", "admin_person", "provider_user"])
def test_status_cannot_be_changed_through_the_profile(request, name):
    actor = request.getfixturevalue(name)
    provider = factories.ProviderFactory() if name != "provider_user" else actor.provider
    before = snapshot(provider)
    with pytest.raises(InvalidInput):
        services.provider_update_profile(actor=actor, provider=provider, status=VERIFIED)
    with pytest.raises(InvalidInput):
        services.provider_update_profile(actor=actor, provider=provider, name="Renamed", status=VERIFIED)
    assert snapshot(provider) == before
    assert Provider.objects.get(pk=provider.pk).name != "Renamed"


def test_status_cannot_be_assigned_directly_on_a_loaded_provider():
    provider = in_state(PENDING)
    with pytest.raises(AttributeError):
        provider.status = VERIFIED


@pytest.mark.parametrize("method", ["patch", "put"])
def test_the_api_has_no_way_to_write_a_providers_status(api_as, case_manager, method):
    provider = in_state(PENDING)
    before = snapshot(provider)
    response = getattr(api_as(case_manager), method)(
        f"/api/v1/providers/{provider.pk}/", {"status": VERIFIED, "name": "Heron Care"}, format="json"
    )
    assert response.status_code == 405
    assert snapshot(provider) == before


# --- through the API -----------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "source", "target"), ALLOWED)
def test_case_manager_moves_provider_through_the_api(api_as, case_manager, action, source, target):
    provider = in_state(source)
    response = api_as(case_manager).post(url(provider.pk, action), {"reason": REASON}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == provider.pk
    assert body["status"] == target
    assert body["status_reason"] == REASON
    assert Provider.objects.get(pk=provider.pk).status == target
    event = transition_events(provider).get()
    assert (event.action, event.message, event.actor) == (AuditAction.TRANSITION, REASON, case_manager)
    assert event.changes == {"from": source, "to": target}


@pytest.mark.parametrize("action", ["verify", "reinstate"])
def test_verify_and_reinstate_accept_an_empty_body(api_as, case_manager, action):
    provider = in_state(PENDING if action == "verify" else SUSPENDED)
    response = api_as(case_manager).post(url(provider.pk, action))
    assert response.status_code == 200
    assert response.json()["status"] == VERIFIED


def test_the_api_walks_the_whole_cycle(api_as, case_manager):
    provider = in_state(PENDING)
    cm = api_as(case_manager)
    assert cm.post(url(provider.pk, "verify")).json()["status"] == VERIFIED
    assert cm.post(url(provider.pk, "suspend"), {"reason": REASON}, format="json").json()["status"] == SUSPENDED
    assert cm.post(url(provider.pk, "reinstate")).json()["status"] == VERIFIED
    assert transition_events(provider).count() == 3


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_suspending_through_the_api_without_a_reason_is_400_and_changes_nothing(api_as, case_manager, body):
    provider = in_state(VERIFIED)
    before = snapshot(provider)
    response = api_as(case_manager).post(url(provider.pk, "suspend"), body, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    assert snapshot(provider) == before
    assert not transition_events(provider).exists()


def test_a_reason_over_500_characters_is_400(api_as, case_manager):
    provider = in_state(VERIFIED)
    response = api_as(case_manager).post(url(provider.pk, "suspend"), {"reason": "x" * 501}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    assert Provider.objects.get(pk=provider.pk).status == VERIFIED


@pytest.mark.parametrize(("action", "source"), DISALLOWED)
def test_a_disallowed_edge_through_the_api_is_409_and_changes_nothing(api_as, case_manager, action, source):
    provider = in_state(source)
    before = snapshot(provider)
    response = api_as(case_manager).post(url(provider.pk, action), {"reason": REASON}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert set(body) == {"detail"} and body["detail"]
    assert snapshot(provider) == before
    assert not transition_events(provider).exists()


@pytest.mark.parametrize(("action", "source", "target"), ALLOWED)
@pytest.mark.parametrize("name", NOT_CASE_MANAGERS)
def test_every_other_role_gets_403_and_changes_nothing(request, api_as, name, action, source, target):
    actor = request.getfixturevalue(name)
    provider = in_state(source)
    before = snapshot(provider)
    response = api_as(actor).post(url(provider.pk, action), {"reason": REASON}, format="json")
    assert response.status_code == 403
    assert snapshot(provider) == before
    assert not transition_events(provider).exists()


@pytest.mark.parametrize(("action", "source", "target"), ALLOWED)
def test_staff_get_403_moving_their_own_provider(api_as, provider_user, action, source, target):
    provider = provider_user.provider
    Provider.objects.filter(pk=provider.pk).update(status=source)
    response = api_as(provider_user).post(url(provider.pk, action), {"reason": REASON}, format="json")
    assert response.status_code == 403
    assert Provider.objects.get(pk=provider.pk).status == source


@pytest.mark.parametrize(("action", "source", "target"), ALLOWED)
def test_no_token_is_401_and_changes_nothing(api, action, source, target):
    provider = in_state(source)
    before = snapshot(provider)
    response = api.post(url(provider.pk, action), {"reason": REASON}, format="json")
    assert response.status_code == 401
    assert snapshot(provider) == before


@pytest.mark.parametrize("action", ["verify", "suspend", "reinstate"])
def test_an_unknown_provider_is_404(api_as, case_manager, action):
    response = api_as(case_manager).post(url(999999, action), {"reason": REASON}, format="json")
    assert response.status_code == 404


# --- what a transition does to the catalogue -----------------------------------------------------


def test_suspending_takes_services_out_of_the_catalogue_and_reinstating_puts_them_back(
    api_as, case_manager, client_user
):
    provider = in_state(PENDING)
    service = ServiceOffering.objects.create(
        provider=provider, title="Home visits", category="personal_care", unit="hour", unit_price=Money("20", "GBP")
    )
    cm, client = api_as(case_manager), api_as(client_user)

    def listed():
        return [s["id"] for s in client.get("/api/v1/services/").json()["results"]]

    assert listed() == []
    cm.post(url(provider.pk, "verify"))
    assert listed() == [service.pk]
    cm.post(url(provider.pk, "suspend"), {"reason": REASON}, format="json")
    assert listed() == []
    assert client.get(f"/api/v1/services/{service.pk}/").status_code == 404
    cm.post(url(provider.pk, "reinstate"))
    assert listed() == [service.pk]
