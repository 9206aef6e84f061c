# Existing lines take their plan's choice of how the money is managed, except lines already
# invoiced: the council paid those providers, so they stay council-managed.

from django.db import migrations


def lines_follow_their_plan(apps, schema_editor):
    PlanLine = apps.get_model("careplans", "PlanLine")
    Invoice = apps.get_model("payments", "Invoice")
    invoiced = Invoice.objects.values("line_id")
    for choice in ("direct_payment", "individual_service_fund"):
        PlanLine.objects.filter(plan__money_management=choice).exclude(pk__in=invoiced).update(money_management=choice)


class Migration(migrations.Migration):

    dependencies = [
        ('careplans', '0007_line_money_management'),
        ('payments', '0002_payee_accounts_and_own_tables'),
    ]

    operations = [migrations.RunPython(lines_follow_their_plan, migrations.RunPython.noop)]
