# The field's data was carried over by payments 0002 first.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0002_payee_accounts_and_own_tables'),
        ('approvals', '0004_move_out_payments_and_notifications'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='workflowpolicy',
            name='invoice_auto_confirm_days',
        ),
    ]
