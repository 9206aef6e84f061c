# The embedded gateway's transfers moved to the payments app (state only: same table).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('budgets', '0004_ledgergatewaytransfer'),
        ('payments', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='LedgerGatewayTransfer')],
            database_operations=[],
        ),
    ]
