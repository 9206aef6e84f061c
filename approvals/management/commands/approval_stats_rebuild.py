"""`manage.py approval_stats_rebuild [--check]`: work the stored approval-time durations and
figures out again from every plan's history; `--check` compares only (accounts.stats_cache)."""

from accounts.stats_cache import RebuildCommand
from approvals import stats


class Command(RebuildCommand):
    help = "Rebuild the stored approval-time statistics from the plan histories (--check: compare only)."
    what = "approval-time"
    stats = stats
