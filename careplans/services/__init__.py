"""Writes about care plans (`plans`) and the invoices providers send against plan lines
(`invoices`). Callers import from here: `from careplans import services`."""

from .invoices import *  # noqa: F403
from .invoices import __all__ as _invoice_names
from .plans import *  # noqa: F403
from .plans import __all__ as _plan_names

__all__ = [*_plan_names, *_invoice_names]
