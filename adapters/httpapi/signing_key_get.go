package httpapi

import (
	"encoding/base64"
	"net/http"

	"github.com/labstack/echo/v4"
)

func (a *api) getSigningKey(c echo.Context) error {
	s := a.Intel.Signer()
	return c.JSON(http.StatusOK, map[string]any{
		"key_id": s.KeyID(), "algorithm": "ed25519",
		"public_key":     base64.StdEncoding.EncodeToString(s.PublicKey()),
		"public_key_pem": s.PublicKeyPEM(),
	})
}
