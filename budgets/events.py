"""What happens in the budgets app that apps above it may need to act on, without budgets importing
them (docs/architecture.md, "Events").

- `financial_assessment_recorded(client_id)`: sent after the transaction that recorded a client's
  financial assessment has committed. Payments re-nets the client's unpaid direct payment and
  individual service fund loads with the new contribution. Receivers only queue work; the work is
  a service, safe to run again.
"""

from django.dispatch import Signal

financial_assessment_recorded = Signal()
