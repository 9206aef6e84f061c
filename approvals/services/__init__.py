"""Writes of the approvals app: the plan workflow's edges (`workflow`), statutory reviews and the
escalation of overdue reviews (`reviews`). Callers import from here: `from approvals import services`."""

from .reviews import *  # noqa: F403
from .reviews import __all__ as _reviews
from .workflow import *  # noqa: F403
from .workflow import __all__ as _workflow

__all__ = [*_workflow, *_reviews]
