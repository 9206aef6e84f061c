"""The RAS what-if CSV writes names a spreadsheet would run as formulas with a leading `'`, and
keeps its figures (negative changes included) as plain numbers (docs/security.md)."""

# ruff: noqa: F811  (pytest fixtures imported, then requested by name)

import csv
import io

import pytest
import yaml

from budgets.models import WhatIfStatus
from budgets.services.schemes import scheme_export, scheme_import
from budgets.services.whatif import whatif_run, whatif_start
from tests import factories
from tests.budgets.conftest import make_budget, scheme  # noqa: F401
from tests.hardening.test_csv_formulas import FORMULAS

pytestmark = pytest.mark.django_db


def test_the_what_if_csv_escapes_names_and_keeps_negative_changes_numeric(make_budget, scheme, admin_person):
    for n, name in enumerate(FORMULAS[:3]):
        # 8 points, which the scheme prices at £2,000: each budget would go down by £400.
        make_budget(factories.ClientFactory(full_name=name, username=f"-user{n}+1"), "2400.00")
    data = scheme_export(scheme=scheme)
    data["version"] = 2
    draft = scheme_import(actor=admin_person, text=yaml.safe_dump(data))
    run = whatif_start(actor=admin_person, scheme=draft)
    run = whatif_run(run_id=run.pk)
    assert run.status == WhatIfStatus.DONE

    with run.csv_file.open("rb") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read().decode())))

    assert sorted(r["name"] for r in rows) == sorted("'" + name for name in FORMULAS[:3])
    assert all(r["username"].startswith("'-user") for r in rows)
    assert {r["change"] for r in rows} == {"-400.00"}
    assert {r["current"] for r in rows} == {"2400.00"}
