package console

// sellerRoutes registers the sellers' pages (their claims, balance, open
// contest windows, the contest form) for RoleSeller; none yet.
func (c *console) sellerRoutes() {}
