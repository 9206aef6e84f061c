"""The default delegated authority (docs/approval-workflow.md): a social worker approves up to £20,000 a year, a team manager without
limit; reviews due in 10 working days; first statutory review after 8 weeks, then every 12 months.
All editable in the admin."""

from decimal import Decimal

from django.db import migrations


def seed(apps, schema_editor):
    ApprovalAuthority = apps.get_model("approvals", "ApprovalAuthority")
    WorkflowPolicy = apps.get_model("approvals", "WorkflowPolicy")
    ApprovalAuthority.objects.get_or_create(
        role="social_worker", defaults={"annual_limit": Decimal("20000"), "annual_limit_currency": "GBP"}
    )
    ApprovalAuthority.objects.get_or_create(role="team_manager", defaults={"annual_limit": None})
    WorkflowPolicy.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
