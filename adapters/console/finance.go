package console

// financeRoutes registers the finance pages (chargebacks, statements,
// reconciliation runs, the trial balance) for RoleFinance and RoleAdmin;
// none yet.
func (c *console) financeRoutes() {}
