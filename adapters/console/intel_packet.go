package console

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

// A case packet leaves the console as one zip file: the packet (JSON or
// CSV), its detached Ed25519 signature (the raw 64 bytes), the public key
// and how to check one with the other. Each packet is made afresh (its id
// and time are in it, and in the access log), so a second request would
// be another packet: the signature can only travel with its own bytes.
// The packet's bytes are laid out as the API's (GET
// /v1/intelligence/cases/{id}/packet) and signed by the same
// intelflow.Service.Packet.

// casePacket sends the case's packet in the format asked for (json, the
// default, or csv) with its signature, zipped.
func (c *console) casePacket(ec echo.Context) error {
	ec = intelContext(ec)
	format := ec.QueryParam("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		return validation.New("format", "invalid_format", `must be "json" or "csv"`)
	}
	v := viewerOf(ec)
	id := ec.Param("id")
	p, err := c.Intel.Packet(ec.Request().Context(), v, id, format, func(cs intelflow.Case, p intelflow.Packet) ([]byte, error) {
		if format == "csv" {
			return export.PacketCSV(cs, p)
		}
		return export.PacketJSON(cs, p, v.String())
	})
	if err != nil {
		return err
	}
	name := export.Filename("packet-" + id + "." + format)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := []struct {
		name string
		body []byte
	}{
		{name, p.Body},
		{name + ".sig", p.Signature},
		{"signing-key.pem", []byte(c.Intel.Signer().PublicKeyPEM())},
		{"VERIFY.txt", []byte(verifyText(name, p))},
	}
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: p.GeneratedAt})
		if err != nil {
			return err
		}
		if _, err := w.Write(f.body); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	h := ec.Response().Header()
	h.Set(export.HeaderSignature, export.SignatureHeader(p))
	h.Set(export.HeaderPacketID, p.ID)
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+export.Filename("packet-"+id+"-"+format+".zip")+`"`)
	return ec.Blob(http.StatusOK, "application/zip", buf.Bytes())
}

// verifyText tells the recipient what the zip holds and how to check it.
func verifyText(name string, p intelflow.Packet) string {
	return fmt.Sprintf(`Case packet %s

%s          the packet, exactly as signed
%s.sig      its Ed25519 signature (64 raw bytes)
signing-key.pem  the public key that checks it

Packet id:   %s
Generated:   %s
Key id:      %s
SHA-256:     %s
Signature:   %s (base64)

Check it with OpenSSL 3:

  openssl pkeyutl -verify -pubin -inkey signing-key.pem -rawin -in %s -sigfile %s.sig

A changed byte in the packet makes the check fail. The key id names the
key: compare it with the one the engine publishes.
`, p.ID, name, name, p.ID, p.GeneratedAt.Format(time.RFC3339), p.KeyID, p.SHA256,
		base64.StdEncoding.EncodeToString(p.Signature), name, name)
}
