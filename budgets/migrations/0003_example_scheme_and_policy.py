"""Ship the example RAS scheme (published, so the API works on an empty database), the default
budget policy and the council's ledger accounts."""

from pathlib import Path

from django.db import migrations
from django.utils import timezone

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "example_ras.yaml"


def forward(apps, schema_editor):
    from budgets.ras import content_digest
    from budgets.ras_io import canonical, parse_scheme_text, write_scheme

    class Models:
        RasScheme = apps.get_model("budgets", "RasScheme")
        RasQuestion = apps.get_model("budgets", "RasQuestion")
        RasAnswer = apps.get_model("budgets", "RasAnswer")
        RasModifier = apps.get_model("budgets", "RasModifier")
        RasBand = apps.get_model("budgets", "RasBand")

    data = parse_scheme_text(EXAMPLE.read_text(encoding="utf-8"))
    if not Models.RasScheme.objects.filter(name=data["name"], version=data["version"]).exists():
        scheme = write_scheme(data, models=Models, status="published", is_example=True)
        Models.RasScheme.objects.filter(pk=scheme.pk).update(
            content_digest=content_digest(canonical(data)), published_at=timezone.now()
        )
    apps.get_model("budgets", "BudgetPolicy").objects.get_or_create(pk=1)
    account = apps.get_model("budgets", "LedgerAccount")
    for kind in ("funding", "reclaimed"):
        account.objects.get_or_create(code=f"council:{kind}", defaults={"kind": kind})


class Migration(migrations.Migration):
    dependencies = [("budgets", "0002_ledger_database_rules")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
