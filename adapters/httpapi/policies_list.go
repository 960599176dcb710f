package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type policiesResponse struct {
	Policies []policyView `json:"policies"`
}

// listPolicies lists every version, newest first, without documents.
func (a *api) listPolicies(c echo.Context) error {
	vs, err := a.Policies.List(c.Request().Context())
	if err != nil {
		return err
	}
	out := policiesResponse{Policies: make([]policyView, len(vs))}
	for i, v := range vs {
		out.Policies[i] = newPolicyView(v)
	}
	return c.JSON(http.StatusOK, out)
}
