"""`manage.py import_ras FILE [--publish]`: load a RAS scheme version from YAML or JSON."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from budgets.exceptions import SchemeInvalid
from budgets.ras_io import MAX_FILE_CHARS, SchemeFileErrors, decode_scheme_file
from budgets.services.schemes import scheme_import


class Command(BaseCommand):
    help = "Import a RAS scheme version from a YAML or JSON file (checked whole before anything is written)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--publish", action="store_true", help="Publish it at once (it can then never change).")

    def handle(self, *args, file: Path, publish: bool, **options):
        try:
            with file.open("rb") as handle:
                # One byte more than any scheme may hold is enough to refuse a larger file unread.
                content = handle.read(4 * MAX_FILE_CHARS + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        try:
            text = decode_scheme_file(content)  # names the line of a byte that is not UTF-8
        except SchemeFileErrors as exc:
            raise CommandError(f"{file} was not imported; nothing was written:\n  " + "\n  ".join(exc.errors)) from None
        try:
            scheme = scheme_import(actor=None, text=text, publish=publish)
        except SchemeInvalid as exc:
            problems = [m for msgs in exc.errors.values() for m in msgs] or [exc.message]
            raise CommandError(f"{file} was not imported; nothing was written:\n  " + "\n  ".join(problems)) from exc
        self.stdout.write(self.style.SUCCESS(f"Imported {scheme} with {scheme.questions.count()} questions."))
