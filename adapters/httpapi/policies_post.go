package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
)

// postPolicy stores a policy document, as the policy file holds one
// (adapters/policyfile), as a new draft version. A document that does not
// pass is 422 invalid_policy with every problem in details.problems. The
// document's version is its own key: sending it again is 409
// version_exists, so a retry never makes two versions.
func (a *api) postPolicy(c echo.Context) error {
	var doc json.RawMessage
	if err := decodeJSON(c, &doc); err != nil {
		return err
	}
	if !bytes.HasPrefix(doc, []byte("{")) {
		return newError(http.StatusBadRequest, "invalid_type", "must be an object: the policy document", "")
	}
	v, err := a.Policies.Create(c.Request().Context(), viewer(c), doc)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/policies/"+v.Version)
	return c.JSON(http.StatusCreated, newPolicyView(v))
}
