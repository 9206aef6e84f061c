# Notifications point at what they are about by content type and id (accounts names no app above
# it), and get their own table name. Existing plan references are kept as targets.

import django.db.models.deletion
from django.db import migrations, models


def plan_to_target(apps, schema_editor):
    Notification = apps.get_model("accounts", "Notification")
    ContentType = apps.get_model("contenttypes", "ContentType")
    # The model keeps its content type (its permissions); a fresh one made meanwhile gives way.
    old = ContentType.objects.filter(app_label="approvals", model="notification").first()
    if old is not None:
        fresh = ContentType.objects.filter(app_label="accounts", model="notification").first()
        if fresh is not None:
            apps.get_model("auth", "Permission").objects.filter(content_type=fresh).delete()
            fresh.delete()
        ContentType.objects.filter(pk=old.pk).update(app_label="accounts")
    if not Notification.objects.filter(plan__isnull=False).exists():
        return
    plan_type, _ = ContentType.objects.get_or_create(app_label="careplans", model="careplan")
    Notification.objects.filter(plan__isnull=False).update(target_type=plan_type, target_id=models.F("plan_id"))


def target_to_plan(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="approvals", model="notification").exists():
        ContentType.objects.filter(app_label="accounts", model="notification").update(app_label="approvals")
    Notification = apps.get_model("accounts", "Notification")
    Notification.objects.filter(target_type__app_label="careplans", target_type__model="careplan").update(
        plan_id=models.F("target_id")
    )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_notification'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('approvals', '0004_move_out_payments_and_notifications'),
    ]

    operations = [
        migrations.AddField(
            model_name='notification',
            name='target_id',
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='notification',
            name='target_type',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype'),
        ),
        migrations.RunPython(plan_to_target, target_to_plan),
        migrations.RemoveField(
            model_name='notification',
            name='plan',
        ),
        migrations.RenameIndex(
            model_name='notification',
            new_name='accounts_notification_unread',
            old_name='approvals_n_recipie_be5954_idx',
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(fields=['target_type', 'target_id'], name='accounts_notification_target'),
        ),
        migrations.AlterModelTable(
            name='notification',
            table=None,
        ),
    ]
