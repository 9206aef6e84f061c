# The field's data was carried over by payments 0002 first.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0002_payee_accounts_and_own_tables'),
        ('providers', '0005_provider_stripe_account_id_provider_stripe_onboarded'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='provider',
            name='stripe_account_id',
        ),
        migrations.RemoveField(
            model_name='provider',
            name='stripe_onboarded',
        ),
    ]
