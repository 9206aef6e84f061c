# Filled from paid invoices by payments 0002.

import djmoney.models.fields
import djmoney.money
from decimal import Decimal
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('careplans', '0005_move_out_invoice'),
    ]

    operations = [
        migrations.AddField(
            model_name='careplan',
            name='paid_amount',
            field=djmoney.models.fields.MoneyField(currency_choices=[('GBP', 'GBP')], decimal_places=2, default=djmoney.money.Money(Decimal('0'), 'GBP'), max_digits=14),
        ),
        migrations.AddField(
            model_name='careplan',
            name='paid_amount_currency',
            field=djmoney.models.fields.CurrencyField(choices=[('GBP', 'GBP')], default='GBP', editable=False, max_length=3),
        ),
    ]
