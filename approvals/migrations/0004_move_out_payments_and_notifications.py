# Payments moved to the payments app and notifications to accounts (state only: same tables).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0003_stripeevent_workflowpolicy_invoice_auto_confirm_days_and_more'),
        ('accounts', '0003_notification'),
        ('payments', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='Payment'),
                migrations.DeleteModel(name='PaymentRun'),
                migrations.DeleteModel(name='StripeEvent'),
                migrations.DeleteModel(name='Notification'),
            ],
            database_operations=[],
        ),
    ]
