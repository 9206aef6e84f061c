"""The shared body of the two regulator file commands: check the whole file, write or refuse, report."""

from collections.abc import Callable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from providers.regulator_import import RegulatorFileInvalid


class RegulatorFileCommand(BaseCommand):
    #: the import service: (text_or_path=, actor=, progress=) -> report
    run_import: Callable

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8).")

    def handle(self, *args, file: Path, **options):
        def progress(done: int, total: int, stage: str) -> None:
            self.stderr.write(f"{done:,} of {total:,} rows {stage}", style_func=str)

        try:
            report = self.run_import(text_or_path=file, actor=None, progress=progress)
        except RegulatorFileInvalid as exc:
            problems = [m for msgs in exc.errors.values() for m in msgs] or [exc.message]
            raise CommandError(f"{file} was not imported; nothing was written:\n  " + "\n  ".join(problems)) from exc
        self.stdout.write(self.style.SUCCESS(f"{file}: {report.summary()}"))
        for reason in report.skipped:
            self.stdout.write(f"  skipped {reason}")
