"""The approvals capability's endpoints: the plan workflow (`workflow`) and invoices, payment runs,
payments, the Stripe webhook and spend statistics (`payments`)."""
