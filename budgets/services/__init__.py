"""Every write in the budgets app, by concern: `schemes`, `assessments`, `budgets`, `ledger`, `whatif`."""
