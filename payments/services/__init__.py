"""Writes of the payments app: direct payment and individual service fund schedules (`funds`),
invoices (`invoices`: submission; `invoice_decisions`: confirm, dispute, cancel, auto-confirm),
payment runs and payments (`runs`; paid in batches by `batches`), reconciliation, recovery of
surplus (`recoveries`), payee accounts and onboarding (`payees`) and gateway webhooks (`webhooks`).
Callers import from here: `from payments import services`."""

from .batches import *  # noqa: F403
from .batches import __all__ as _batches
from .cards import *  # noqa: F403
from .cards import __all__ as _cards
from .contributions import *  # noqa: F403
from .contributions import __all__ as _contributions
from .funds import *  # noqa: F403
from .funds import __all__ as _funds
from .invoice_decisions import *  # noqa: F403
from .invoice_decisions import __all__ as _decisions
from .invoices import *  # noqa: F403
from .invoices import __all__ as _invoices
from .payees import *  # noqa: F403
from .payees import __all__ as _payees
from .reconciliation import *  # noqa: F403
from .reconciliation import __all__ as _reconciliation
from .recoveries import *  # noqa: F403
from .recoveries import __all__ as _recoveries
from .runs import *  # noqa: F403
from .runs import __all__ as _runs
from .spending import *  # noqa: F403
from .spending import __all__ as _spending
from .webhooks import *  # noqa: F403
from .webhooks import __all__ as _webhooks

__all__ = [
    *_funds,
    *_invoices,
    *_decisions,
    *_runs,
    *_batches,
    *_reconciliation,
    *_payees,
    *_webhooks,
    *_spending,
    *_recoveries,
    *_cards,
    *_contributions,
]
