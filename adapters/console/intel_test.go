package console_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/brand"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/evidence"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// counterfeitSpec is a counterfeit claim of a brand's goods, refunded
// and charged to its seller.
type counterfeitSpec struct {
	seller string // short name
	brand  string // the brand's id, as the order names it
	sku    string
	amount int64
	// pending: charged, the seller may still contest; otherwise the
	// contest window passed and the charge is final: confirmed.
	pending bool
	// account is the seller's payment account signal, "" for none.
	account string
}

type counterfeitClaim struct{ ID, Shopper, Seller string }

// counterfeit files the claim for a new shopper, has it refunded and
// charged (four days ago, so the window has closed) and, unless pending,
// makes the charge final, as the workflow's steps do.
func (b *testBundle) counterfeit(t *testing.T, st *pgstore.Store, s counterfeitSpec) counterfeitClaim {
	t.Helper()
	ctx := context.Background()
	sellerID := b.name(s.seller)
	p := seller.Params{ID: sellerID, Name: "Seller " + s.seller, RiskScore: 10, Verified: true}
	if s.account != "" {
		acct := s.account
		p.Signals = &seller.Signals{PaymentAccount: &acct}
	}
	_, _, err := b.svc.PutSeller(ctx, p)
	require.NoError(t, err)
	now := b.clock.Now()
	paid, delivered := now.Add(-3*day), now.Add(-day)
	orderID := b.name(fmt.Sprintf("ord_%d", time.Now().UnixNano()))
	shopper := b.name(fmt.Sprintf("shp_%d", time.Now().UnixNano()))
	_, _, err = b.svc.PutOrder(ctx, order.Params{
		ID: orderID, BuyerID: shopper, SellerID: sellerID, Currency: "EUR", Amount: s.amount,
		Items:   []order.Item{{SKU: s.sku, Name: "Leather bag " + s.sku, Quantity: 1, UnitAmount: s.amount, Brand: s.brand}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_" + orderID},
		PaidAt:  &paid, DeliveredAt: &delivered,
	})
	require.NoError(t, err)
	rec, err := b.svc.Submit(ctx, orderID, claim.Request{ShopperID: shopper, Reason: "counterfeit",
		Description: "The stitching is loose and the serial number does not exist.",
		Evidence:    []claim.Evidence{{Kind: "photo", URL: "https://img.example/" + orderID + ".jpg"}}})
	require.NoError(t, err)
	id := rec.Claim.ID()
	if rec.Claim.Status() == claim.StatusInReview {
		_, err := b.svc.Override(ctx, agent, id, claimflow.OverrideRequest{Action: claimflow.ActionApprove,
			Note: "Photos show a fake.", Version: rec.Claim.Version()})
		require.NoError(t, err)
	}
	charged := func() time.Time { return now.Add(-100 * time.Hour) }
	refund := &claimflow.RefundStep{Store: st, Now: charged,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(st.DB(), sandbox.Config{})}}
	require.NoError(t, refund.Run(ctx, id, 1, 10))
	require.NoError(t, (&claimflow.ChargeSellerStep{Store: st, Now: charged}).Run(ctx, id, 1, 10))
	if !s.pending {
		_, err := (&claimflow.DeadlineStep{Store: st, Policy: policyfile.Default(), Now: b.clock.Now}).RunContest(ctx, id)
		require.NoError(t, err)
		require.Equal(t, claim.ChargebackFinal, b.get(t, id).Claim.Chargeback().Status)
	}
	return counterfeitClaim{ID: id, Shopper: shopper, Seller: sellerID}
}

// putBrand registers a brand held by holder.
func (b *testBundle) putBrand(t *testing.T, id, name, holder string) {
	t.Helper()
	_, _, err := b.brands.Put(context.Background(), brand.Params{ID: id, Name: name, RightsHolders: []string{holder}})
	require.NoError(t, err)
}

// intelWorld is a brand with confirmed and pending counterfeits by two
// sellers who share a payment account (a ring), another brand held by
// someone else, and their rights holders.
type intelWorld struct {
	brand, other       string // brand ids
	holder, otherOwner string // their rights holders
	ringA, ringB       string // seller ids
	confirmed          []counterfeitClaim
	pending            counterfeitClaim
	otherClaim         counterfeitClaim
}

func (b *testBundle) seedIntel(t *testing.T, st *pgstore.Store) intelWorld {
	t.Helper()
	w := intelWorld{brand: b.name("acme"), other: b.name("globex"), holder: b.name("rh_acme"), otherOwner: b.name("rh_globex")}
	b.putBrand(t, w.brand, "Acme "+b.id, w.holder)
	b.putBrand(t, w.other, "Globex "+b.id, w.otherOwner)
	account := "acct-hash-" + b.id
	w.confirmed = []counterfeitClaim{
		b.counterfeit(t, st, counterfeitSpec{seller: "sel_ring_a", brand: w.brand, sku: "BAG-01", amount: 1000, account: account}),
		b.counterfeit(t, st, counterfeitSpec{seller: "sel_ring_a", brand: w.brand, sku: "BAG-01", amount: 1200, account: account}),
		b.counterfeit(t, st, counterfeitSpec{seller: "sel_ring_b", brand: w.brand, sku: "WAL-02", amount: 800, account: account}),
	}
	w.ringA, w.ringB = b.name("sel_ring_a"), b.name("sel_ring_b")
	w.pending = b.counterfeit(t, st, counterfeitSpec{seller: "sel_ring_a", brand: w.brand, sku: "BAG-01", amount: 900, pending: true})
	w.otherClaim = b.counterfeit(t, st, counterfeitSpec{seller: "sel_solo", brand: w.other, sku: "HAT-9", amount: 700})
	return w
}

// ringCase returns the id of the case holding the world's ring.
func (b *testBundle) ringCase(t *testing.T, w intelWorld) string {
	t.Helper()
	cases, err := b.intel.Cases(context.Background(), claimflow.Viewer{Role: "admin", Subject: "setup"}, "")
	require.NoError(t, err)
	for _, cs := range cases {
		for _, s := range cs.Sellers {
			if s.ID == w.ringA {
				return cs.ID
			}
		}
	}
	t.Fatal("no case holds the ring")
	return ""
}

var chartBar = regexp.MustCompile(`<rect class="bar [^"]*" [^>]*data-value="(\d+)"`)

func TestBrandPageShowsItsRightsHolderTheCounterfeits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.seedIntel(t, store)
	s := b.signIn(t, "rights_holder", w.holder)

	// Their start page lists their brand, not the other.
	home := b.do(t, http.MethodGet, "/console", s.cookie, nil)
	require.Equal(t, http.StatusSeeOther, home.Code)
	require.Equal(t, "/console/brands", home.Header.Get("Location"))
	list := b.do(t, http.MethodGet, "/console/brands", s.cookie, nil)
	require.Equal(t, http.StatusOK, list.Code)
	require.Contains(t, list.Body, `href="/console/brands/`+w.brand+`"`)
	require.NotContains(t, list.Body, w.other)

	page := b.do(t, http.MethodGet, "/console/brands/"+w.brand, s.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code, page.Body)
	totals := between(t, page.Body, `class="figures brand-totals"`, `</dl>`)
	for _, want := range []string{"<dt>Claims</dt><dd>3</dd>", "<dt>Shoppers</dt><dd>3</dd>", "<dt>Units</dt><dd>3</dd>", "30.00 EUR"} {
		require.Contains(t, totals, want)
	}
	// The chart: this month's bar counts the three confirmed claims.
	chart := between(t, page.Body, `id="chart-months-h"`, `</svg>`)
	var sum int
	for _, m := range chartBar.FindAllStringSubmatch(chart, -1) {
		var n int
		_, _ = fmt.Sscan(m[1], &n)
		sum += n
	}
	require.Equal(t, 3, sum, "the months' bars add up to the confirmed claims")
	require.Contains(t, chart, `data-label="`+b.clock.Now().Format("Jan 06")+`" data-series="confirmed claims" data-value="3"`)
	bySeller := between(t, page.Body, `class="compact by-seller"`, `</table>`)
	require.Less(t, strings.Index(bySeller, w.ringA), strings.Index(bySeller, w.ringB), "the seller with most claims first")
	require.Contains(t, between(t, page.Body, `class="compact by-sku"`, `</table>`), "BAG-01")
	for _, c := range w.confirmed {
		require.Contains(t, page.Body, `id="claim-`+c.ID+`"`)
	}
	require.NotContains(t, page.Body, w.pending.ID, "confirmed only, unless asked")
	requireNoShopper(t, page.Body, w)

	// The status filter, and paging.
	pending := b.do(t, http.MethodGet, "/console/brands/"+w.brand+"?status=pending", s.cookie, nil)
	require.Equal(t, http.StatusOK, pending.Code)
	require.Contains(t, pending.Body, `id="claim-`+w.pending.ID+`"`)
	require.NotContains(t, pending.Body, w.confirmed[0].ID)
	seen := map[string]bool{}
	next := "/console/brands/" + w.brand + "?status=all&limit=3"
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 3)
		r := b.do(t, http.MethodGet, next, s.cookie, nil)
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		for _, m := range regexp.MustCompile(`<article class="card brand-claim" id="claim-([^"]+)"`).FindAllStringSubmatch(r.Body, -1) {
			require.False(t, seen[m[1]], "claim %s on two pages", m[1])
			seen[m[1]] = true
		}
		next = ""
		if m := regexp.MustCompile(`<a href="([^"]+)">Older claims</a>`).FindStringSubmatch(r.Body); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	require.Len(t, seen, 4, "every claim of the brand, once, over the pages")

	bad := b.do(t, http.MethodGet, "/console/brands/"+w.brand+"?status=everything", s.cookie, nil)
	require.Equal(t, http.StatusBadRequest, bad.Code)
	require.Contains(t, between(t, bad.Body, `<label for="brand-status">`, `</form>`), `id="brand-status-error">Status must be one of the listed statuses`)

	// The CSV: every line of the status asked for, the shopper never.
	csvRes := b.do(t, http.MethodGet, "/console/brands/"+w.brand+"/counterfeits.csv?status=all", s.cookie, nil)
	require.Equal(t, http.StatusOK, csvRes.Code, csvRes.Body)
	require.Contains(t, csvRes.Header.Get("Content-Type"), "text/csv")
	rows := readCSV(t, csvRes.Body)
	require.Len(t, rows, 5, "the header and four lines")
	require.Equal(t, "claim_id", rows[0][0])
	requireNoShopper(t, csvRes.Body, w)

	// Another brand, theirs or nobody's, is not found.
	for _, p := range []string{"/console/brands/" + w.other, "/console/brands/" + w.other + "/counterfeits.csv", "/console/brands/no_such_brand"} {
		r := b.do(t, http.MethodGet, p, s.cookie, nil)
		require.Equal(t, http.StatusNotFound, r.Code, p)
		require.NotContains(t, r.Body, "Globex", p)
	}
	// An admin reads every brand, and records no verdict.
	admin := b.signIn(t, "admin", "root")
	r := b.do(t, http.MethodGet, "/console/brands/"+w.other, admin.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body, w.otherClaim.ID)
	require.NotContains(t, r.Body, `/verdict"`, "no verdict form for admins")
}

// requireNoShopper checks that body names none of the world's shoppers.
func requireNoShopper(t *testing.T, body string, w intelWorld) {
	t.Helper()
	for _, c := range append([]counterfeitClaim{w.pending, w.otherClaim}, w.confirmed...) {
		require.NotContains(t, body, c.Shopper, "the shopper is named")
	}
}

// between returns body from the first from to the next to after it.
func between(t *testing.T, body, from, to string) string {
	t.Helper()
	i := strings.Index(body, from)
	require.GreaterOrEqual(t, i, 0, "%q is not on the page", from)
	j := strings.Index(body[i:], to)
	require.GreaterOrEqual(t, j, 0, "%q does not follow %q", to, from)
	return body[i : i+j+len(to)]
}

func TestVerdictFormRecordsAndRefuses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.seedIntel(t, store)
	ctx := context.Background()
	s := b.signIn(t, "rights_holder", w.holder)
	id := w.confirmed[0].ID
	path := "/console/brands/" + w.brand + "/claims/" + id + "/verdict"

	for _, tc := range []struct {
		name  string
		give  url.Values
		field string
		want  string
	}{
		{"no verdict", url.Values{"note": {"Serial unknown to us."}}, "verdict", "Verdict must be"},
		{"no note", url.Values{"verdict": {"counterfeit"}, "document_url": {"https://acme.example/r.pdf"}}, "note", "Note "},
		{"not https", url.Values{"verdict": {"counterfeit"}, "note": {"Serial unknown to us."}, "document_url": {"http://acme.example/r.pdf"}},
			"document-url", "Document link must be an absolute https URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"status": {"confirmed"}}
			for k, v := range tc.give {
				form[k] = v
			}
			r := b.post(t, s, path, form)
			require.Equal(t, http.StatusUnprocessableEntity, r.Code, r.Body)
			fieldID := "verdict-" + id + "-" + tc.field
			require.Contains(t, r.Body, `id="`+fieldID+`-error">`+tc.want)
			article := between(t, r.Body, `id="claim-`+id+`"`, `</article>`)
			require.Contains(t, article, "<details class=\"verdict-form\" open>", "the refused form is shown open")
			if n := tc.give.Get("note"); n != "" {
				require.Contains(t, article, ">"+n+"</textarea>", "the note is kept")
			}
			if u := tc.give.Get("document_url"); u != "" {
				require.Contains(t, article, `value="`+u+`"`, "the link is kept")
			}
			vs, err := b.intel.ClaimVerdicts(ctx, id)
			require.NoError(t, err)
			require.Empty(t, vs, "nothing was recorded")
		})
	}

	// Another brand's rights holder, and an admin, record nothing.
	other := b.signIn(t, "rights_holder", w.otherOwner)
	r := b.post(t, other, path, url.Values{"verdict": {"genuine"}, "note": {"Ours."}})
	require.Equal(t, http.StatusNotFound, r.Code)
	admin := b.signIn(t, "admin", "root")
	r = b.post(t, admin, path, url.Values{"verdict": {"genuine"}, "note": {"Ours."}})
	require.Equal(t, http.StatusForbidden, r.Code)

	r = b.post(t, s, path, url.Values{"verdict": {"counterfeit"}, "note": {"Serial unknown to us; stitching wrong."},
		"document_url": {"https://acme.example/report-17.pdf"}, "status": {"all"}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	require.Equal(t, "/console/brands/"+w.brand+"?status=all&done=verdict#claim-"+id, r.Header.Get("Location"))
	loc, _, _ := strings.Cut(r.Header.Get("Location"), "#")
	page := b.do(t, http.MethodGet, loc, s.cookie, nil)
	require.Contains(t, page.Body, "Your verdict is recorded")
	require.Contains(t, between(t, page.Body, `id="claim-`+id+`"`, `</dl>`), "<strong>counterfeit</strong>: Serial unknown to us; stitching wrong.")

	// The agent reads it on the claim, with the rights holder's rating.
	ana := b.signIn(t, "agent", "ana")
	cp := b.do(t, http.MethodGet, "/console/claims/"+id, ana.cookie, nil)
	require.Equal(t, http.StatusOK, cp.Code)
	verdicts := between(t, cp.Body, `id="verdicts"`, `</section>`)
	for _, want := range []string{"counterfeit", w.brand, "Serial unknown to us; stitching wrong.", "https://acme.example/report-17.pdf",
		"1 of 1 decided verdicts borne out (1 given)", "not rated yet: good faith needs 10 decided verdicts"} {
		require.Contains(t, verdicts, want)
	}
	other2 := b.do(t, http.MethodGet, "/console/claims/"+w.confirmed[1].ID, ana.cookie, nil)
	require.Contains(t, between(t, other2.Body, `id="verdicts"`, `</section>`), "No brand's rights holder has said")
}

// readPacket opens a packet download: the zip's files by name.
func readPacket(t *testing.T, body string) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader([]byte(body)), int64(len(body)))
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		out[f.Name] = b
	}
	return out
}

func TestCasePacketIsSignedAndTheFunnelMoves(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.seedIntel(t, store)
	caseID := b.ringCase(t, w)
	inv := b.signIn(t, "enforcement", b.name("inv"))

	home := b.do(t, http.MethodGet, "/console", inv.cookie, nil)
	require.Equal(t, "/console/cases", home.Header.Get("Location"))
	list := b.do(t, http.MethodGet, "/console/cases", inv.cookie, nil)
	require.Equal(t, http.StatusOK, list.Code, list.Body)
	row := between(t, list.Body, `href="/console/cases/`+caseID+`"`, `</tr>`)
	for _, want := range []string{"open", "Seller sel_ring_a", "Seller sel_ring_b", w.brand, "30.00 EUR"} {
		require.Contains(t, row, want)
	}
	filtered := b.do(t, http.MethodGet, "/console/cases?status=referred", inv.cookie, nil)
	require.NotContains(t, filtered.Body, caseID)
	bad := b.do(t, http.MethodGet, "/console/cases?status=sideways", inv.cookie, nil)
	require.Equal(t, http.StatusBadRequest, bad.Code)
	require.Contains(t, bad.Body, `id="cases-status-error"`)

	page := b.do(t, http.MethodGet, "/console/cases/"+caseID, inv.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code, page.Body)
	require.Contains(t, between(t, page.Body, `id="links-h"`, `</section>`), "share a payment account")
	lines := between(t, page.Body, `class="compact case-lines"`, `</table>`)
	for _, c := range w.confirmed {
		require.Contains(t, lines, c.ID)
		require.NotContains(t, lines, `href="/console/claims/`, "enforcement does not open claims")
	}
	require.Contains(t, lines, "https://img.example/")
	requireNoShopper(t, page.Body, w)
	require.Contains(t, page.Body, b.intel.Signer().KeyID())
	require.NotContains(t, page.Body, `action="/console/cases/`+caseID+`/status"`, "an open case is the admin's to move")

	// Both packets: the signature in the zip is the engine's over the
	// packet's exact bytes, by the published key.
	pub := b.intel.Signer().PublicKey()
	for _, format := range []string{"json", "csv"} {
		r := b.do(t, http.MethodGet, "/console/cases/"+caseID+"/packet.zip?format="+format, inv.cookie, nil)
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		require.Equal(t, "application/zip", r.Header.Get("Content-Type"))
		require.Contains(t, r.Header.Get("Content-Disposition"), "packet-"+caseID+"-"+format+".zip")
		files := readPacket(t, r.Body)
		name := "packet-" + caseID + "." + format
		body, sig := files[name], files[name+".sig"]
		require.NotEmpty(t, body, format)
		require.Len(t, sig, 64)
		require.True(t, intel.Verify(pub, body, sig), "the %s packet verifies with the published key", format)
		require.Equal(t, b.intel.Signer().PublicKeyPEM(), string(files["signing-key.pem"]))
		require.Contains(t, string(files["VERIFY.txt"]), b.intel.Signer().KeyID())
		require.Contains(t, r.Header.Get("Claimsd-Signature"), base64.StdEncoding.EncodeToString(sig))
		tampered := bytes.Clone(body)
		tampered[len(tampered)/2] ^= 1
		require.False(t, intel.Verify(pub, tampered, sig), "a changed byte fails")
		for _, c := range w.confirmed {
			require.Contains(t, string(body), c.ID)
		}
		requireNoShopper(t, string(body), w)
		if format == "json" {
			var doc struct {
				Packet struct {
					ID    string `json:"id"`
					KeyID string `json:"signing_key_id"`
				} `json:"packet"`
				Case struct {
					ID     string            `json:"id"`
					Claims []json.RawMessage `json:"claims"`
				} `json:"case"`
			}
			require.NoError(t, json.Unmarshal(body, &doc))
			require.Equal(t, caseID, doc.Case.ID)
			require.Len(t, doc.Case.Claims, 3)
			require.Equal(t, r.Header.Get("Claimsd-Packet-Id"), doc.Packet.ID)
			require.Equal(t, b.intel.Signer().KeyID(), doc.Packet.KeyID)
		}
	}
	unknown := b.do(t, http.MethodGet, "/console/cases/"+caseID+"/packet.zip?format=pdf", inv.cookie, nil)
	require.Equal(t, http.StatusBadRequest, unknown.Code)

	// The admin refers it; enforcement may then accept, or close with a note.
	admin := b.signIn(t, "admin", "root")
	adminPage := b.do(t, http.MethodGet, "/console/cases/"+caseID, admin.cookie, nil)
	require.Contains(t, adminPage.Body, `id="move-status-referred"`)
	require.Contains(t, adminPage.Body, `id="move-status-closed"`)
	require.NotContains(t, adminPage.Body, `id="move-status-accepted"`)
	require.Contains(t, adminPage.Body, `href="/console/claims/`+w.confirmed[0].ID+`"`, "admins open the claims")
	r := b.post(t, admin, "/console/cases/"+caseID+"/status", url.Values{"status": {"accepted"}, "note": {"take it"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Code)
	require.Contains(t, r.Body, `id="move-status-error">Move: an admin cannot move a case from open to accepted`)
	r = b.post(t, admin, "/console/cases/"+caseID+"/status", url.Values{"status": {"referred"}, "note": {"Three sellers, one account."}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	loc, _, _ := strings.Cut(r.Header.Get("Location"), "#")
	moved := b.do(t, http.MethodGet, loc, admin.cookie, nil)
	require.Contains(t, moved.Body, "You referred the case to enforcement.")
	require.Contains(t, between(t, moved.Body, `id="funnel"`, `</section>`), "open → referred")

	page = b.do(t, http.MethodGet, "/console/cases/"+caseID, inv.cookie, nil)
	require.Contains(t, page.Body, `id="move-status-accepted"`)
	require.Contains(t, page.Body, `id="move-status-closed"`)
	require.NotContains(t, page.Body, `id="move-status-action_taken"`)
	r = b.post(t, inv, "/console/cases/"+caseID+"/status", url.Values{"status": {"closed"}, "note": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Code)
	require.Contains(t, r.Body, `id="move-note-error">Note:`)
	require.Contains(t, r.Body, `id="move-status-closed" name="status" value="closed" checked`, "the choice is kept")
	cs, err := b.intel.Case(context.Background(), claimflow.Viewer{Role: "admin", Subject: "check"}, caseID)
	require.NoError(t, err)
	require.Equal(t, intel.StatusReferred, cs.Status, "nothing moved")
	r = b.post(t, inv, "/console/cases/"+caseID+"/status", url.Values{"status": {"accepted"}, "note": {"Opened file 2291."}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)

	// The access log lists those reads, newest first, the packets with
	// their digests.
	logPage := b.do(t, http.MethodGet, "/console/intelligence/access-log", admin.cookie, nil)
	require.Equal(t, http.StatusOK, logPage.Code, logPage.Body)
	table := between(t, logPage.Body, `<table class="access-log">`, `</table>`)
	require.Contains(t, table, b.name("inv"))
	require.Contains(t, table, "case packet")
	require.Contains(t, table, "case:"+caseID)
	require.Contains(t, table, "sha256:")
	require.Less(t, strings.Index(table, "case status"), strings.Index(table, "case packet"), "newest first")
	bad = b.do(t, http.MethodGet, "/console/intelligence/access-log?before=x", admin.cookie, nil)
	require.Equal(t, http.StatusBadRequest, bad.Code)
	r = b.do(t, http.MethodGet, "/console/intelligence/access-log", inv.cookie, nil)
	require.Equal(t, http.StatusForbidden, r.Code)
}

// TestIntelligenceNotFoundForUnknownCase: a case that does not exist, or
// an id that could not name one, is the not-found page.
func TestIntelligenceNotFoundForUnknownCase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inv := b.signIn(t, "enforcement", "inv")
	for _, p := range []string{"/console/cases/case_nothing", "/console/cases/case_nothing/packet.zip", "/console/cases/..%2f"} {
		r := b.do(t, http.MethodGet, p, inv.cookie, nil)
		require.Equal(t, http.StatusNotFound, r.Code, p)
	}
}

// TestPacketReadsAsTheAPIs: the console's packet and the API's carry the
// same case in the same shape, field for field (the packet's own id and
// time aside), in JSON and in CSV, so a recipient reads either alike.
func TestPacketReadsAsTheAPIs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.seedIntel(t, store)
	caseID := b.ringCase(t, w)
	sub := b.name("inv")
	s := b.signIn(t, "enforcement", sub)
	tok, err := b.keys.Mint("enforcement", sub, time.Hour, b.clock.Now())
	require.NoError(t, err)
	for _, format := range []string{"json", "csv"} {
		r := b.do(t, http.MethodGet, "/console/cases/"+caseID+"/packet.zip?format="+format, s.cookie, nil)
		require.Equal(t, http.StatusOK, r.Code)
		console := readPacket(t, r.Body)["packet-"+caseID+"."+format]
		req := httptest.NewRequest(http.MethodGet, "/v1/intelligence/cases/"+caseID+"/packet?format="+format, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		api := newRecorder(b, req)
		require.Equal(t, http.StatusOK, api.Code, api.Body.String())
		if format == "csv" {
			c, a := readCSV(t, string(console)), readCSV(t, api.Body.String())
			require.Equal(t, a[1:], c[1:], "the CSV packets differ below their first record")
			continue
		}
		var c, a map[string]any
		require.NoError(t, json.Unmarshal(console, &c))
		require.NoError(t, json.Unmarshal(api.Body.Bytes(), &a))
		for _, doc := range []map[string]any{c, a} {
			p := doc["packet"].(map[string]any)
			delete(p, "id")
			delete(p, "generated_at")
		}
		require.Equal(t, a, c)
	}
}

// TestRightsHolderSeesTheShoppersPhotos: a brand's rights holder opens
// the shopper's photos of a confirmed counterfeit from the brand's page:
// the photos without their metadata, not the receipt, not the shopper's
// caption; nothing of a pending claim or another brand's; every read in
// the access log.
func TestRightsHolderSeesTheShoppersPhotos(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.seedIntel(t, store)
	cf := w.confirmed[0]
	add := func(cc counterfeitClaim, file, kind, caption string) evidence.File {
		t.Helper()
		ctx := context.Background()
		up, err := b.proofs.Begin(ctx, claimflow.Viewer{Role: claimflow.RoleShopper, Subject: cc.Shopper}, cc.ID)
		require.NoError(t, err)
		defer up.Abort(ctx)
		require.NoError(t, up.Store(ctx, bytes.NewReader(mediaFile(t, file))))
		f, err := up.Commit(ctx, kind, caption)
		require.NoError(t, err)
		return f
	}
	photo := add(cf, "photo-gps.jpg", "photo", "Taken at 12 Elm Street")
	receipt := add(cf, "receipt.pdf", "receipt", "")
	add(w.pending, "photo-ii.jpg", "", "")

	s := b.signIn(t, "rights_holder", w.holder)
	brandPage := "/console/brands/" + w.brand
	r := b.do(t, http.MethodGet, brandPage, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	photos := brandPage + "/claims/" + cf.ID + "/photos"
	require.Contains(t, r.Body, `href="`+photos+`"`, "a confirmed claim links to its photos")
	require.NotContains(t, r.Body, "/claims/"+w.pending.ID+"/photos", "a pending one does not")

	r = b.do(t, http.MethodGet, photos, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	fileURL := brandPage + "/claims/" + cf.ID + "/evidence/" + photo.ID
	require.Contains(t, r.Body, `<img src="`+fileURL+`/thumbnail"`)
	require.NotContains(t, r.Body, receipt.ID, "not the receipt")
	require.NotContains(t, r.Body, "Elm Street", "not the shopper's words")
	requireNoShopper(t, r.Body, w)

	r = b.do(t, http.MethodGet, fileURL, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Equal(t, "image/jpeg", r.Header.Get("Content-Type"))
	require.False(t, hasGPS([]byte(r.Body)), "without where it was taken")
	r = b.do(t, http.MethodGet, fileURL+"/thumbnail", s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)

	for _, tt := range []struct{ who, path string }{
		{"a pending claim", brandPage + "/claims/" + w.pending.ID + "/photos"},
		{"another brand's claim", brandPage + "/claims/" + w.otherClaim.ID + "/photos"},
		{"the receipt", brandPage + "/claims/" + cf.ID + "/evidence/" + receipt.ID},
		{"another brand's path", "/console/brands/" + w.other + "/claims/" + cf.ID + "/photos"},
	} {
		r := b.do(t, http.MethodGet, tt.path, s.cookie, nil)
		require.Equal(t, http.StatusNotFound, r.Code, tt.who)
	}
	other := b.signIn(t, "rights_holder", w.otherOwner)
	r = b.do(t, http.MethodGet, photos, other.cookie, nil)
	require.Equal(t, http.StatusNotFound, r.Code, "another brand's rights holder")

	entries, err := b.intel.AccessLog(context.Background(), 0, 500)
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		if e.Subject == w.holder && e.Resource == "claim:"+cf.ID {
			actions = append(actions, e.Action)
		}
	}
	require.ElementsMatch(t, []string{"evidence", "evidence_file", "evidence_file"}, actions, "the page, the photo and its thumbnail")
}
