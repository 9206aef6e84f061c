"""The OpenAPI schema and interactive docs are public and describe the people endpoints."""

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_schema_is_public_openapi_3_with_the_contract_paths(api):
    response = api.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/auth/token/", "/api/v1/users/", "/api/v1/teams/", "/api/v1/caseloads/"):
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/api/v1/caseloads/"]


def test_docs_page_is_public_and_served_without_outside_assets(api):
    response = api.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert "cdn" not in html.lower() and "https://" not in html.split("<body")[0]


def test_docs_script_is_served_separately_so_the_csp_holds(api):
    assert api.get("/api/v1/docs/?script=").status_code == 200


def test_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/assessments/{id}/complete/" in (tmp_path / "schema.yaml").read_text()
