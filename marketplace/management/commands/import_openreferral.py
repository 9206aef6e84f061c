"""`manage.py import_openreferral FILE`: import another directory's Open Referral UK services."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from marketplace.openreferral.importer import DirectoryFileInvalid, import_openreferral


class Command(BaseCommand):
    help = (
        "Import services published in the Open Referral UK standard: the JSON of a directory's "
        "/services/{id} bodies, one per line or as a list. The whole file is checked before anything is "
        "written; new providers arrive pending checks, and re-importing updates the same records."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The JSON file (UTF-8).")

    def handle(self, *args, file: Path, **options):
        def progress(done: int, total: int, stage: str) -> None:
            self.stderr.write(f"{done:,} of {total:,} services {stage}", style_func=str)

        try:
            report = import_openreferral(text_or_path=file, actor=None, progress=progress)
        except DirectoryFileInvalid as exc:
            problems = [m for msgs in exc.errors.values() for m in msgs] or [exc.message]
            raise CommandError(f"{file} was not imported; nothing was written:\n  " + "\n  ".join(problems)) from exc
        self.stdout.write(self.style.SUCCESS(f"{file}: {report.summary()}"))
        for reason in report.skipped:
            self.stdout.write(f"  skipped {reason}")
