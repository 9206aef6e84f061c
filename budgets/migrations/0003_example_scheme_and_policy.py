"""Ship the example RAS scheme (published, so the API works on an empty database), the default
budget policy and the council's ledger accounts."""

from django.db import migrations


def forward(apps, schema_editor):
    from budgets.ras_io import install_example_scheme

    class Models:
        RasScheme = apps.get_model("budgets", "RasScheme")
        RasQuestion = apps.get_model("budgets", "RasQuestion")
        RasAnswer = apps.get_model("budgets", "RasAnswer")
        RasModifier = apps.get_model("budgets", "RasModifier")
        RasBand = apps.get_model("budgets", "RasBand")

    install_example_scheme(
        models=Models,
        budget_policy=apps.get_model("budgets", "BudgetPolicy"),
        ledger_account=apps.get_model("budgets", "LedgerAccount"),
    )


class Migration(migrations.Migration):
    dependencies = [("budgets", "0002_ledger_database_rules")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
