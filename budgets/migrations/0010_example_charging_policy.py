"""Ship a clearly labelled example charging policy so the financial assessment API works at once.
Its figures follow England's national defaults (capital limits £14,250 and £23,250, £1 a week per
£250, a 100% taper); its Minimum Income Guarantee amounts are illustrative. A council enters its own
policy before using Cairn for real."""

import datetime
from decimal import Decimal

from django.db import migrations

EXAMPLE_MIG = {
    "18_to_24": "136.00",
    "18_to_24_couple": "106.00",
    "25_to_pension_age": "164.00",
    "25_to_pension_age_couple": "128.00",
    "pension_age": "228.70",
    "pension_age_couple": "174.60",
}


def add_example(apps, schema_editor):
    ChargingPolicy = apps.get_model("budgets", "ChargingPolicy")
    if ChargingPolicy.objects.exists():
        return
    ChargingPolicy.objects.create(
        name="Example charging policy (check every figure before use)",
        effective_from=datetime.date(2020, 4, 1),
        lower_capital_limit=Decimal("14250"),
        lower_capital_limit_currency="GBP",
        upper_capital_limit=Decimal("23250"),
        upper_capital_limit_currency="GBP",
        tariff_step=Decimal("250"),
        tariff_step_currency="GBP",
        taper_percent=Decimal("100"),
        minimum_income_guarantee=EXAMPLE_MIG,
        disregarded_income=["earnings", "pip_mobility", "dla_mobility"],
        is_example=True,
    )


def remove_example(apps, schema_editor):
    apps.get_model("budgets", "ChargingPolicy").objects.filter(is_example=True, assessments__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("budgets", "0009_charging")]

    operations = [migrations.RunPython(add_example, remove_example)]
