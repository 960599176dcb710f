package console

// shopperRoutes registers the shopper's in-app pages under /app (file a
// claim, follow it) for RoleShopper; none yet.
func (c *console) shopperRoutes() {}
