# Invoices moved to the payments app (state only: same table).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('careplans', '0004_planline_copied_from'),
        ('approvals', '0004_move_out_payments_and_notifications'),
        ('payments', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='Invoice')],
            database_operations=[],
        ),
    ]
