"""Pages of the approvals capability: the plan workflow (`workflow`) and invoices and payments
(`payments`)."""

from .payments import *  # noqa: F403
from .workflow import *  # noqa: F403
