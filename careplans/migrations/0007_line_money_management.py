# Each line says how its money is managed; an own-arrangement line has no service or provider.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('careplans', '0006_careplan_paid_amount'),
        ('providers', '0006_stripe_account_moved_to_payments'),
    ]

    operations = [
        migrations.AddField(
            model_name='planline',
            name='money_management',
            field=models.CharField(choices=[('council_managed', 'Council-managed account'), ('direct_payment', 'Direct payment to me'), ('individual_service_fund', 'Individual service fund held by a provider')], default='council_managed', max_length=30),
        ),
        migrations.AlterField(
            model_name='planline',
            name='provider',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='plan_lines', to='providers.provider'),
        ),
        migrations.AlterField(
            model_name='planline',
            name='service',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='plan_lines', to='providers.serviceoffering'),
        ),
        migrations.AddConstraint(
            model_name='planline',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('provider__isnull', True), ('service__isnull', True)), models.Q(('provider__isnull', False), ('service__isnull', False)), _connector='OR'), name='line_service_and_provider_together'),
        ),
        migrations.AddConstraint(
            model_name='planline',
            constraint=models.CheckConstraint(condition=models.Q(('service__isnull', False), ('money_management', 'direct_payment'), _connector='OR'), name='line_own_arrangement_is_direct_payment'),
        ),
    ]
