package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

func (a *api) getCasePacket(c echo.Context) error {
	asCSV, err := csvFormat(c)
	if err != nil {
		return queryError(err)
	}
	format := "json"
	if asCSV {
		format = "csv"
	}
	v := viewer(c)
	ctx := intelflow.WithRequestID(c.Request().Context(), c.Response().Header().Get(echo.HeaderXRequestID))
	p, err := a.Intel.Packet(ctx, v, c.Param("id"), format, func(cs intelflow.Case, p intelflow.Packet) ([]byte, error) {
		if asCSV {
			return export.PacketCSV(cs, p)
		}
		return export.PacketJSON(cs, p, v.String())
	})
	if err != nil {
		return queryError(err)
	}
	h := c.Response().Header()
	h.Set(export.HeaderSignature, export.SignatureHeader(p))
	h.Set(export.HeaderPacketID, p.ID)
	h.Set("Cache-Control", "no-store")
	name := export.Filename("packet-" + c.Param("id") + "." + format)
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	ct := echo.MIMEApplicationJSON
	if asCSV {
		ct = "text/csv; charset=utf-8"
	}
	return c.Blob(http.StatusOK, ct, p.Body)
}
