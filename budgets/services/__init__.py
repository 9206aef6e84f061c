"""Every write in the budgets app, by concern: `schemes`, `assessments`, `budgets`, `charging`, `ledger`,
`whatif`."""
