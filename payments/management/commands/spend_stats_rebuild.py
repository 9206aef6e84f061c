"""`manage.py spend_stats_rebuild [--check]`: work the stored monthly spend totals out again from
every payment; `--check` compares only (accounts.stats_cache)."""

from accounts.stats_cache import RebuildCommand
from payments import stats


class Command(RebuildCommand):
    help = "Rebuild the stored spend statistics from the payments (--check: compare only)."
    what = "spend"
    stats = stats
