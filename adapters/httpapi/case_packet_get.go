package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

// HeaderSignature carries a case packet's detached signature:
// keyid="ed25519:…", alg="ed25519", sig="<base64 of the 64 raw bytes>",
// over the exact bytes of the body.
const HeaderSignature = "Claimsd-Signature"

// HeaderPacketID names the packet in the access log.
const HeaderPacketID = "Claimsd-Packet-Id"

// packetDTO is a case packet: what it is, who took it, and the case.
type packetDTO struct {
	Packet struct {
		ID          string    `json:"id"`
		GeneratedAt time.Time `json:"generated_at"`
		GeneratedBy string    `json:"generated_by"`
		KeyID       string    `json:"signing_key_id"`
		Notice      string    `json:"notice"`
	} `json:"packet"`
	Case caseDetailDTO `json:"case"`
}

const packetNotice = "Confirmed counterfeit claims: shoppers refunded for goods charged back to the seller as counterfeit " +
	"(final, or upheld on contest) or authenticated as counterfeit by the brand's rights holder. Shoppers are counted, never named. " +
	"This file is signed with Ed25519; the signature and the public key (GET /v1/intelligence/signing-key) show it unaltered."

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
			var buf bytes.Buffer
			w := csv.NewWriter(&buf)
			w.UseCRLF = true
			// The packet's own record is as wide as the lines', so
			// that a strict CSV reader (one width per file) reads it.
			head := make([]string, len(lineCSVHeader))
			copy(head, []string{"# packet " + p.ID, "case " + cs.ID, "generated " + p.GeneratedAt.Format(time.RFC3339), "key " + p.KeyID})
			_ = w.Write(head)
			_ = w.Write(lineCSVHeader)
			for _, l := range cs.Lines {
				_ = w.Write(lineRecord(l))
			}
			w.Flush()
			return buf.Bytes(), w.Error()
		}
		var d packetDTO
		d.Packet.ID, d.Packet.GeneratedAt, d.Packet.GeneratedBy, d.Packet.KeyID, d.Packet.Notice = p.ID, p.GeneratedAt, v.String(), p.KeyID, packetNotice
		d.Case = newCaseDetailDTO(cs)
		b, err := json.MarshalIndent(d, "", "  ")
		return append(b, '\n'), err
	})
	if err != nil {
		return queryError(err)
	}
	h := c.Response().Header()
	h.Set(HeaderSignature, fmt.Sprintf(`keyid="%s", alg="ed25519", sig="%s"`, p.KeyID, base64.StdEncoding.EncodeToString(p.Signature)))
	h.Set(HeaderPacketID, p.ID)
	h.Set("Cache-Control", "no-store")
	name := export.Filename("packet-" + c.Param("id") + "." + format)
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	ct := echo.MIMEApplicationJSON
	if asCSV {
		ct = "text/csv; charset=utf-8"
	}
	return c.Blob(http.StatusOK, ct, p.Body)
}
