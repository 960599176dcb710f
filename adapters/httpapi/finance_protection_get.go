package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// protectionResponse is what the platform is carrying for protected
// sellers now.
type protectionResponse struct {
	AsOf time.Time `json:"as_of"`
	// Advanced is the platform_protection balance per currency: refunds
	// made whose charge to a protected seller is not confirmed yet.
	Advanced []balanceDTO `json:"advanced"`
	// OpenCharges counts protected charges still open or contested.
	OpenCharges int64 `json:"open_charges"`
}

func (a *api) getProtection(c echo.Context) error {
	p, err := a.Finance.Protection(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, protectionResponse{AsOf: a.Now().UTC(), Advanced: balances(p.Advanced), OpenCharges: p.Open})
}
