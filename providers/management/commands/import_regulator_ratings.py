"""`manage.py import_regulator_ratings FILE`: set providers' CQC overall ratings from a CSV."""

from providers.regulator_import import import_regulator_ratings

from ._regulator_file import RegulatorFileCommand


class Command(RegulatorFileCommand):
    help = (
        "Set the CQC overall rating and publication date of providers already recorded, from a CSV with the "
        "columns Location ID, Overall rating and Publication date. The whole file is checked before anything "
        "is written."
    )
    run_import = staticmethod(import_regulator_ratings)
