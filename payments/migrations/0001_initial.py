# The payments app takes over models that lived in careplans, approvals and budgets. Their tables
# stay where they are for this step (state only); 0002 renames them, so a database with data
# upgrades in place.

import django.db.models.deletion
import django_fsm
import djmoney.models.fields
import djmoney.money
import payments.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('approvals', '0003_stripeevent_workflowpolicy_invoice_auto_confirm_days_and_more'),
        ('budgets', '0004_ledgergatewaytransfer'),
        ('careplans', '0004_planline_copied_from'),
        ('providers', '0005_provider_stripe_account_id_provider_stripe_onboarded'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Invoice',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period_start', models.DateField()),
                        ('period_end', models.DateField()),
                        ('units', models.DecimalField(decimal_places=2, max_digits=8)),
                        ('unit_price_currency', djmoney.models.fields.CurrencyField(choices=[('GBP', 'GBP')], default='GBP', editable=False, max_length=3)),
                        ('unit_price', djmoney.models.fields.MoneyField(currency_choices=[('GBP', 'GBP')], decimal_places=2, max_digits=14)),
                        ('amount_currency', djmoney.models.fields.CurrencyField(choices=[('GBP', 'GBP')], default='GBP', editable=False, max_length=3)),
                        ('amount', djmoney.models.fields.MoneyField(currency_choices=[('GBP', 'GBP')], decimal_places=2, max_digits=14)),
                        ('status', django_fsm.FSMField(choices=[('submitted', 'Waiting for confirmation'), ('confirmed', 'Confirmed'), ('disputed', 'Disputed'), ('paid', 'Paid'), ('cancelled', 'Cancelled')], db_index=True, default='submitted', max_length=50, protected=True)),
                        ('reference', models.CharField(blank=True, help_text="The provider's own invoice number.", max_length=60)),
                        ('supporting_file', models.FileField(blank=True, upload_to=payments.models._invoice_file_path)),
                        ('supporting_file_name', models.CharField(blank=True, max_length=200)),
                        ('supporting_file_type', models.CharField(blank=True, max_length=40)),
                        ('submitted_at', models.DateTimeField(auto_now_add=True)),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('confirmed_automatically', models.BooleanField(default=False)),
                        ('dispute_reason', models.TextField(blank=True)),
                        ('paid_at', models.DateTimeField(blank=True, null=True)),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('line', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='invoices', to='careplans.planline')),
                        ('plan', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='invoices', to='careplans.careplan')),
                        ('provider', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='invoices', to='providers.provider')),
                        ('submitted_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'careplans_invoice',
                        'ordering': ['-submitted_at', '-id'],
                        'indexes': [models.Index(fields=['provider', 'status'], name='careplans_i_provide_40ea8b_idx'), models.Index(fields=['status', 'submitted_at'], name='careplans_i_status_d20b02_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('period_end__gte', models.F('period_start'))), name='invoice_period_in_order'), models.CheckConstraint(condition=models.Q(('units__gt', 0)), name='invoice_units_positive'), models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='invoice_amount_positive'), models.UniqueConstraint(condition=models.Q(('status', 'cancelled'), _negated=True), fields=('line', 'period_start', 'period_end'), name='invoice_not_duplicated')],
                    },
                    bases=(django_fsm.ConcurrentTransitionMixin, django_fsm.FSMModelMixin, models.Model),
                ),
                migrations.CreateModel(
                    name='StripeEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('event_id', models.CharField(max_length=100, unique=True)),
                        ('type', models.CharField(max_length=100)),
                        ('payload', models.JSONField()),
                        ('received_at', models.DateTimeField(auto_now_add=True)),
                        ('processed_at', models.DateTimeField(blank=True, null=True)),
                        ('outcome', models.CharField(blank=True, max_length=300)),
                    ],
                    options={
                        'db_table': 'approvals_stripeevent',
                        'ordering': ['-received_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='PaymentRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('started_at', models.DateTimeField(auto_now_add=True)),
                        ('gateway', models.CharField(max_length=20)),
                        ('payment_count', models.PositiveIntegerField(default=0)),
                        ('total_currency', djmoney.models.fields.CurrencyField(choices=[('GBP', 'GBP')], default='GBP', editable=False, max_length=3)),
                        ('total', djmoney.models.fields.MoneyField(currency_choices=[('GBP', 'GBP')], decimal_places=2, default=djmoney.money.Money(0, 'GBP'), max_digits=14)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('started_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'approvals_paymentrun',
                        'ordering': ['-started_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='Payment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('amount_currency', djmoney.models.fields.CurrencyField(choices=[('GBP', 'GBP')], default='GBP', editable=False, max_length=3)),
                        ('amount', djmoney.models.fields.MoneyField(currency_choices=[('GBP', 'GBP')], decimal_places=2, max_digits=14)),
                        ('status', django_fsm.FSMField(choices=[('pending', 'Waiting to send'), ('sending', 'Sending'), ('paid', 'Paid'), ('failed', 'Failed'), ('reversed', 'Reversed')], db_index=True, default='pending', max_length=50, protected=True)),
                        ('idempotency_key', models.CharField(max_length=100, unique=True)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('last_error', models.CharField(blank=True, max_length=500)),
                        ('transfer_id', models.CharField(blank=True, db_index=True, max_length=60)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('paid_at', models.DateTimeField(blank=True, null=True)),
                        ('reversed_at', models.DateTimeField(blank=True, null=True)),
                        ('budget', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='budgets.personalbudget')),
                        ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='payments.invoice')),
                        ('ledger_transaction', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='budgets.ledgertransaction')),
                        ('provider', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='providers.provider')),
                        ('run', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='payments.paymentrun')),
                    ],
                    options={
                        'db_table': 'approvals_payment',
                        'ordering': ['id'],
                        'indexes': [models.Index(fields=['run', 'status'], name='approvals_p_run_id_cdf528_idx'), models.Index(fields=['provider', 'status'], name='approvals_p_provide_f525b3_idx')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'reversed'), _negated=True), fields=('invoice',), name='one_live_payment_per_invoice'), models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='payment_amount_positive')],
                    },
                    bases=(django_fsm.ConcurrentTransitionMixin, django_fsm.FSMModelMixin, models.Model),
                ),
                migrations.CreateModel(
                    name='LedgerGatewayTransfer',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('transfer_id', models.CharField(max_length=40, unique=True)),
                        ('idempotency_key', models.CharField(max_length=200, unique=True)),
                        ('group', models.CharField(db_index=True, max_length=100)),
                        ('destination', models.CharField(blank=True, max_length=60)),
                        ('amount_currency', djmoney.models.fields.CurrencyField(choices=[('GBP', 'GBP')], default='GBP', editable=False, max_length=3)),
                        ('amount', djmoney.models.fields.MoneyField(currency_choices=[('GBP', 'GBP')], decimal_places=2, max_digits=14)),
                        ('metadata', models.JSONField(blank=True, default=dict)),
                        ('reversed', models.BooleanField(default=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'db_table': 'budgets_ledgergatewaytransfer',
                        'ordering': ['id'],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
