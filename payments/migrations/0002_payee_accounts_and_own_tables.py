# The moved tables get the payments app's names; providers' Stripe accounts become payee accounts;
# the invoice auto-confirmation days move from the workflow policy; each plan learns what has been
# paid against it (so careplans no longer reads invoices). Data is carried over, nothing is lost.

import django.db.models.deletion
from django.conf import settings
from decimal import Decimal

from django.db import migrations, models


MOVED = [("careplans", "invoice"), ("approvals", "payment"), ("approvals", "paymentrun"),
         ("approvals", "stripeevent"), ("budgets", "ledgergatewaytransfer")]


def move_content_type(apps, old_app, new_app, model):
    """The audit trail, the state logs, permissions and the admin's log point at a model by content
    type: the moved model keeps its own (and so its history) by renaming the row. When the new one
    already exists (a `migrate` between the two steps made it, with its permissions), it is still
    empty of history, so it gives way: it is deleted and the old one renamed. The audit trail is
    append-only, so its rows are never re-pointed."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    old = ContentType.objects.filter(app_label=old_app, model=model).first()
    if old is None:
        return
    new = ContentType.objects.filter(app_label=new_app, model=model).first()
    if new is not None:
        if _has_history(apps, new):
            return  # both have history: leave them; `remove_stale_contenttypes` must not be run
        apps.get_model("auth", "Permission").objects.filter(content_type=new).delete()
        new.delete()
    ContentType.objects.filter(pk=old.pk).update(app_label=new_app)


def _has_history(apps, content_type) -> bool:
    for app_label, model_name, field in [
        ("accounts", "AuditEvent", "target_type"),
        ("django_fsm_log", "StateLog", "content_type"),
        ("admin", "LogEntry", "content_type"),
    ]:
        try:
            related = apps.get_model(app_label, model_name)
        except LookupError:
            continue
        if related.objects.filter(**{field: content_type}).exists():
            return True
    return False


def rename_content_types(apps, schema_editor, *, backwards=False):
    for old_app, model in MOVED:
        source, target = ("payments", old_app) if backwards else (old_app, "payments")
        move_content_type(apps, source, target, model)


def carry_over(apps, schema_editor):
    rename_content_types(apps, schema_editor)
    Provider = apps.get_model("providers", "Provider")
    PayeeAccount = apps.get_model("payments", "PayeeAccount")
    # An id the embedded gateway made up (`ledger_acct_…`) was never a Stripe account.
    stripe_accounts = Provider.objects.exclude(stripe_account_id="").exclude(stripe_account_id__startswith="ledger_")
    PayeeAccount.objects.bulk_create(
        [
            PayeeAccount(provider_id=pk, gateway="stripe", account_id=account, ready=onboarded)
            for pk, account, onboarded in stripe_accounts.values_list("pk", "stripe_account_id", "stripe_onboarded")
        ]
    )
    WorkflowPolicy = apps.get_model("approvals", "WorkflowPolicy")
    InvoicePolicy = apps.get_model("payments", "InvoicePolicy")
    days = WorkflowPolicy.objects.filter(pk=1).values_list("invoice_auto_confirm_days", flat=True).first()
    InvoicePolicy.objects.create(pk=1, auto_confirm_days=14 if days is None else days)
    Invoice = apps.get_model("payments", "Invoice")
    CarePlan = apps.get_model("careplans", "CarePlan")
    paid = Invoice.objects.filter(status="paid").values("plan_id").annotate(total=models.Sum("amount"))
    for row in paid:
        CarePlan.objects.filter(pk=row["plan_id"]).update(paid_amount=row["total"] or Decimal(0))


def carry_back(apps, schema_editor):
    rename_content_types(apps, schema_editor, backwards=True)
    Provider = apps.get_model("providers", "Provider")
    PayeeAccount = apps.get_model("payments", "PayeeAccount")
    for account in PayeeAccount.objects.filter(provider__isnull=False, gateway="stripe"):
        Provider.objects.filter(pk=account.provider_id).update(
            stripe_account_id=account.account_id, stripe_onboarded=account.ready
        )
    WorkflowPolicy = apps.get_model("approvals", "WorkflowPolicy")
    InvoicePolicy = apps.get_model("payments", "InvoicePolicy")
    policy = InvoicePolicy.objects.filter(pk=1).first()
    if policy is not None:
        WorkflowPolicy.objects.filter(pk=1).update(invoice_auto_confirm_days=policy.auto_confirm_days)


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('admin', '0003_logentry_add_action_flag_choices'),
        ('django_fsm_log', '0004_auto_20190131_0341'),
        ('providers', '0005_provider_stripe_account_id_provider_stripe_onboarded'),
        ('approvals', '0004_move_out_payments_and_notifications'),
        ('budgets', '0005_move_out_ledgergatewaytransfer'),
        ('careplans', '0006_careplan_paid_amount'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='InvoicePolicy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('auto_confirm_days', models.PositiveSmallIntegerField(default=14, help_text='Days after which an invoice nobody confirmed or disputed is confirmed automatically.')),
            ],
            options={
                'verbose_name_plural': 'invoice policy',
            },
        ),
        migrations.CreateModel(
            name='PayeeAccount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('gateway', models.CharField(max_length=20)),
                ('account_id', models.CharField(db_index=True, max_length=60)),
                ('ready', models.BooleanField(default=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['id'],
            },
        ),
        migrations.RenameIndex(
            model_name='invoice',
            new_name='payments_invoice_provider',
            old_name='careplans_i_provide_40ea8b_idx',
        ),
        migrations.RenameIndex(
            model_name='invoice',
            new_name='payments_invoice_status',
            old_name='careplans_i_status_d20b02_idx',
        ),
        migrations.RenameIndex(
            model_name='payment',
            new_name='payments_payment_run',
            old_name='approvals_p_run_id_cdf528_idx',
        ),
        migrations.RenameIndex(
            model_name='payment',
            new_name='payments_payment_provider',
            old_name='approvals_p_provide_f525b3_idx',
        ),
        migrations.AlterModelTable(
            name='invoice',
            table=None,
        ),
        migrations.AlterModelTable(
            name='ledgergatewaytransfer',
            table=None,
        ),
        migrations.AlterModelTable(
            name='payment',
            table=None,
        ),
        migrations.AlterModelTable(
            name='paymentrun',
            table=None,
        ),
        migrations.AlterModelTable(
            name='stripeevent',
            table=None,
        ),
        migrations.AddField(
            model_name='payeeaccount',
            name='person',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payee_accounts', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='payeeaccount',
            name='provider',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payee_accounts', to='providers.provider'),
        ),
        migrations.AddConstraint(
            model_name='payeeaccount',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('provider__isnull', False), ('person__isnull', True)), models.Q(('provider__isnull', True), ('person__isnull', False)), _connector='OR'), name='payee_account_one_payee'),
        ),
        migrations.AddConstraint(
            model_name='payeeaccount',
            constraint=models.UniqueConstraint(condition=models.Q(('provider__isnull', False)), fields=('provider', 'gateway'), name='payee_account_provider_once'),
        ),
        migrations.AddConstraint(
            model_name='payeeaccount',
            constraint=models.UniqueConstraint(condition=models.Q(('person__isnull', False)), fields=('person', 'gateway'), name='payee_account_person_once'),
        ),
        migrations.AddConstraint(
            model_name='payeeaccount',
            constraint=models.UniqueConstraint(fields=('gateway', 'account_id'), name='payee_account_id_unique'),
        ),
        migrations.RunPython(carry_over, carry_back),
    ]
