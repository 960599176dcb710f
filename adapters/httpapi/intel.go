package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

// HeaderSignature carries a case packet's detached signature:
// keyid="ed25519:…", alg="ed25519", sig="<base64 of the 64 raw bytes>",
// over the exact bytes of the body.
const HeaderSignature = "Claimsd-Signature"

// HeaderPacketID names the packet in the access log.
const HeaderPacketID = "Claimsd-Packet-Id"

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

type groupDTO struct {
	Key      string      `json:"key"`
	Name     string      `json:"name,omitempty"`
	Claims   int64       `json:"claims"`
	Units    int64       `json:"units"`
	Shoppers int64       `json:"shoppers"`
	Amounts  []amountDTO `json:"amounts"`
}

func groupsDTO(gs []intelflow.Group) []groupDTO {
	out := make([]groupDTO, len(gs))
	for i, g := range gs {
		out[i] = groupDTO{Key: g.Key, Name: g.Name, Claims: g.Claims, Units: g.Units, Shoppers: g.Shoppers, Amounts: amountsDTO(g.Amounts)}
	}
	return out
}

type totalsDTO struct {
	Claims   int64            `json:"claims"`
	Shoppers int64            `json:"shoppers"`
	Units    int64            `json:"units"`
	Amounts  []amountDTO      `json:"amounts"`
	BySeller []groupDTO       `json:"by_seller"`
	BySKU    []groupDTO       `json:"by_sku"`
	ByMonth  []groupDTO       `json:"by_month"`
	ByStatus map[string]int64 `json:"by_status"`
}

type counterfeitsResponse struct {
	Brand      brandResponse        `json:"brand"`
	From       time.Time            `json:"from"`
	To         time.Time            `json:"to"`
	Status     string               `json:"status"`
	Claims     []counterfeitLineDTO `json:"claims"`
	NextCursor *string              `json:"next_cursor"`
	Totals     totalsDTO            `json:"totals"`
}

// counterfeitQuery reads the query of a brand's counterfeits. Errors: 400
// naming the parameter.
func counterfeitQuery(c echo.Context) (intelflow.Query, error) {
	from, to, err := periodOf(c.QueryParam("from"), c.QueryParam("to"), false)
	if err != nil {
		return intelflow.Query{}, queryError(err)
	}
	q := intelflow.Query{From: from, To: to, Status: c.QueryParam("status"), Cursor: c.QueryParam("cursor")}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > intelflow.MaxLimit {
			return q, newError(http.StatusBadRequest, "invalid_limit", fmt.Sprintf("must be a whole number from 1 to %d", intelflow.MaxLimit), "limit")
		}
		q.Limit = n
	}
	return q, nil
}

func (a *api) listBrands(c echo.Context) error {
	brands, err := a.Intel.Brands(c.Request().Context(), viewer(c))
	if err != nil {
		return err
	}
	out := make([]brandResponse, len(brands))
	for i, b := range brands {
		out[i] = brandResponse{ID: b.ID, Name: b.Name}
	}
	return c.JSON(http.StatusOK, map[string]any{"brands": out})
}

func (a *api) getBrandCounterfeits(c echo.Context) error {
	asCSV, err := csvFormat(c)
	if err != nil {
		return queryError(err)
	}
	q, err := counterfeitQuery(c)
	if err != nil {
		return err
	}
	ctx := intelflow.WithRequestID(c.Request().Context(), c.Response().Header().Get(echo.HeaderXRequestID))
	v, id := viewer(c), c.Param("id")
	if asCSV {
		each, err := a.Intel.ExportCounterfeits(ctx, v, id, q)
		if err != nil {
			return queryError(err)
		}
		return a.streamCSV(c, "counterfeits-"+id+".csv", lineCSVHeader, func(s *export.Stream) error {
			return each(func(l intelflow.Line) error { return s.Row(nil, lineRecord(l)) })
		})
	}
	p, err := a.Intel.Counterfeits(ctx, v, id, q)
	if err != nil {
		return queryError(err)
	}
	resp := counterfeitsResponse{Brand: brandResponse{ID: p.BrandID, Name: p.BrandName}, From: p.Query.From, To: p.Query.To, Status: p.Query.Status,
		Claims: make([]counterfeitLineDTO, len(p.Lines)),
		Totals: totalsDTO{Claims: p.Totals.Claims, Shoppers: p.Totals.Shoppers, Units: p.Totals.Units,
			Amounts: amountsDTO(p.Totals.Amounts), BySeller: groupsDTO(p.Totals.BySeller), BySKU: groupsDTO(p.Totals.BySKU),
			ByMonth: groupsDTO(p.Totals.ByMonth), ByStatus: p.Totals.ByStatus}}
	for i, l := range p.Lines {
		resp.Claims[i] = newLineDTO(l)
	}
	if p.Next != "" {
		resp.NextCursor = &p.Next
	}
	return c.JSON(http.StatusOK, resp)
}

type verdictRequest struct {
	Verdict     string  `json:"verdict"`
	Note        string  `json:"note"`
	DocumentURL *string `json:"document_url"`
}

type verdictResponse struct {
	ClaimID string `json:"claim_id"`
	Brand   string `json:"brand"`
	lineVerdictDTO
	Settled string `json:"settled"`
}

var settledNames = map[intel.Settled]string{intel.SettledPending: "pending", intel.SettledConfirmed: "confirmed", intel.SettledCleared: "cleared"}

func (a *api) putVerdict(c echo.Context) error {
	var req verdictRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p := intel.VerdictParams{Verdict: req.Verdict, Note: req.Note}
	if req.DocumentURL != nil {
		p.DocumentURL = *req.DocumentURL
	}
	ctx := intelflow.WithRequestID(c.Request().Context(), c.Response().Header().Get(echo.HeaderXRequestID))
	v, created, err := a.Intel.PutVerdict(ctx, viewer(c), c.Param("id"), c.Param("claim_id"), p)
	if err != nil {
		return err
	}
	resp := verdictResponse{ClaimID: v.ClaimID, Brand: v.BrandID, Settled: settledNames[v.Settled],
		lineVerdictDTO: lineVerdictDTO{Verdict: v.Verdict.String(), Note: v.Note, Revisions: v.Revisions, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}}
	if v.DocumentURL != "" {
		resp.DocumentURL = &v.DocumentURL
	}
	return c.JSON(createdOrOK(created), resp)
}

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

func (a *api) listRightsHolderRatings(c echo.Context) error {
	ctx := intelflow.WithRequestID(c.Request().Context(), c.Response().Header().Get(echo.HeaderXRequestID))
	rs, err := a.Intel.Ratings(ctx, viewer(c))
	if err != nil {
		return err
	}
	type row struct {
		Subject string `json:"subject"`
		ratingDTO
	}
	out := make([]row, len(rs))
	for i, r := range rs {
		out[i] = row{Subject: r.Subject, ratingDTO: newRatingDTO(r.Rating)}
	}
	return c.JSON(http.StatusOK, map[string]any{"rights_holders": out,
		"good_faith_per_mille": intel.GoodFaithPerMille, "good_faith_min_decided": intel.GoodFaithMinDecided})
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

func (a *api) listCases(c echo.Context) error {
	ctx := intelflow.WithRequestID(c.Request().Context(), c.Response().Header().Get(echo.HeaderXRequestID))
	cases, err := a.Intel.Cases(ctx, viewer(c), c.QueryParam("status"))
	if err != nil {
		return queryError(err)
	}
	out := make([]caseDTO, len(cases))
	for i, cs := range cases {
		out[i] = newCaseDTO(cs)
	}
	return c.JSON(http.StatusOK, map[string]any{"cases": out})
}

func (a *api) getCase(c echo.Context) error {
	ctx := intelflow.WithRequestID(c.Request().Context(), c.Response().Header().Get(echo.HeaderXRequestID))
	cs, err := a.Intel.Case(ctx, viewer(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newCaseDetailDTO(cs))
}

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

type caseStatusRequest struct {
	Status string `json:"status"`
	Note   string `json:"note"`
}

func (a *api) postCaseStatus(c echo.Context) error {
	var req caseStatusRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := intelflow.WithRequestID(c.Request().Context(), c.Response().Header().Get(echo.HeaderXRequestID))
	cs, err := a.Intel.MoveCase(ctx, viewer(c), c.Param("id"), req.Status, req.Note)
	if errors.Is(err, intelflow.ErrCaseMoved) {
		// Another move won the race: the caller decided on a status
		// that is no longer the case's.
		return newError(http.StatusConflict, "case_moved",
			"the case's status changed while this move was made; read the case again and decide anew", "status")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newCaseDTO(cs))
}

func (a *api) getSigningKey(c echo.Context) error {
	s := a.Intel.Signer()
	return c.JSON(http.StatusOK, map[string]any{
		"key_id": s.KeyID(), "algorithm": "ed25519",
		"public_key":     base64.StdEncoding.EncodeToString(s.PublicKey()),
		"public_key_pem": s.PublicKeyPEM(),
	})
}

type accessDTO struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	Role      string         `json:"role"`
	Subject   string         `json:"subject"`
	Action    string         `json:"action"`
	Resource  string         `json:"resource"`
	Detail    map[string]any `json:"detail"`
	RequestID string         `json:"request_id"`
}

func (a *api) listAccessLog(c echo.Context) error {
	var before int64
	if s := c.QueryParam("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return newError(http.StatusBadRequest, "invalid_before", "must be an entry id from this log", "before")
		}
		before = n
	}
	limit := 0
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > intelflow.MaxLimit {
			return newError(http.StatusBadRequest, "invalid_limit", fmt.Sprintf("must be a whole number from 1 to %d", intelflow.MaxLimit), "limit")
		}
		limit = n
	}
	entries, err := a.Intel.AccessLog(c.Request().Context(), before, limit)
	if err != nil {
		return queryError(err)
	}
	out := make([]accessDTO, len(entries))
	for i, e := range entries {
		out[i] = accessDTO{ID: e.ID, At: e.At, Role: e.Role, Subject: e.Subject, Action: e.Action, Resource: e.Resource,
			Detail: e.Detail, RequestID: e.RequestID}
	}
	if limit == 0 {
		limit = intelflow.DefaultLimit
	}
	resp := map[string]any{"entries": out, "next_before": nil}
	if n := len(out); n > 0 && n == limit {
		resp["next_before"] = out[n-1].ID
	}
	return c.JSON(http.StatusOK, resp)
}
