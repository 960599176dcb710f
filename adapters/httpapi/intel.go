package httpapi

// Shapes the intelligence routes share: a counterfeit line, a case, a
// rights holder's rating.

import (
	"strconv"
	"strings"
	"time"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

type amountDTO struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

func amountsDTO(as []intelflow.Amount) []amountDTO {
	out := make([]amountDTO, len(as))
	for i, a := range as {
		out[i] = amountDTO{Currency: a.Currency, Amount: a.Amount}
	}
	return out
}

type lineVerdictDTO struct {
	Verdict     string    `json:"verdict"`
	Note        string    `json:"note"`
	DocumentURL *string   `json:"document_url"`
	Revisions   int       `json:"revisions"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// counterfeitLineDTO is one line of a counterfeit claim: the seller, the
// goods, the money, the shopper's evidence; never the shopper.
type counterfeitLineDTO struct {
	ClaimID      string          `json:"claim_id"`
	Line         int             `json:"line"`
	Brand        *string         `json:"brand"`
	SellerID     string          `json:"seller_id"`
	SellerName   string          `json:"seller_name"`
	SKU          string          `json:"sku"`
	ItemName     string          `json:"item_name"`
	Quantity     int64           `json:"quantity"`
	Amount       int64           `json:"amount"`
	Currency     string          `json:"currency"`
	ClaimedAt    time.Time       `json:"claimed_at"`
	Status       string          `json:"status"`
	ChargeStatus string          `json:"charge_status"`
	ConfirmedAt  *time.Time      `json:"confirmed_at"`
	Evidence     []evidenceDTO   `json:"evidence"`
	Verdict      *lineVerdictDTO `json:"verdict"`
}

func newLineDTO(l intelflow.Line) counterfeitLineDTO {
	d := counterfeitLineDTO{ClaimID: l.ClaimID, Line: l.Line, SellerID: l.SellerID, SellerName: l.SellerName,
		SKU: l.SKU, ItemName: l.ItemName, Quantity: l.Quantity, Amount: l.Amount, Currency: l.Currency,
		ClaimedAt: l.ClaimedAt, Status: l.Status, ChargeStatus: l.ChargeStatus, ConfirmedAt: l.ConfirmedAt,
		Evidence: make([]evidenceDTO, len(l.Evidence))}
	if l.BrandID != "" {
		b := l.BrandID
		d.Brand = &b
	}
	for i, e := range l.Evidence {
		d.Evidence[i] = evidenceDTO{Kind: e.Kind, URL: e.URL}
	}
	if v := l.Verdict; v != nil {
		d.Verdict = &lineVerdictDTO{Verdict: v.Verdict.String(), Note: v.Note, Revisions: v.Revisions,
			CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
		if v.DocumentURL != "" {
			doc := v.DocumentURL
			d.Verdict.DocumentURL = &doc
		}
	}
	return d
}

// lineCSVHeader and lineRecord are a line as a CSV record.
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

var settledNames = map[intel.Settled]string{intel.SettledPending: "pending", intel.SettledConfirmed: "confirmed", intel.SettledCleared: "cleared"}

type ratingDTO struct {
	Verdicts  int64 `json:"verdicts"`
	Decided   int64 `json:"decided"`
	BorneOut  int64 `json:"borne_out"`
	PerMille  int   `json:"borne_out_per_mille"`
	GoodFaith bool  `json:"good_faith"`
}

func newRatingDTO(r intel.Rating) ratingDTO {
	return ratingDTO{Verdicts: r.Verdicts, Decided: r.Decided, BorneOut: r.BorneOut, PerMille: r.PerMille, GoodFaith: r.GoodFaith}
}

type caseSellerDTO struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Verified  bool        `json:"verified"`
	Standing  *string     `json:"standing"`
	Confirmed int64       `json:"confirmed_claims"`
	Amounts   []amountDTO `json:"amounts"`
	FirstSeen *time.Time  `json:"first_seen"`
	LastSeen  *time.Time  `json:"last_seen"`
	Brands    []string    `json:"brands"`
}

type caseLinkDTO struct {
	A    string `json:"a"`
	B    string `json:"b"`
	Kind string `json:"kind"`
	// Key is what they share: a product as brand/SKU, or the first 16
	// hex digits of the engine's digest of a signal (never the signal).
	Key string `json:"key"`
}

type caseEventDTO struct {
	Seq  int       `json:"seq"`
	From string    `json:"from"`
	To   string    `json:"to"`
	By   string    `json:"by"`
	Note string    `json:"note"`
	At   time.Time `json:"at"`
}

// caseDTO is a case as the list shows it: its sellers and totals.
type caseDTO struct {
	ID        string          `json:"id"`
	Status    string          `json:"status"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	Confirmed int64           `json:"confirmed_claims"`
	Amounts   []amountDTO     `json:"amounts"`
	FirstSeen *time.Time      `json:"first_seen"`
	LastSeen  *time.Time      `json:"last_seen"`
	Brands    []string        `json:"brands"`
	Sellers   []caseSellerDTO `json:"sellers"`
}

// caseDetailDTO is a case read alone, or in its packet: also what links
// its sellers, its moves through the funnel and its confirmed lines,
// each list present even when empty.
type caseDetailDTO struct {
	caseDTO
	Shoppers int64                `json:"shoppers"`
	Links    []caseLinkDTO        `json:"links"`
	Events   []caseEventDTO       `json:"events"`
	Claims   []counterfeitLineDTO `json:"claims"`
}

func newCaseDTO(cs intelflow.Case) caseDTO {
	d := caseDTO{ID: cs.ID, Status: cs.Status.String(), CreatedAt: cs.CreatedAt, UpdatedAt: cs.UpdatedAt,
		Confirmed: cs.Confirmed, Amounts: amountsDTO(cs.Amounts), FirstSeen: cs.FirstSeen, LastSeen: cs.LastSeen,
		Brands: cs.Brands, Sellers: make([]caseSellerDTO, len(cs.Sellers))}
	if d.Brands == nil {
		d.Brands = []string{}
	}
	for i, s := range cs.Sellers {
		d.Sellers[i] = caseSellerDTO{ID: s.ID, Name: s.Name, Verified: s.Verified, Confirmed: s.Confirmed,
			Amounts: amountsDTO(s.Amounts), FirstSeen: s.FirstSeen, LastSeen: s.LastSeen, Brands: s.Brands}
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

func newCaseDetailDTO(cs intelflow.Case) caseDetailDTO {
	d := caseDetailDTO{caseDTO: newCaseDTO(cs), Shoppers: cs.Shoppers, Links: make([]caseLinkDTO, len(cs.Links)),
		Events: make([]caseEventDTO, len(cs.Events)), Claims: make([]counterfeitLineDTO, len(cs.Lines))}
	for i, l := range cs.Links {
		key := l.Key
		if l.Kind != intel.KindProduct {
			key = strings.TrimPrefix(key, l.Kind+":")
			if len(key) > 16 {
				key = key[:16]
			}
		}
		d.Links[i] = caseLinkDTO{A: l.A, B: l.B, Kind: l.Kind, Key: key}
	}
	for i, e := range cs.Events {
		d.Events[i] = caseEventDTO{Seq: e.Seq, From: e.From.String(), To: e.To.String(), By: e.Actor.String(), Note: e.Note, At: e.At}
	}
	for i, l := range cs.Lines {
		d.Claims[i] = newLineDTO(l)
	}
	return d
}
