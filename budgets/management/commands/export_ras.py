"""`manage.py export_ras [--name N --version V] [--format yaml|json] [--output FILE]`."""

import json
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from budgets.exceptions import NoActiveScheme
from budgets.models import RasScheme
from budgets.selectors import active_scheme
from budgets.services.schemes import scheme_export


class Command(BaseCommand):
    help = "Export a RAS scheme (by default the one in force today) as YAML or JSON, ready to re-import."

    def add_arguments(self, parser):
        parser.add_argument("--name")
        parser.add_argument("--scheme-version", type=int, dest="scheme_version")
        parser.add_argument("--format", choices=["yaml", "json"], default="yaml")
        parser.add_argument("--output", type=Path, help="File to write (default: standard output).")

    def handle(self, *args, name, scheme_version, format, output, **options):
        if name or scheme_version:
            scheme = RasScheme.objects.filter(
                **({"name": name} if name else {}), **({"version": scheme_version} if scheme_version else {})
            ).first()
            if scheme is None:
                raise CommandError("No scheme with that name and version.")
        else:
            try:
                scheme = active_scheme()
            except NoActiveScheme as exc:
                raise CommandError(exc.message) from exc
        data = scheme_export(scheme=scheme)
        text = (
            json.dumps(data, indent=2, ensure_ascii=False) + "\n"
            if format == "json"
            else yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        )
        if output:
            output.write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {scheme} to {output}.")
        else:
            self.stdout.write(text, ending="")
