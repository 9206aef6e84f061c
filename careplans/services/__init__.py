"""Writes about care plans. Callers import from here: `from careplans import services`."""

from .plans import *  # noqa: F403
from .plans import __all__ as _plan_names

__all__ = [*_plan_names]
