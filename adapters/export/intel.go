package export

// Counterfeit intelligence as both doors write it: a counterfeit line (in
// JSON and as a CSV record), a case, and a case's signed packet. The API
// and the console call these, so a packet downloaded from either is laid
// out the same.

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

// Evidence is a link the shopper attached to a claim.
type Evidence struct {
	Kind string `json:"kind"`
	URL  string `json:"url"`
}

type Amount struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

func Amounts(as []intelflow.Amount) []Amount {
	out := make([]Amount, len(as))
	for i, a := range as {
		out[i] = Amount{Currency: a.Currency, Amount: a.Amount}
	}
	return out
}

type LineVerdict struct {
	Verdict     string    `json:"verdict"`
	Note        string    `json:"note"`
	DocumentURL *string   `json:"document_url"`
	Revisions   int       `json:"revisions"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Line is one line of a counterfeit claim: the seller, the
// goods, the money, the shopper's evidence; never the shopper.
type Line struct {
	ClaimID      string       `json:"claim_id"`
	Line         int          `json:"line"`
	Brand        *string      `json:"brand"`
	SellerID     string       `json:"seller_id"`
	SellerName   string       `json:"seller_name"`
	SKU          string       `json:"sku"`
	ItemName     string       `json:"item_name"`
	Quantity     int64        `json:"quantity"`
	Amount       int64        `json:"amount"`
	Currency     string       `json:"currency"`
	ClaimedAt    time.Time    `json:"claimed_at"`
	Status       string       `json:"status"`
	ChargeStatus string       `json:"charge_status"`
	ConfirmedAt  *time.Time   `json:"confirmed_at"`
	Evidence     []Evidence   `json:"evidence"`
	Verdict      *LineVerdict `json:"verdict"`
}

func NewLine(l intelflow.Line) Line {
	d := Line{ClaimID: l.ClaimID, Line: l.Line, SellerID: l.SellerID, SellerName: l.SellerName,
		SKU: l.SKU, ItemName: l.ItemName, Quantity: l.Quantity, Amount: l.Amount, Currency: l.Currency,
		ClaimedAt: l.ClaimedAt, Status: l.Status, ChargeStatus: l.ChargeStatus, ConfirmedAt: l.ConfirmedAt,
		Evidence: make([]Evidence, len(l.Evidence))}
	if l.BrandID != "" {
		b := l.BrandID
		d.Brand = &b
	}
	for i, e := range l.Evidence {
		d.Evidence[i] = Evidence{Kind: e.Kind, URL: e.URL}
	}
	if v := l.Verdict; v != nil {
		d.Verdict = &LineVerdict{Verdict: v.Verdict.String(), Note: v.Note, Revisions: v.Revisions,
			CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
		if v.DocumentURL != "" {
			doc := v.DocumentURL
			d.Verdict.DocumentURL = &doc
		}
	}
	return d
}

// LineCSVHeader and LineRecord are a line as a CSV record.
var LineCSVHeader = []string{"claim_id", "line", "brand", "seller_id", "seller_name", "sku", "item_name", "quantity",
	"amount", "currency", "claimed_at", "status", "charge_status", "confirmed_at", "verdict", "evidence_urls"}

func LineRecord(l intelflow.Line) []string {
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
	return []string{Cell(l.ClaimID), strconv.Itoa(l.Line), Cell(l.BrandID), Cell(l.SellerID),
		Cell(l.SellerName), Cell(l.SKU), Cell(l.ItemName), strconv.FormatInt(l.Quantity, 10),
		strconv.FormatInt(l.Amount, 10), l.Currency, l.ClaimedAt.Format(time.RFC3339), l.Status, l.ChargeStatus,
		confirmed, verdict, Cell(strings.Join(urls, " "))}
}

type CaseSeller struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Verified  bool       `json:"verified"`
	Standing  *string    `json:"standing"`
	Confirmed int64      `json:"confirmed_claims"`
	Amounts   []Amount   `json:"amounts"`
	FirstSeen *time.Time `json:"first_seen"`
	LastSeen  *time.Time `json:"last_seen"`
	Brands    []string   `json:"brands"`
}

type CaseLink struct {
	A    string `json:"a"`
	B    string `json:"b"`
	Kind string `json:"kind"`
	// Key is what they share: a product as brand/SKU, or the first 16
	// hex digits of the engine's digest of a signal (never the signal).
	Key string `json:"key"`
}

type CaseEvent struct {
	Seq  int       `json:"seq"`
	From string    `json:"from"`
	To   string    `json:"to"`
	By   string    `json:"by"`
	Note string    `json:"note"`
	At   time.Time `json:"at"`
}

// CaseSummary is a case as the list shows it: its sellers and totals.
type CaseSummary struct {
	ID        string       `json:"id"`
	Status    string       `json:"status"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	Confirmed int64        `json:"confirmed_claims"`
	Amounts   []Amount     `json:"amounts"`
	FirstSeen *time.Time   `json:"first_seen"`
	LastSeen  *time.Time   `json:"last_seen"`
	Brands    []string     `json:"brands"`
	Sellers   []CaseSeller `json:"sellers"`
}

// CaseDetail is a case read alone, or in its packet: also what links
// its sellers, its moves through the funnel and its confirmed lines,
// each list present even when empty.
type CaseDetail struct {
	CaseSummary
	Shoppers int64       `json:"shoppers"`
	Links    []CaseLink  `json:"links"`
	Events   []CaseEvent `json:"events"`
	Claims   []Line      `json:"claims"`
}

func NewCaseSummary(cs intelflow.Case) CaseSummary {
	d := CaseSummary{ID: cs.ID, Status: cs.Status.String(), CreatedAt: cs.CreatedAt, UpdatedAt: cs.UpdatedAt,
		Confirmed: cs.Confirmed, Amounts: Amounts(cs.Amounts), FirstSeen: cs.FirstSeen, LastSeen: cs.LastSeen,
		Brands: cs.Brands, Sellers: make([]CaseSeller, len(cs.Sellers))}
	if d.Brands == nil {
		d.Brands = []string{}
	}
	for i, s := range cs.Sellers {
		d.Sellers[i] = CaseSeller{ID: s.ID, Name: s.Name, Verified: s.Verified, Confirmed: s.Confirmed,
			Amounts: Amounts(s.Amounts), FirstSeen: s.FirstSeen, LastSeen: s.LastSeen, Brands: s.Brands}
		if d.Sellers[i].Brands == nil {
			d.Sellers[i].Brands = []string{}
		}
		if s.Standing != "" {
			st := s.Standing
			d.Sellers[i].Standing = &st
		}
	}
	return d
}

func NewCaseDetail(cs intelflow.Case) CaseDetail {
	d := CaseDetail{CaseSummary: NewCaseSummary(cs), Shoppers: cs.Shoppers, Links: make([]CaseLink, len(cs.Links)),
		Events: make([]CaseEvent, len(cs.Events)), Claims: make([]Line, len(cs.Lines))}
	for i, l := range cs.Links {
		d.Links[i] = CaseLink{A: l.A, B: l.B, Kind: l.Kind, Key: LinkKey(l)}
	}
	for i, e := range cs.Events {
		d.Events[i] = CaseEvent{Seq: e.Seq, From: e.From.String(), To: e.To.String(), By: e.Actor.String(), Note: e.Note, At: e.At}
	}
	for i, l := range cs.Lines {
		d.Claims[i] = NewLine(l)
	}
	return d
}

// HeaderSignature carries a case packet's detached signature:
// keyid="ed25519:…", alg="ed25519", sig="<base64 of the 64 raw bytes>",
// over the exact bytes of the body.
const HeaderSignature = "Claimsd-Signature"

// HeaderPacketID names the packet in the access log.
const HeaderPacketID = "Claimsd-Packet-Id"

// SignatureHeader is the value of HeaderSignature for p.
func SignatureHeader(p intelflow.Packet) string {
	return fmt.Sprintf(`keyid="%s", alg="ed25519", sig="%s"`, p.KeyID, base64.StdEncoding.EncodeToString(p.Signature))
}

// packetDoc is a case packet: what it is, who took it, and the case.
type packetDoc struct {
	Packet struct {
		ID          string    `json:"id"`
		GeneratedAt time.Time `json:"generated_at"`
		GeneratedBy string    `json:"generated_by"`
		KeyID       string    `json:"signing_key_id"`
		Notice      string    `json:"notice"`
	} `json:"packet"`
	Case CaseDetail `json:"case"`
}

const packetNotice = "Confirmed counterfeit claims: shoppers refunded for goods charged back to the seller as counterfeit " +
	"(final, or upheld on contest) or authenticated as counterfeit by the brand's rights holder. Shoppers are counted, never named. " +
	"This file is signed with Ed25519; the signature and the public key (GET /v1/intelligence/signing-key) show it unaltered."

// PacketJSON writes the case whole, headed by what the packet is and who
// took it (by, e.g. "enforcement:inv_lee").
func PacketJSON(cs intelflow.Case, p intelflow.Packet, by string) ([]byte, error) {
	var d packetDoc
	d.Packet.ID, d.Packet.GeneratedAt, d.Packet.GeneratedBy, d.Packet.KeyID, d.Packet.Notice = p.ID, p.GeneratedAt, by, p.KeyID, packetNotice
	d.Case = NewCaseDetail(cs)
	b, err := json.MarshalIndent(d, "", "  ")
	return append(b, '\n'), err
}

// PacketCSV writes the case's confirmed lines after a record naming the
// packet, as wide as the lines' so that a strict CSV reader (one width
// per file) reads it.
func PacketCSV(cs intelflow.Case, p intelflow.Packet) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	head := make([]string, len(LineCSVHeader))
	copy(head, []string{"# packet " + p.ID, "case " + cs.ID, "generated " + p.GeneratedAt.Format(time.RFC3339), "key " + p.KeyID})
	_ = w.Write(head)
	_ = w.Write(LineCSVHeader)
	for _, l := range cs.Lines {
		_ = w.Write(LineRecord(l))
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// LinkKey is what two linked sellers share, as shown: a product as
// brand/SKU, or the first 16 hex digits of the engine's digest of a
// signal (never the signal).
func LinkKey(l intel.Link) string {
	if l.Kind == intel.KindProduct {
		return l.Key
	}
	key := strings.TrimPrefix(l.Key, l.Kind+":")
	if len(key) > 16 {
		key = key[:16]
	}
	return key
}
