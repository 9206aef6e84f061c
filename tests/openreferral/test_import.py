"""`manage.py import_openreferral FILE`: the whole file checked first (a bad file changes nothing),
pending providers and services keyed by their ORUK ids, updated in place on re-import, a report of
what was created, updated, unchanged and skipped, with reasons."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.exceptions import ActionNotAllowed
from accounts.models import AuditEvent
from marketplace.openreferral import mapping
from marketplace.openreferral.importer import import_openreferral
from providers.models import Provider, ProviderStatus, ServiceArea, ServiceOffering

from .conftest import provider_in

pytestmark = pytest.mark.django_db

ORG_A = "0c6f8d1e-6a57-4b0e-9f43-3b1d2e5c7a01"
ORG_B = "0c6f8d1e-6a57-4b0e-9f43-3b1d2e5c7a02"


def body(service_id: str, name: str, *, org=ORG_A, org_name="Harbourside Support", amount=18.5, **extra) -> dict:
    """A service as another directory's `/services/{id}` publishes it."""
    service = {
        "id": service_id,
        "name": name,
        "description": f"{name}, at home.",
        "status": "active",
        "organization": {
            "id": org,
            "name": org_name,
            "description": f"{org_name} is a community interest company.",
            "email": "hello@harbourside.example",
            "website": "https://harbourside.example",
            "organization_identifiers": [
                {"id": "a1", "identifier_type": "CQC location ID", "identifier": f"1-{org[-2:]}"}
            ],
        },
        "cost_options": [{"id": "c1", "amount": amount, "amount_description": "per hour"}],
        "service_areas": [{"id": "s1", "name": "NF3"}, {"id": "s2", "name": "Anywhere in town"}],
        "attributes": [
            {"id": "t1", "taxonomy_term": {"id": "x", "name": "Domestic help", "description": "Help at home"}}
        ],
    }
    service.update(extra)
    return service


def write(tmp_path, services, *, as_list=False, name="directory.json"):
    path = tmp_path / name
    if as_list:
        path.write_text(json.dumps(services, indent=2))
    else:
        path.write_text("\n".join(json.dumps(s) for s in services) + "\n")
    return path


def run(path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_openreferral", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def snapshot() -> tuple:
    return (
        list(Provider.objects.order_by("pk").values_list("pk", "name", "status", "external_id")),
        list(ServiceOffering.objects.order_by("pk").values_list("pk", "title", "unit_price", "retired_at")),
        ServiceArea.objects.count(),
        AuditEvent.objects.count(),
    )


SERVICES = [
    body("svc-1", "Cleaning and shopping"),
    body("svc-2", "Laundry", amount="12", cost_options=[{"id": "c", "amount": 12, "amount_description": "per item"}]),
    body("svc-3", "Befriending", org=ORG_B, org_name="Bayview Befriending", attributes=[], amount=9.75),
]


def test_import_creates_pending_providers_and_services_keyed_by_their_oruk_ids(tmp_path):
    out, err = run(write(tmp_path, SERVICES))
    assert "3 services: 3 created, 0 updated, 0 unchanged, 0 skipped" in out
    assert "providers: 2 created (pending checks), 0 updated, 0 unchanged" in out
    assert "3 of 3 services checked" in err and "3 of 3 services written" in err
    harbour = Provider.objects.get(external_id=ORG_A)
    assert harbour.status == ProviderStatus.PENDING and harbour.name == "Harbourside Support"
    assert harbour.regulator_id == "1-01" and harbour.website == "https://harbourside.example"
    cleaning = ServiceOffering.objects.get(external_id="svc-1")
    assert (cleaning.provider, cleaning.category, cleaning.unit) == (harbour, "domestic_help", "hour")
    assert cleaning.unit_price.amount == Decimal("18.50") and cleaning.postcode_districts == ["NF3"]
    assert list(cleaning.areas.values_list("district", flat=True)) == ["NF3"]
    laundry = ServiceOffering.objects.get(external_id="svc-2")
    assert (laundry.unit, laundry.unit_price.amount) == ("item", Decimal("12.00"))
    assert ServiceOffering.objects.get(external_id="svc-3").category == "other"
    assert AuditEvent.objects.filter(message__startswith="Imported from an Open Referral UK directory").count() == 5


def test_an_imported_provider_is_published_only_once_a_case_manager_verifies_it(tmp_path):
    run(write(tmp_path, SERVICES))
    anon = Client()
    assert anon.get("/openreferral/services").json()["total_items"] == 0
    Provider.objects.filter(external_id=ORG_A).update(status=ProviderStatus.VERIFIED)
    page = anon.get("/openreferral/services").json()
    assert sorted(item["name"] for item in page["contents"]) == ["Cleaning and shopping", "Laundry"]


def test_reimport_updates_in_place_and_keeps_every_id(tmp_path):
    run(write(tmp_path, SERVICES))
    Provider.objects.filter(external_id=ORG_A).update(status=ProviderStatus.VERIFIED)
    cleaning = ServiceOffering.objects.get(external_id="svc-1")
    published_before = Client().get(f"/openreferral/services/{cleaning.oruk_id}").json()

    out, _ = run(write(tmp_path, SERVICES))
    assert "3 services: 0 created, 0 updated, 3 unchanged, 0 skipped" in out
    assert "providers: 0 created (pending checks), 0 updated, 2 unchanged" in out

    renamed = [
        body("svc-1", "Cleaning, shopping and errands", org_name="Harbourside Support CIC", amount=19),
        *SERVICES[1:],
    ]
    out, _ = run(write(tmp_path, renamed))
    assert "3 services: 0 created, 1 updated, 2 unchanged, 0 skipped" in out
    assert "providers: 0 created (pending checks), 1 updated, 1 unchanged" in out
    after = ServiceOffering.objects.get(external_id="svc-1")
    assert (after.pk, after.oruk_id, after.oruk_service_at_location_id) == (
        cleaning.pk,
        cleaning.oruk_id,
        cleaning.oruk_service_at_location_id,
    )
    assert after.title == "Cleaning, shopping and errands" and after.unit_price.amount == Decimal("19.00")
    provider = Provider.objects.get(external_id=ORG_A)
    assert provider.status == ProviderStatus.VERIFIED, "an import never changes a provider's status"
    published_after = Client().get(f"/openreferral/services/{cleaning.oruk_id}").json()
    assert published_after["id"] == published_before["id"]
    assert published_after["organization"]["id"] == published_before["organization"]["id"]
    assert published_after["name"] == "Cleaning, shopping and errands"
    assert Provider.objects.count() == 2 and ServiceOffering.objects.count() == 3


def test_a_service_no_longer_active_is_retired_and_a_new_inactive_one_skipped(tmp_path):
    run(write(tmp_path, SERVICES))
    changed = [
        body("svc-1", "Cleaning and shopping", status="inactive", cost_options=[]),
        *SERVICES[1:],
        body("svc-4", "Gardening", status="defunct"),
    ]
    out, _ = run(write(tmp_path, changed))
    assert "4 services: 0 created, 1 updated, 2 unchanged, 1 skipped" in out
    assert "skipped line 4: its status is not active, and Cairn does not have it." in out
    retired = ServiceOffering.objects.get(external_id="svc-1")
    assert retired.retired_at is not None and retired.unit_price.amount == Decimal("18.50")
    assert not ServiceOffering.objects.filter(external_id="svc-4").exists()


def test_services_cairn_cannot_take_are_skipped_with_their_reasons(tmp_path):
    provider_in(ProviderStatus.VERIFIED, name="Already Here", regulator_id="1-02")
    services = [
        body("svc-1", "Cleaning and shopping", cost_options=[]),
        body("svc-2", "Laundry", amount=12.345),
        body("svc-3", "Befriending", org=ORG_B, org_name="Bayview Befriending"),
        body("svc-5", "Ironing", amount=15),
    ]
    out, _ = run(write(tmp_path, services))
    assert "4 services: 1 created, 0 updated, 0 unchanged, 3 skipped" in out
    assert "skipped line 1: no price: Cairn needs a cost option with an amount (a price per unit)." in out
    assert "skipped line 2: its price 12.345 is not in pounds and pence." in out
    assert "skipped line 3: its organization's CQC location ID 1-02 belongs to Already Here" in out
    assert list(ServiceOffering.objects.filter(external_id__isnull=False).values_list("external_id", flat=True)) == [
        "svc-5"
    ]


def test_a_list_or_a_saved_page_is_read_too(tmp_path):
    out, _ = run(write(tmp_path, SERVICES, as_list=True))
    assert "3 services: 3 created" in out
    page = {"total_items": 1, "contents": [body("svc-9", "Meals")]}
    out, _ = run(write(tmp_path, [page], name="page.json"))
    assert "1 service: 1 created" in out


@pytest.mark.parametrize(
    "content, problems",
    [
        (
            '{"id": "a", "name": "A"\n{"id": "b"}\n',
            [
                "line 1, column 24: not valid JSON (Expecting ',' delimiter).",
                "line 2: `name` is missing.",
                "line 2: `status` is missing.",
                "line 2: the service needs its `organization` (an object with its id and name).",
            ],
        ),
        ('[{"id": "a",]', ["line 1, column 13: not valid JSON (Expecting property name enclosed in double quotes)."]),
        ("", ["line 1, column 1: not valid JSON (Expecting value)."]),
        ("[]", ["The file has no services."]),
    ],
)
def test_a_bad_file_changes_nothing_and_names_every_problem_with_its_position(tmp_path, content, problems):
    run(write(tmp_path, SERVICES[:1]))
    before = snapshot()
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(CommandError) as failure:
        run(path)
    message = str(failure.value)
    assert "was not imported; nothing was written" in message
    for problem in problems:
        assert problem in message
    assert snapshot() == before


def test_a_file_with_some_bad_services_imports_none_of_them(tmp_path):
    good = body("svc-1", "Cleaning and shopping", org_name="A new name")
    bad = [
        good,
        body("svc-2", "", status="open"),
        body("svc-1", "Again"),
        "not a service",
        body("svc-5", "Ironing", organization={"id": ORG_A}),
        body("svc-6", "Meals", cost_options=[{"amount": "lots"}]),
    ]
    before = snapshot()
    with pytest.raises(CommandError) as failure:
        run(write(tmp_path, bad))
    message = str(failure.value)
    for problem in (
        "line 2: `name` is empty.",
        "line 2: `status` must be one of active, defunct, inactive, temporarily closed.",
        "line 3: service id svc-1 is given again (first at line 1).",
        "line 4: not a service (a JSON object).",
        "line 5, organization: `name` is missing.",
        "line 6: a cost option's `amount` must be a number.",
    ):
        assert problem in message
    assert snapshot() == before


def test_only_administrators_and_case_managers_may_import(client_user, case_manager):
    text = json.dumps(SERVICES[0])
    with pytest.raises(ActionNotAllowed):
        import_openreferral(text_or_path=text, actor=client_user)
    assert not Provider.objects.exists()
    report = import_openreferral(text_or_path=text, actor=case_manager)
    assert report.created == 1 and AuditEvent.objects.filter(actor=case_manager).count() == 2


def test_cairns_own_directory_can_be_read_back(tmp_path, directory):
    """A Cairn body is a valid import: another Cairn installation can take this one's directory."""
    visits = directory["visits"]
    published = Client().get(f"/openreferral/services/{visits.oruk_id}").json()
    Provider.objects.filter(pk=directory["bright"].pk).update(regulator_id=None)
    out, _ = run(write(tmp_path, [published]))
    assert "1 service: 1 created" in out
    copy = ServiceOffering.objects.get(external_id=str(visits.oruk_id))
    assert (copy.title, copy.category, copy.unit, copy.unit_price) == (
        visits.title,
        visits.category,
        visits.unit,
        visits.unit_price,
    )
    assert copy.postcode_districts == ["NF1", "NF2"] and copy.provider.status == ProviderStatus.PENDING
    assert copy.oruk_id != visits.oruk_id
    assert str(mapping.CATEGORIES.term_id("personal_care")) in json.dumps(published)
