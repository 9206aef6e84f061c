"""The HTML side of the service error families (accounts/web.py): one status per family, 404 and
403 through Django's own handlers, 400 and 409 as a page that says what went wrong and that
nothing was changed; the API's paths and other exceptions are left alone."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory
from django.urls import path

from accounts.exceptions import (
    ActionNotAllowed,
    AlreadyAssigned,
    AuditImmutable,
    CairnError,
    InvalidInput,
    NotOnCaseload,
    NotVisible,
    StateConflict,
    WrongRole,
)
from accounts.models import AuditEvent
from accounts.web import ServiceErrorMiddleware, http_status, page_status
from marketplace.urls import urlpatterns as site_urlpatterns

FAMILIES = [(InvalidInput, 400), (ActionNotAllowed, 403), (NotVisible, 404), (StateConflict, 409)]
# Subclasses answer with their family's status.
SUBCLASSES = [(WrongRole, 400), (NotOnCaseload, 404), (AlreadyAssigned, 409), (AuditImmutable, 409)]


# --- http_status / page_status -----------------------------------------------------------------


@pytest.mark.parametrize(("family", "status"), FAMILIES + SUBCLASSES)
def test_each_service_error_answers_with_its_familys_status(family, status):
    assert http_status(family("Refused.")) == status


def test_a_bare_cairn_error_is_a_conflict():
    assert http_status(CairnError("Refused.")) == 409


@pytest.mark.parametrize(("family", "status"), [(InvalidInput, 400), (ActionNotAllowed, 403), (StateConflict, 409)])
def test_a_page_showing_a_refusal_answers_with_its_familys_status(family, status):
    assert page_status(family("Refused.")) == status


@pytest.mark.parametrize("family", [NotVisible, NotOnCaseload])
def test_a_page_showing_a_record_the_person_may_not_see_is_a_404_instead(family):
    with pytest.raises(Http404) as raised:
        page_status(family("No such plan."))
    assert str(raised.value) == "No such plan."


# --- ServiceErrorMiddleware.process_exception --------------------------------------------------


@pytest.fixture
def middleware():
    return ServiceErrorMiddleware(lambda request: pytest.fail("process_exception never calls the view"))


@pytest.fixture
def page_request(rf: RequestFactory):
    """`page_request(user, path="/plans/1/")`: a page request as the middleware sees it."""

    def make(user=None, path="/plans/1/submit/"):
        request = rf.post(path)
        request.user = user or AnonymousUser()
        return request

    return make


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("exc", "status", "heading"),
    [
        (InvalidInput("Enter a date after the start."), 400, "There is a problem"),
        (WrongRole("That person does not have the right role."), 400, "There is a problem"),
        (StateConflict("The plan was approved while you were editing it."), 409, "This cannot be done now"),
        (AlreadyAssigned("Ruth is already on Sam's caseload."), 409, "This cannot be done now"),
    ],
)
def test_a_refusal_is_a_page_saying_what_went_wrong_and_that_nothing_changed(
    exc, status, heading, middleware, page_request, social_worker
):
    audits = AuditEvent.objects.count()

    response = middleware.process_exception(page_request(social_worker), exc)

    assert response.status_code == status
    html = response.content.decode()
    assert f'<h1 class="govuk-heading-l">{heading}</h1>' in html
    assert exc.message.replace("'", "&#x27;") in html
    assert "Nothing was changed." in html
    assert social_worker.get_full_name() in html  # the page is the signed-in person's, as any other
    assert AuditEvent.objects.count() == audits


@pytest.mark.django_db
def test_a_refusal_page_renders_for_someone_signed_out(middleware, page_request):
    response = middleware.process_exception(page_request(), InvalidInput("Enter your postcode."))

    assert response.status_code == 400
    assert "Enter your postcode." in response.content.decode()


@pytest.mark.parametrize("family", [NotVisible, NotOnCaseload])
def test_a_record_the_person_may_not_see_goes_to_djangos_404(family, middleware, page_request, social_worker):
    with pytest.raises(Http404) as raised:
        middleware.process_exception(page_request(social_worker), family("No such plan."))
    assert str(raised.value) == "No such plan."


def test_an_action_the_person_may_not_take_goes_to_djangos_403(middleware, page_request, social_worker):
    with pytest.raises(PermissionDenied) as raised:
        middleware.process_exception(page_request(social_worker), ActionNotAllowed("Only managers approve this."))
    assert str(raised.value) == "Only managers approve this."


@pytest.mark.parametrize("exc", [ValueError("bug"), KeyError("plan"), Http404("gone"), PermissionDenied("no")])
def test_other_exceptions_are_left_to_django(exc, middleware, page_request, social_worker):
    assert middleware.process_exception(page_request(social_worker), exc) is None


@pytest.mark.parametrize(("family", "status"), FAMILIES)
def test_api_paths_are_left_to_the_apis_own_error_handling(family, status, middleware, page_request, social_worker):
    request = page_request(social_worker, path="/api/v1/plans/1/submit/")

    assert middleware.process_exception(request, family("Refused.")) is None


# --- through the whole middleware stack --------------------------------------------------------


def _raises(exc):
    def view(request):
        raise exc

    return view


urlpatterns = [
    path("test-errors/invalid/", _raises(InvalidInput("Enter a date after the start."))),
    path("test-errors/not-allowed/", _raises(ActionNotAllowed("Only managers approve this."))),
    path("test-errors/not-visible/", _raises(NotVisible("No such plan."))),
    path("test-errors/conflict/", _raises(StateConflict("The plan was approved while you were editing it."))),
    path("api/v1/test-errors/conflict/", _raises(StateConflict("The plan was approved."))),
    *site_urlpatterns,
]
handler404 = "marketplace.views.page_not_found"
handler500 = "marketplace.views.server_error"
handler403 = "marketplace.views.permission_denied"


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("url", "status", "text"),
    [
        ("/test-errors/invalid/", 400, "Enter a date after the start."),
        ("/test-errors/not-allowed/", 403, "Only managers approve this."),
        ("/test-errors/not-visible/", 404, ""),
        ("/test-errors/conflict/", 409, "The plan was approved while you were editing it."),
    ],
)
def test_a_service_error_a_view_did_not_handle_is_its_familys_page(url, status, text, web_as, social_worker):
    web = web_as(social_worker)
    audits = AuditEvent.objects.count()

    response = web.get(url)

    assert response.status_code == status
    assert text in response.content.decode()
    assert "No such plan." not in response.content.decode()  # a 404 never says what was there
    assert AuditEvent.objects.count() == audits


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_service_error_on_an_api_path_is_not_turned_into_a_page(client):
    with pytest.raises(StateConflict):
        client.get("/api/v1/test-errors/conflict/")
