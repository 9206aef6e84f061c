"""Writes of the approvals capability: the plan workflow (`workflow`), invoice confirmation
(`invoices`) and payments (`payments`). Callers import from here: `from approvals import services`."""

from .invoices import *  # noqa: F403
from .invoices import __all__ as _invoices
from .payments import *  # noqa: F403
from .payments import __all__ as _payments
from .workflow import *  # noqa: F403
from .workflow import __all__ as _workflow

__all__ = [*_workflow, *_invoices, *_payments]
