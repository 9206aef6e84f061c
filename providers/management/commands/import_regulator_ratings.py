"""`manage.py import_regulator_ratings FILE`: set providers' CQC overall ratings from a CSV."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from providers.regulator_import import RegulatorFileInvalid, import_regulator_ratings


class Command(BaseCommand):
    help = (
        "Set the CQC overall rating and publication date of providers already recorded, from a CSV with the "
        "columns Location ID, Overall rating and Publication date. The whole file is checked before anything "
        "is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8).")

    def handle(self, *args, file: Path, **options):
        def progress(done: int, total: int, stage: str) -> None:
            self.stderr.write(f"{done:,} of {total:,} rows {stage}", style_func=str)

        try:
            report = import_regulator_ratings(text_or_path=file, actor=None, progress=progress)
        except RegulatorFileInvalid as exc:
            problems = [m for msgs in exc.errors.values() for m in msgs] or [exc.message]
            raise CommandError(f"{file} was not imported; nothing was written:\n  " + "\n  ".join(problems)) from exc
        self.stdout.write(self.style.SUCCESS(f"{file}: {report.summary()}"))
        for reason in report.skipped:
            self.stdout.write(f"  skipped {reason}")
