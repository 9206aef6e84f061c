"""`manage.py import_cqc_directory FILE`: create or update providers from the CQC care directory CSV."""

from providers.regulator_import import import_cqc_directory

from ._regulator_file import RegulatorFileCommand


class Command(RegulatorFileCommand):
    help = (
        "Create or update providers (pending checks) from the Care Quality Commission's care directory CSV, "
        "keyed by CQC location ID. The whole file is checked before anything is written."
    )
    run_import = staticmethod(import_cqc_directory)
