"""`manage.py reconcile_payments RUN_ID [RUN_ID ...]`: compare each payment run with the gateway's
transfers and list every difference; exits 1 when there is any (for a scheduled check)."""

from django.core.management.base import BaseCommand, CommandError

from payments.gateways import GatewayError
from payments.models import PaymentRun
from payments.services import payment_run_reconcile


class Command(BaseCommand):
    help = "Compare payment runs with the gateway's transfers; list every difference (exit 1 if any)."

    def add_arguments(self, parser):
        parser.add_argument("run_ids", nargs="*", type=int, help="Runs to check (default: the latest).")

    def handle(self, *args, run_ids, **options):
        runs = (
            list(PaymentRun.objects.filter(pk__in=run_ids).order_by("pk"))
            if run_ids
            else list(PaymentRun.objects.order_by("-pk")[:1])
        )
        missing = set(run_ids) - {run.pk for run in runs}
        if missing:
            raise CommandError(f"No payment run {', '.join(map(str, sorted(missing)))}.")
        if not runs:
            self.stdout.write("There are no payment runs yet.")
            return
        found = 0
        for run in runs:
            try:
                differences = payment_run_reconcile(run=run)
            except GatewayError as exc:
                raise CommandError(f"Run {run.pk}: the gateway could not be asked: {exc.message}") from exc
            if not differences:
                self.stdout.write(self.style.SUCCESS(f"Run {run.pk}: no differences ({run.payment_count} payments)."))
            for d in differences:
                self.stdout.write(
                    f"Run {run.pk}: payment {d.payment_id or '–'}, transfer {d.transfer_id or '–'}: {d.problem}"
                )
            found += len(differences)
        if found:
            raise SystemExit(1)
