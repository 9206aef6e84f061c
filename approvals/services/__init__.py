"""Writes of the approvals app: the plan workflow. Callers import from here: `from approvals import services`."""

from .workflow import *  # noqa: F403
from .workflow import __all__ as _workflow

__all__ = [*_workflow]
