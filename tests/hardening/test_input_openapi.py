"""The OpenAPI schema describes failures and shapes as the server has them, so a generated client can
trust it: error bodies on every operation, money's currency optional on input, blank values where
the data has them, and the schema valid OpenAPI."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db
METHODS = {"get", "post", "patch", "put", "delete"}


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--file", str(path))  # raises on an invalid schema
    return yaml.safe_load(path.read_text())


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_every_operation_documents_its_error_bodies(schema):
    missing = []
    for path, method, operation in operations(schema):
        public = {} in operation.get("security", [{}])
        wanted = {"400", "404", "429"} | (set() if public else {"401", "403"})
        if method != "get":
            wanted.add("409")
        lacking = wanted - set(operation["responses"])
        if lacking:
            missing.append(f"{method.upper()} {path}: {sorted(lacking)}")
    assert not missing, "\n".join(missing)


def test_error_bodies_are_the_shapes_the_server_sends(schema):
    components = schema["components"]["schemas"]
    assert components["Error"]["required"] == ["detail"]
    assert components["ValidationError"]["type"] == "object"
    plan_get = schema["paths"]["/api/v1/plans/{id}/"]["get"]["responses"]["404"]
    assert plan_get["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_money_needs_no_currency_on_input_but_always_has_one_in_answers(schema):
    components = schema["components"]["schemas"]
    service_in = components["ServiceWriteRequest"]["properties"]["unit_price"]
    service_out = components["Service"]["properties"]["unit_price"]
    assert service_in["required"] == ["amount"]
    assert service_out["required"] == ["amount", "currency"]


def test_blank_values_the_data_has_are_in_the_schema(schema):
    components = schema["components"]["schemas"]
    domain = components["Outcome"]["properties"]["domain"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in domain["oneOf"]
    assert {"maxLength": 0} in components["Provider"]["properties"]["email"]["anyOf"]
    assert {"maxLength": 0} in components["Provider"]["properties"]["website"]["anyOf"]


def test_approving_requires_every_checklist_item_true_in_the_schema_as_on_the_server(schema):
    checklist = schema["components"]["schemas"]["ApproveRequest"]["properties"]["checklist"]
    assert set(checklist["required"]) == {"outcomes", "costs", "risks", "management", "contacts"}
    assert all(item["enum"] == [True] for item in checklist["properties"].values())
