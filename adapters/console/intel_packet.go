package console

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
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

// Headers the packet download carries, as the API's does.
const (
	headerSignature = "Claimsd-Signature"
	headerPacketID  = "Claimsd-Packet-Id"
)

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
			return packetCSV(cs, p)
		}
		return packetJSON(cs, p, v.String())
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
	h.Set(headerSignature, fmt.Sprintf(`keyid="%s", alg="ed25519", sig="%s"`, p.KeyID, base64.StdEncoding.EncodeToString(p.Signature)))
	h.Set(headerPacketID, p.ID)
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

// packetNotice heads the JSON packet, as the API's does.
const packetNotice = "Confirmed counterfeit claims: shoppers refunded for goods charged back to the seller as counterfeit " +
	"(final, or upheld on contest) or authenticated as counterfeit by the brand's rights holder. Shoppers are counted, never named. " +
	"This file is signed with Ed25519; the signature and the public key (GET /v1/intelligence/signing-key) show it unaltered."

// The packet's JSON, field for field as the API writes it.
type (
	packetAmount struct {
		Currency string `json:"currency"`
		Amount   int64  `json:"amount"`
	}
	packetEvidence struct {
		Kind string `json:"kind"`
		URL  string `json:"url,omitempty"`
	}
	packetVerdict struct {
		Verdict     string    `json:"verdict"`
		Note        string    `json:"note"`
		DocumentURL *string   `json:"document_url"`
		Revisions   int       `json:"revisions"`
		CreatedAt   time.Time `json:"created_at"`
		UpdatedAt   time.Time `json:"updated_at"`
	}
	packetLine struct {
		ClaimID      string           `json:"claim_id"`
		Line         int              `json:"line"`
		Brand        *string          `json:"brand"`
		SellerID     string           `json:"seller_id"`
		SellerName   string           `json:"seller_name"`
		SKU          string           `json:"sku"`
		ItemName     string           `json:"item_name"`
		Quantity     int64            `json:"quantity"`
		Amount       int64            `json:"amount"`
		Currency     string           `json:"currency"`
		ClaimedAt    time.Time        `json:"claimed_at"`
		Status       string           `json:"status"`
		ChargeStatus string           `json:"charge_status"`
		ConfirmedAt  *time.Time       `json:"confirmed_at"`
		Evidence     []packetEvidence `json:"evidence"`
		Verdict      *packetVerdict   `json:"verdict"`
	}
	packetSeller struct {
		ID        string         `json:"id"`
		Name      string         `json:"name"`
		Verified  bool           `json:"verified"`
		Standing  *string        `json:"standing"`
		Confirmed int64          `json:"confirmed_claims"`
		Amounts   []packetAmount `json:"amounts"`
		FirstSeen *time.Time     `json:"first_seen"`
		LastSeen  *time.Time     `json:"last_seen"`
		Brands    []string       `json:"brands"`
	}
	packetLink struct {
		A    string `json:"a"`
		B    string `json:"b"`
		Kind string `json:"kind"`
		Key  string `json:"key"`
	}
	packetEvent struct {
		Seq  int       `json:"seq"`
		From string    `json:"from"`
		To   string    `json:"to"`
		By   string    `json:"by"`
		Note string    `json:"note"`
		At   time.Time `json:"at"`
	}
	packetCase struct {
		ID        string         `json:"id"`
		Status    string         `json:"status"`
		CreatedAt time.Time      `json:"created_at"`
		UpdatedAt time.Time      `json:"updated_at"`
		Confirmed int64          `json:"confirmed_claims"`
		Amounts   []packetAmount `json:"amounts"`
		FirstSeen *time.Time     `json:"first_seen"`
		LastSeen  *time.Time     `json:"last_seen"`
		Brands    []string       `json:"brands"`
		Sellers   []packetSeller `json:"sellers"`
		Shoppers  *int64         `json:"shoppers,omitempty"`
		Links     []packetLink   `json:"links,omitempty"`
		Events    []packetEvent  `json:"events,omitempty"`
		Claims    []packetLine   `json:"claims,omitempty"`
	}
	packetDoc struct {
		Packet struct {
			ID          string    `json:"id"`
			GeneratedAt time.Time `json:"generated_at"`
			GeneratedBy string    `json:"generated_by"`
			KeyID       string    `json:"signing_key_id"`
			Notice      string    `json:"notice"`
		} `json:"packet"`
		Case packetCase `json:"case"`
	}
)

func packetAmounts(as []intelflow.Amount) []packetAmount {
	out := make([]packetAmount, len(as))
	for i, a := range as {
		out[i] = packetAmount(a)
	}
	return out
}

func newPacketLine(l intelflow.Line) packetLine {
	d := packetLine{ClaimID: l.ClaimID, Line: l.Line, SellerID: l.SellerID, SellerName: l.SellerName, SKU: l.SKU,
		ItemName: l.ItemName, Quantity: l.Quantity, Amount: l.Amount, Currency: l.Currency, ClaimedAt: l.ClaimedAt,
		Status: l.Status, ChargeStatus: l.ChargeStatus, ConfirmedAt: l.ConfirmedAt, Evidence: make([]packetEvidence, len(l.Evidence))}
	if l.BrandID != "" {
		b := l.BrandID
		d.Brand = &b
	}
	for i, e := range l.Evidence {
		d.Evidence[i] = packetEvidence{Kind: e.Kind, URL: e.URL}
	}
	if v := l.Verdict; v != nil {
		d.Verdict = &packetVerdict{Verdict: v.Verdict.String(), Note: v.Note, Revisions: v.Revisions, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
		if v.DocumentURL != "" {
			doc := v.DocumentURL
			d.Verdict.DocumentURL = &doc
		}
	}
	return d
}

// packetJSON writes the case whole, headed by what the packet is and who
// took it.
func packetJSON(cs intelflow.Case, p intelflow.Packet, by string) ([]byte, error) {
	var d packetDoc
	d.Packet.ID, d.Packet.GeneratedAt, d.Packet.GeneratedBy, d.Packet.KeyID, d.Packet.Notice = p.ID, p.GeneratedAt, by, p.KeyID, packetNotice
	c := packetCase{ID: cs.ID, Status: cs.Status.String(), CreatedAt: cs.CreatedAt, UpdatedAt: cs.UpdatedAt,
		Confirmed: cs.Confirmed, Amounts: packetAmounts(cs.Amounts), FirstSeen: cs.FirstSeen, LastSeen: cs.LastSeen,
		Brands: cs.Brands, Sellers: make([]packetSeller, len(cs.Sellers))}
	if c.Brands == nil {
		c.Brands = []string{}
	}
	for i, s := range cs.Sellers {
		c.Sellers[i] = packetSeller{ID: s.ID, Name: s.Name, Verified: s.Verified, Confirmed: s.Confirmed,
			Amounts: packetAmounts(s.Amounts), FirstSeen: s.FirstSeen, LastSeen: s.LastSeen, Brands: s.Brands}
		if s.Standing != "" {
			st := s.Standing
			c.Sellers[i].Standing = &st
		}
	}
	shoppers := cs.Shoppers
	c.Shoppers = &shoppers
	c.Links = make([]packetLink, len(cs.Links))
	for i, l := range cs.Links {
		c.Links[i] = packetLink{A: l.A, B: l.B, Kind: l.Kind, Key: linkKey(l)}
	}
	c.Events = make([]packetEvent, len(cs.Events))
	for i, e := range cs.Events {
		c.Events[i] = packetEvent{Seq: e.Seq, From: e.From.String(), To: e.To.String(), By: e.Actor.String(), Note: e.Note, At: e.At}
	}
	c.Claims = make([]packetLine, len(cs.Lines))
	for i, l := range cs.Lines {
		c.Claims[i] = newPacketLine(l)
	}
	d.Case = c
	b, err := json.MarshalIndent(d, "", "  ")
	return append(b, '\n'), err
}

// lineCSVHeader and lineRecord are a counterfeit line as a CSV record,
// in the brand's download and the CSV packet alike, as the API writes it.
var lineCSVHeader = []string{"claim_id", "line", "brand", "seller_id", "seller_name", "sku", "item_name", "quantity",
	"amount", "currency", "claimed_at", "status", "charge_status", "confirmed_at", "verdict", "evidence_urls"}

func lineRecord(l intelflow.Line) []string {
	confirmed, verdict := "", ""
	if l.ConfirmedAt != nil {
		confirmed = l.ConfirmedAt.Format(time.RFC3339)
	}
	if l.Verdict != nil {
		verdict = l.Verdict.Verdict.String()
	}
	urls := make([]string, len(l.Evidence))
	for i, e := range l.Evidence {
		urls[i] = e.URL
	}
	return []string{export.Cell(l.ClaimID), strconv.Itoa(l.Line), export.Cell(l.BrandID), export.Cell(l.SellerID),
		export.Cell(l.SellerName), export.Cell(l.SKU), export.Cell(l.ItemName), strconv.FormatInt(l.Quantity, 10),
		strconv.FormatInt(l.Amount, 10), l.Currency, l.ClaimedAt.Format(time.RFC3339), l.Status, l.ChargeStatus,
		confirmed, verdict, export.Cell(strings.Join(urls, " "))}
}

// packetCSV writes the case's confirmed lines, after a record naming the
// packet.
func packetCSV(cs intelflow.Case, p intelflow.Packet) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	_ = w.Write([]string{"# packet " + p.ID, "case " + cs.ID, "generated " + p.GeneratedAt.Format(time.RFC3339), "key " + p.KeyID})
	_ = w.Write(lineCSVHeader)
	for _, l := range cs.Lines {
		_ = w.Write(lineRecord(l))
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
