"""`manage.py import_cqc_directory FILE`: create or update providers from the CQC care directory CSV."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from providers.regulator_import import RegulatorFileInvalid, import_cqc_directory


class Command(BaseCommand):
    help = (
        "Create or update providers (pending checks) from the Care Quality Commission's care directory CSV, "
        "keyed by CQC location ID. The whole file is checked before anything is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8).")

    def handle(self, *args, file: Path, **options):
        def progress(done: int, total: int, stage: str) -> None:
            self.stderr.write(f"{done:,} of {total:,} rows {stage}", style_func=str)

        try:
            report = import_cqc_directory(text_or_path=file, actor=None, progress=progress)
        except RegulatorFileInvalid as exc:
            problems = [m for msgs in exc.errors.values() for m in msgs] or [exc.message]
            raise CommandError(f"{file} was not imported; nothing was written:\n  " + "\n  ".join(problems)) from exc
        self.stdout.write(self.style.SUCCESS(f"{file}: {report.summary()}"))
        for reason in report.skipped:
            self.stdout.write(f"  skipped {reason}")
