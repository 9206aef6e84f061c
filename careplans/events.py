"""What happens to a plan that apps above careplans may need to act on, without the app that
makes it happen importing them (approvals and payments sit side by side and never import each
other; docs/architecture.md, "Events").

- `plan_approved(plan_id)`: sent by the approval workflow after the transaction that approved a
  plan (or a new version of it) has committed. Payments makes or re-makes the plan's load
  schedule for its direct payments and individual service funds. Receivers only queue work; the
  work itself is a service, safe to run again (a daily job catches anything a lost message missed).
"""

from django.dispatch import Signal

plan_approved = Signal()
