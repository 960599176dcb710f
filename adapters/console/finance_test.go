package console_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/adapters/auth"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/console"
	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/brandflow"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
	"github.com/claimsd/claimsd/workflows/intelflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
	"github.com/claimsd/claimsd/workflows/webhookflow"
)

// financeBundle is a console on a database of the test's own: finance's
// pages sum and reconcile everything in it, so each test's numbers are
// its own.
type financeBundle struct {
	*testBundle
	st  *pgstore.Store
	fin *financeflow.Service
}

// setupFinance starts the test's clock at start.
func setupFinance(t *testing.T, start time.Time) *financeBundle {
	t.Helper()
	st := pgtest.Store(t, "console_finance")
	clk := &clock{t: start}
	svc := claimflow.NewService(st, policyfile.Default(), clk.Now)
	fin := financeflow.New(financeflow.Config{Store: st, Now: clk.Now,
		Providers: []financeflow.ProviderRecords{sandbox.New(st.DB(), sandbox.Config{})}})
	keys := auth.Keys{Secret: secret}
	signer, err := intel.NewSigner(intel.DeriveSeed(secret))
	require.NoError(t, err)
	intelligence := intelflow.NewService(st, signer, clk.Now)
	hooks := webhookflow.NewService(st, webhookflow.Options{AllowPrivate: true, Now: clk.Now})
	lab := policyflow.New(policyflow.Config{Store: st, Codec: policyfile.Codec{}, Now: clk.Now})
	_, err = lab.Seed(context.Background(), policyfile.Default())
	require.NoError(t, err)
	e := httpapi.New(httpapi.Deps{Claims: svc, Finance: fin, Secret: secret, Now: clk.Now})
	console.Mount(e, console.Deps{Claims: svc, Finance: fin, Intel: intelligence, Webhooks: hooks, Policies: lab, Keys: keys, Logins: st, Now: clk.Now})
	id := make([]byte, 5)
	_, _ = rand.Read(id)
	return &financeBundle{testBundle: &testBundle{e: e, svc: svc, clock: clk, keys: keys, id: hex.EncodeToString(id),
		intel: intelligence, brands: brandflow.NewService(st, clk.Now), hooks: hooks, lab: lab}, st: st, fin: fin}
}

// utcToday is the start of the current UTC day.
func utcToday() time.Time { return time.Now().UTC().Truncate(day) }

// claimSpec is a claim to file: its seller, amount and currency, reason,
// and whether the order was delivered.
type claimSpec struct {
	seller    string // short name
	amount    int64
	currency  string
	reason    string
	notYetDue bool // not delivered, paid yesterday: a not_received claim is rejected
}

// file files the claim for a new shopper on a new order of theirs.
func (b *financeBundle) file(t *testing.T, s claimSpec) claimflow.Record {
	t.Helper()
	ctx := context.Background()
	if s.currency == "" {
		s.currency = "EUR"
	}
	if s.reason == "" {
		s.reason = "counterfeit"
	}
	sellerID := b.name(s.seller)
	_, _, err := b.svc.PutSeller(ctx, seller.Params{ID: sellerID, Name: "Seller " + s.seller, RiskScore: 10, Verified: true})
	require.NoError(t, err)
	now := b.clock.Now()
	paid := now.Add(-3 * day)
	delivered := now.Add(-day)
	deliveredAt := &delivered
	if s.notYetDue {
		paid, deliveredAt = now.Add(-day), nil
	}
	orderID := b.name(fmt.Sprintf("ord_%d", time.Now().UnixNano()))
	shopper := b.name(fmt.Sprintf("shp_%d", time.Now().UnixNano()))
	_, _, err = b.svc.PutOrder(ctx, order.Params{
		ID: orderID, BuyerID: shopper, SellerID: sellerID, Currency: s.currency, Amount: s.amount,
		Items:   []order.Item{{SKU: "sku_a", Name: "Sneakers", Quantity: 1, UnitAmount: s.amount}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_" + orderID},
		PaidAt:  &paid, DeliveredAt: deliveredAt,
	})
	require.NoError(t, err)
	rec, err := b.svc.Submit(ctx, orderID, claim.Request{ShopperID: shopper, Reason: s.reason,
		Description: "The logo is misprinted and the sole is glued, not stitched."})
	require.NoError(t, err)
	return rec
}

// closed files an instant-refund claim, refunds it through the sandbox
// and charges its seller, as the workflow's steps do; it returns its id.
func (b *financeBundle) closed(t *testing.T, sellerShort string, amount int64, currency string) string {
	t.Helper()
	ctx := context.Background()
	rec := b.file(t, claimSpec{seller: sellerShort, amount: amount, currency: currency})
	require.Equal(t, claim.StatusApproved, rec.Claim.Status())
	id := rec.Claim.ID()
	refund := &claimflow.RefundStep{Store: b.st, Now: b.clock.Now,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(b.st.DB(), sandbox.Config{})}}
	require.NoError(t, refund.Run(ctx, id, 1, 10))
	require.NoError(t, (&claimflow.ChargeSellerStep{Store: b.st, Now: b.clock.Now}).Run(ctx, id, 1, 10))
	return id
}

// owed is what the ledger says the seller owes, read through the service.
func (b *financeBundle) owed(t *testing.T, sellerID string) []money.Money {
	t.Helper()
	m, err := b.svc.SellerBalance(context.Background(), agent, sellerID)
	require.NoError(t, err)
	return m
}

func (b *financeBundle) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, b.st.DB().QueryRow(q, args...).Scan(&n))
	return n
}

var barAttrs = regexp.MustCompile(`data-label="([^"]*)" data-series="([^"]*)" data-value="(\d+)"`)

// chartBars reads the bars of the chart with id off a page: day, then
// series, to value.
func chartBars(t *testing.T, page, id string) map[string]map[string]int64 {
	t.Helper()
	start := strings.Index(page, `aria-labelledby="`+id+`-title `)
	require.NotEqual(t, -1, start, "no chart %s", id)
	end := strings.Index(page[start:], "</svg>")
	require.NotEqual(t, -1, end)
	out := map[string]map[string]int64{}
	for _, m := range barAttrs.FindAllStringSubmatch(page[start:start+end], -1) {
		v, err := strconv.ParseInt(m[3], 10, 64)
		require.NoError(t, err)
		if out[m[1]] == nil {
			out[m[1]] = map[string]int64{}
		}
		out[m[1]][m[2]] = v
	}
	return out
}

func dayLabel(t time.Time) string { return t.Format("2 Jan") }

func TestFinanceOverviewChartsCountTheSeededDays(t *testing.T) {
	t.Parallel()
	today := utcToday()
	dayA, dayB := today.AddDate(0, 0, -2), today.AddDate(0, 0, -1)
	b := setupFinance(t, dayA.Add(10*time.Hour))
	ctx := context.Background()

	// Day A: three instant refunds (two in EUR, one in USD), one sent to a person.
	b.closed(t, "sel_a", 1000, "EUR")
	b.closed(t, "sel_a", 1000, "EUR")
	b.closed(t, "sel_a", 700, "USD")
	require.Equal(t, claim.StatusInReview, b.file(t, claimSpec{seller: "sel_a", amount: reviewAmount}).Claim.Status())
	// Day B: one instant refund, one rejected, and 5.00 EUR paid back.
	b.clock.Add(day)
	b.closed(t, "sel_a", 1000, "EUR")
	require.Equal(t, claim.StatusRejected, b.file(t, claimSpec{seller: "sel_a", amount: 1000, reason: "not_received", notYetDue: true}).Claim.Status())
	_, err := b.fin.RecordRecovery(ctx, claimflow.Viewer{Role: "finance", Subject: "fin"}, financeflow.RecoveryInput{
		SellerID: b.name("sel_a"), Amount: 500, Currency: "EUR", Method: "payment_received", Reference: "bank-1"})
	require.NoError(t, err)
	// Today: nothing yet.
	b.clock.Add(day)

	fin := b.signIn(t, "finance", "fin")
	r := b.do(t, http.MethodGet, "/console/finance?days=7", fin.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	body := r.Body
	la, lb, lc := dayLabel(dayA), dayLabel(dayB), dayLabel(today)

	claims := chartBars(t, body, "chart-claims")
	require.Len(t, claims, 7, "one column per day of the period")
	require.Equal(t, map[string]int64{"instant refund": 3, "sent to review": 1, "rejected": 0}, claims[la])
	require.Equal(t, map[string]int64{"instant refund": 1, "sent to review": 0, "rejected": 1}, claims[lb])
	require.Equal(t, map[string]int64{"instant refund": 0, "sent to review": 0, "rejected": 0}, claims[lc])

	share := chartBars(t, body, "chart-share")
	require.Equal(t, int64(75), share[la]["instant-refund share"])
	require.Equal(t, int64(50), share[lb]["instant-refund share"])
	require.Equal(t, int64(0), share[lc]["instant-refund share"])

	eur := chartBars(t, body, "chart-money-eur")
	require.Equal(t, map[string]int64{"refunded": 2000, "recovered": 0}, eur[la])
	require.Equal(t, map[string]int64{"refunded": 1000, "recovered": 500}, eur[lb])
	usd := chartBars(t, body, "chart-money-usd")
	require.Equal(t, map[string]int64{"refunded": 700, "recovered": 0}, usd[la], "each currency has its own chart")
	require.Equal(t, map[string]int64{"refunded": 0, "recovered": 0}, usd[lb])

	// The figures, the accessible names and the numbers as a table.
	require.Contains(t, body, "<dt>Claims filed</dt><dd>6</dd>")
	require.Contains(t, body, "<dt>Refunded at once</dt><dd>67%</dd>")
	require.Contains(t, body, "<dt>Refunded to shoppers</dt><dd>30.00 EUR, 7.00 USD</dd>")
	require.Contains(t, body, "<dt>Recovered from sellers</dt><dd>5.00 EUR, 0.00 USD</dd>")
	require.Contains(t, body, `<svg class="chart" role="img"`)
	require.Contains(t, body, `<title id="chart-claims-title">Claims filed per day, by outcome</title>`)
	require.Contains(t, body, "<title>"+la+", refunded: 20.00 EUR</title>")
	require.Contains(t, body, "<tr><th scope=\"row\">"+lb+"</th><td class=\"num nowrap\">10.00 EUR</td><td class=\"num nowrap\">5.00 EUR</td></tr>")
	require.Contains(t, body, "<tr><th scope=\"row\">"+lc+"</th><td class=\"num nowrap\">no claims</td>")
	require.NotContains(t, body, "<script")
	require.NotContains(t, body, "style=")

	// 90 days: 90 columns, the same counts.
	r = b.do(t, http.MethodGet, "/console/finance?days=90", fin.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Len(t, chartBars(t, r.Body, "chart-claims"), 90)
	require.Equal(t, int64(3), chartBars(t, r.Body, "chart-claims")[la]["instant refund"])

	// Finance lands on the overview.
	home := b.do(t, http.MethodGet, "/console", fin.cookie, nil)
	require.Equal(t, http.StatusSeeOther, home.Code)
	require.Equal(t, "/console/finance", home.Header.Get("Location"))
}

func TestFinanceOverviewWithNothingToShow(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(12*time.Hour))
	fin := b.signIn(t, "finance", "fin")
	r := b.do(t, http.MethodGet, "/console/finance", fin.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, r.Body, "<dt>Claims filed</dt><dd>0</dd>")
	require.Contains(t, r.Body, "No data for this period")
	require.Contains(t, r.Body, `<header class="top">`)
	require.Contains(t, r.Body, `<a class="brand" href="/console">claimsd<span class="brand-sub"> console</span></a>`, "staff pages keep the console's brand")
	claims := chartBars(t, r.Body, "chart-claims")
	require.Len(t, claims, 30, "the default period is 30 days")
	for _, series := range claims {
		for _, v := range series {
			require.Zero(t, v)
		}
	}
}

// readCSV parses a download, checking it is RFC 4180 (CRLF line ends).
func readCSV(t *testing.T, body string) [][]string {
	t.Helper()
	require.True(t, strings.HasSuffix(body, "\r\n"), "records end with CRLF")
	r := csv.NewReader(bytes.NewReader([]byte(body)))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	require.NoError(t, err, body)
	return recs
}

func column(t *testing.T, header []string, name string) int {
	t.Helper()
	for i, h := range header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in %v", name, header)
	return -1
}

func TestFinanceChargebacksPageAndCSV(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(9*time.Hour))
	ctx := context.Background()
	// The seller's name (the platform's to choose) tries a spreadsheet formula.
	evil := `=HYPERLINK("http://evil.example","click")`
	_, _, err := b.svc.PutSeller(ctx, seller.Params{ID: b.name("sel_x"), Name: evil, RiskScore: 10, Verified: true})
	require.NoError(t, err)
	x1 := b.closed(t, "sel_x", 1000, "EUR")
	b.clock.Add(time.Second) // charged later: listed after
	x2 := b.closed(t, "sel_x", 1250, "EUR")
	y1 := b.closed(t, "sel_y", 900, "EUR")
	// Filing put the seller's plain name back; the platform renames it.
	_, _, err = b.svc.PutSeller(ctx, seller.Params{ID: b.name("sel_x"), Name: evil, RiskScore: 10, Verified: true})
	require.NoError(t, err)
	fin := b.signIn(t, "finance", "fin")
	today := utcToday().Format(time.DateOnly)

	r := b.do(t, http.MethodGet, "/console/finance/chargebacks?from="+today+"&to="+today+"&seller_id="+b.name("sel_x"), fin.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, r.Body, `href="/console/claims/`+x1+`"`)
	require.Contains(t, r.Body, `href="/console/claims/`+x2+`"`)
	require.NotContains(t, r.Body, y1)
	require.Contains(t, r.Body, "2 chargebacks")
	require.Contains(t, r.Body, `<th scope="row">EUR</th><td class="num">2</td><td class="num nowrap">22.50 EUR</td><td class="num nowrap">0.00 EUR</td><td class="num nowrap">22.50 EUR</td>`)
	csvURL := "/console/finance/chargebacks.csv?from=" + today + "&amp;seller_id=" + b.name("sel_x") + "&amp;to=" + today
	require.Contains(t, r.Body, `href="`+csvURL+`" download>Download CSV</a>`)
	require.Contains(t, r.Body, `href="/console/finance/sellers/`+b.name("sel_x")+`/statement?from=`+today)

	// Every seller: three, totals over all.
	r = b.do(t, http.MethodGet, "/console/finance/chargebacks", fin.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, r.Body, "3 chargebacks")
	require.Contains(t, r.Body, "31.50 EUR")

	dl := b.do(t, http.MethodGet, strings.ReplaceAll(csvURL, "&amp;", "&"), fin.cookie, nil)
	require.Equal(t, http.StatusOK, dl.Code, dl.Body)
	require.Equal(t, "text/csv; charset=utf-8; header=present", dl.Header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="chargebacks-`+today+`_`+today+`.csv"`, dl.Header.Get("Content-Disposition"))
	recs := readCSV(t, dl.Body)
	require.Equal(t, []string{"record", "charged_at", "claim_id", "order_id", "seller_id", "seller_name", "reason",
		"status", "contest_by", "recovery", "currency", "amount_minor", "amount"}, recs[0])
	var kinds, ids, amounts []string
	for _, rec := range recs[1:] {
		kinds = append(kinds, rec[0])
		ids = append(ids, rec[column(t, recs[0], "claim_id")])
		amounts = append(amounts, rec[column(t, recs[0], "amount")])
		if rec[0] == "chargeback" {
			require.Equal(t, "'"+evil, rec[column(t, recs[0], "seller_name")], "a formula is written as text")
			require.Equal(t, "EUR", rec[column(t, recs[0], "currency")])
		}
	}
	require.Equal(t, []string{"chargeback", "chargeback", "total_charged", "total_released", "total_standing"}, kinds)
	require.Equal(t, []string{x1, x2}, ids[:2], "oldest first")
	require.Equal(t, []string{"10.00", "12.50", "22.50", "0.00", "22.50"}, amounts)
}

func TestFinanceStatementAndRecoveryForm(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(9*time.Hour))
	sellerID := b.name("sel_st")
	c1 := b.closed(t, "sel_st", 1000, "EUR")
	b.closed(t, "sel_st", 1000, "EUR")
	fin := b.signIn(t, "finance", "fin")
	page := "/console/finance/sellers/" + sellerID + "/statement"

	r := b.do(t, http.MethodGet, page, fin.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, r.Body, `Owes now:</strong> <span class="owed">20.00 EUR</span>`)
	require.Contains(t, r.Body, `href="/console/claims/`+c1+`"`)
	require.Contains(t, r.Body, "2 entries")
	require.Contains(t, r.Body, `<td class="num nowrap">10.00 EUR</td>
      <td class="num nowrap">20.00 EUR</td>`, "the balance runs")
	require.Contains(t, r.Body, `<div><dt>Closing</dt><dd class="closing">20.00 EUR</dd></div>`)
	key := regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`).FindStringSubmatch(r.Body)
	require.NotNil(t, key, "the form carries its key")

	form := func() url.Values {
		return url.Values{"amount": {"5.50"}, "currency": {"EUR"}, "method": {"payment_received"},
			"reference": {"bank-" + b.id}, "note": {"Paid by wire"}, "idempotency_key": {key[1]}}
	}
	post := b.post(t, fin, "/console/finance/sellers/"+sellerID+"/recoveries", form())
	require.Equal(t, http.StatusSeeOther, post.Code, post.Body)
	require.Equal(t, page+"?done=recovery", post.Header.Get("Location"))
	require.Equal(t, []money.Money{money.Of(1450, money.MustCurrency("EUR"))}, b.owed(t, sellerID))

	// A double submit of the same form records nothing more.
	again := b.post(t, fin, "/console/finance/sellers/"+sellerID+"/recoveries", form())
	require.Equal(t, http.StatusSeeOther, again.Code, again.Body)
	require.Equal(t, []money.Money{money.Of(1450, money.MustCurrency("EUR"))}, b.owed(t, sellerID))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM seller_recoveries WHERE seller_id = $1`, sellerID))
	// The same key with other values is refused, and says so.
	other := form()
	other.Set("amount", "1")
	r = b.post(t, fin, "/console/finance/sellers/"+sellerID+"/recoveries", other)
	require.Equal(t, http.StatusConflict, r.Code, r.Body)
	require.Contains(t, r.Body, "This form was sent before with other values")
	require.NotContains(t, r.Body, `value="`+key[1]+`"`, "a fresh key for the next try")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM seller_recoveries WHERE seller_id = $1`, sellerID))

	r = b.do(t, http.MethodGet, page+"?done=recovery", fin.cookie, nil)
	require.Contains(t, r.Body, "The recovery was recorded")
	require.Contains(t, r.Body, `Owes now:</strong> <span class="owed">14.50 EUR</span>`)
	require.Contains(t, r.Body, "payment_received bank-"+b.id+": Paid by wire")

	// The statement as CSV.
	today := utcToday().Format(time.DateOnly)
	dl := b.do(t, http.MethodGet, page+".csv?from="+today+"&to="+today, fin.cookie, nil)
	require.Equal(t, http.StatusOK, dl.Code, dl.Body)
	require.Equal(t, "text/csv; charset=utf-8; header=present", dl.Header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="statement-`+sellerID+`-`+today+`_`+today+`.csv"`, dl.Header.Get("Content-Disposition"))
	recs := readCSV(t, dl.Body)
	require.Equal(t, "record", recs[0][0])
	bal := column(t, recs[0], "balance")
	var rows []string
	for _, rec := range recs[1:] {
		rows = append(rows, rec[0]+" "+rec[column(t, recs[0], "amount")]+" "+rec[bal])
	}
	require.Equal(t, []string{"entry 10.00 10.00", "entry 10.00 20.00", "entry -5.50 14.50", "closing 14.50 "}, rows)

	// An admin may look but not record.
	admin := b.signIn(t, "admin", "root")
	r = b.do(t, http.MethodGet, page, admin.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body, "Only finance records recoveries")
	require.NotContains(t, r.Body, `action="/console/finance/sellers/`+sellerID+`/recoveries"`)
	f := form()
	f.Set("idempotency_key", "console-admin-try")
	r = b.post(t, admin, "/console/finance/sellers/"+sellerID+"/recoveries", f)
	require.Equal(t, http.StatusForbidden, r.Code)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM seller_recoveries WHERE seller_id = $1`, sellerID))

	// An unknown seller has no statement.
	r = b.do(t, http.MethodGet, "/console/finance/sellers/sel_nobody/statement", fin.cookie, nil)
	require.Equal(t, http.StatusNotFound, r.Code)
}

func TestFinanceRecoveryBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(9*time.Hour))
	sellerID := b.name("sel_bad")
	b.closed(t, "sel_bad", 1000, "EUR")
	fin := b.signIn(t, "finance", "fin")
	eur10 := []money.Money{money.Of(1000, money.MustCurrency("EUR"))}
	for _, tc := range []struct {
		name   string
		give   url.Values
		status int
		field  string
		says   string
	}{
		{"no amount", url.Values{"amount": {""}}, 422, "recovery-amount", "Amount is required"},
		{"not a number", url.Values{"amount": {"ten"}}, 422, "recovery-amount", "Amount must be an amount in EUR such as 150.00"},
		{"decimals in yen", url.Values{"amount": {"1.50"}, "currency": {"JPY"}}, 422, "recovery-amount", "Amount must be an amount in JPY such as 150<"},
		{"too many decimals", url.Values{"amount": {"1.234"}}, 422, "recovery-amount", "Amount must be an amount in EUR"},
		{"negative", url.Values{"amount": {"-5"}}, 422, "recovery-amount", "Amount must be an amount in EUR"},
		{"zero", url.Values{"amount": {"0.00"}}, 422, "recovery-amount", "Amount must be more than zero"},
		{"above the maximum", url.Values{"amount": {"10000000000.01"}}, 422, "recovery-amount", "Amount must be at most 10000000000.00 EUR"},
		{"the largest int64 in yen", url.Values{"amount": {"922337203685477"}, "currency": {"JPY"}}, 422, "recovery-amount", "Amount must be at most 1000000000000 JPY"},
		{"bad currency", url.Values{"currency": {"XX"}}, 422, "recovery-currency", "Currency must be a currency code such as EUR"},
		{"no method", url.Values{"method": {""}}, 422, "recovery-method", "Method is required"},
		{"unknown method", url.Values{"method": {"barter"}}, 422, "recovery-method", "Method must be one of payout_netting"},
		{"no reference", url.Values{"reference": {" "}}, 422, "recovery-reference", "Reference is required"},
		{"more than owed", url.Values{"amount": {"10.01"}}, 409, "recovery-amount", "Not recorded: seller " + sellerID + " owes 10.00 EUR"},
		{"nothing owed in USD", url.Values{"currency": {"USD"}}, 409, "recovery-amount", "owes nothing in USD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			form := url.Values{"amount": {"2"}, "currency": {"EUR"}, "method": {"payment_received"},
				"reference": {"ref-" + tc.name}, "idempotency_key": {"console-bad-" + strings.ReplaceAll(tc.name, " ", "-")}}
			for k, v := range tc.give {
				form[k] = v
			}
			r := b.post(t, fin, "/console/finance/sellers/"+sellerID+"/recoveries", form)
			require.Equal(t, tc.status, r.Code, r.Body)
			require.Contains(t, r.Body, tc.says)
			require.Contains(t, r.Body, `id="`+tc.field+`-error"`)
			require.Contains(t, r.Body, "Check the form:")
			require.Equal(t, eur10, b.owed(t, sellerID))
		})
	}
	t.Cleanup(func() {
		require.Zero(t, b.count(t, `SELECT count(*) FROM seller_recoveries`))
	})
}

func TestFinanceReconciliationThroughTheForms(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(9*time.Hour))
	ctx := context.Background()
	lost := b.closed(t, "sel_rec", 1000, "EUR")
	b.closed(t, "sel_rec", 1100, "EUR")
	// The provider lost a refund.
	_, err := b.st.DB().Exec(`DELETE FROM sandbox_refunds WHERE claim_id = $1`, lost)
	require.NoError(t, err)
	b.clock.Add(time.Minute)
	fin := b.signIn(t, "finance", "fin")
	today := utcToday().Format(time.DateOnly)

	r := b.do(t, http.MethodGet, "/console/finance/reconciliations", fin.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, r.Body, "No run yet")

	r = b.post(t, fin, "/console/finance/reconciliations", url.Values{"from": {today}, "to": {today}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	loc := r.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, "/console/finance/reconciliations/rcn_"), loc)
	runID := strings.TrimPrefix(loc, "/console/finance/reconciliations/")
	r = b.do(t, http.MethodGet, loc, fin.cookie, nil)
	require.Contains(t, r.Body, "The run is queued")
	require.NoError(t, b.fin.RunReconciliation(ctx, runID, false)) // as its job does

	r = b.do(t, http.MethodGet, loc, fin.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, r.Body, "<dt>Matched</dt><dd>1</dd>")
	require.Contains(t, r.Body, "<dt>Open exceptions</dt><dd>1</dd>")
	require.Contains(t, r.Body, "<dt>missing at provider</dt><dd>1</dd>")
	require.Contains(t, r.Body, `href="/console/claims/`+lost+`"`)
	m := regexp.MustCompile(`action="/console/finance/reconciliations/` + runID + `/exceptions/(\d+)/resolution"`).FindStringSubmatch(r.Body)
	require.NotNil(t, m, r.Body)
	resolve := "/console/finance/reconciliations/" + runID + "/exceptions/" + m[1] + "/resolution"
	list := b.do(t, http.MethodGet, "/console/finance/reconciliations", fin.cookie, nil)
	require.Contains(t, list.Body, `href="/console/finance/reconciliations/`+runID+`"`)
	require.Contains(t, list.Body, `<span class="badge danger">1</span>`)

	// Without a note, without the form's token, as an admin: nothing changes.
	r = b.post(t, fin, resolve, url.Values{"note": {"  "}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Code, r.Body)
	require.Contains(t, r.Body, `id="resolve-`+m[1]+`-note-error"`)
	require.Contains(t, r.Body, "Note is required")
	r = b.do(t, http.MethodPost, resolve, fin.cookie, url.Values{"note": {"no token"}})
	require.Equal(t, http.StatusForbidden, r.Code)
	admin := b.signIn(t, "admin", "root")
	r = b.post(t, admin, resolve, url.Values{"note": {"admin"}})
	require.Equal(t, http.StatusForbidden, r.Code)
	// A seq past what an item's seq can be (a 32-bit integer) is no
	// exception of the run's.
	for _, seq := range []string{"2147483648", "9223372036854775808"} {
		r = b.post(t, fin, "/console/finance/reconciliations/"+runID+"/exceptions/"+seq+"/resolution", url.Values{"note": {"far"}})
		require.Equal(t, http.StatusNotFound, r.Code, "%s: %s", seq, r.Body)
	}
	require.Equal(t, 1, b.count(t, `SELECT open_exceptions FROM reconciliation_runs WHERE id = $1`, runID))

	note := `=HYPERLINK("http://evil.example","click")`
	r = b.post(t, fin, resolve, url.Values{"note": {note}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	require.Equal(t, loc+"?done=resolved#exception-"+m[1], r.Header.Get("Location"))
	require.Zero(t, b.count(t, `SELECT open_exceptions FROM reconciliation_runs WHERE id = $1`, runID))
	r = b.do(t, http.MethodGet, withoutFragment(r.Header.Get("Location")), fin.cookie, nil)
	require.Contains(t, r.Body, "The exception is resolved")
	require.Contains(t, r.Body, "Resolved by finance:fin")
	require.Contains(t, r.Body, escaped(note))
	require.NotContains(t, r.Body, `action="`+resolve+`"`)

	// A second resolution is refused and says why.
	r = b.post(t, fin, resolve, url.Values{"note": {"again"}})
	require.Equal(t, http.StatusConflict, r.Code, r.Body)
	require.Contains(t, r.Body, "Exception "+m[1]+" was not resolved")

	// The items, as CSV, the note written as text.
	dl := b.do(t, http.MethodGet, loc+"/items.csv", fin.cookie, nil)
	require.Equal(t, http.StatusOK, dl.Code, dl.Body)
	require.Equal(t, "text/csv; charset=utf-8; header=present", dl.Header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="reconciliation-`+runID+`.csv"`, dl.Header.Get("Content-Disposition"))
	recs := readCSV(t, dl.Body)
	require.Len(t, recs, 3, "a header, a matched item, an exception")
	require.Equal(t, "seq", recs[0][0])
	kinds := map[string]string{}
	for _, rec := range recs[1:] {
		kinds[rec[column(t, recs[0], "kind")]] = rec[column(t, recs[0], "resolution_note")]
	}
	require.Equal(t, map[string]string{"matched": "", "missing_at_provider": "'" + note}, kinds)

	// An admin may ask for a run too, as in the API.
	r = b.post(t, admin, "/console/finance/reconciliations", url.Values{"from": {today}, "to": {today}})
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
}

func TestFinanceReconciliationRequestBadInput(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(9*time.Hour))
	fin := b.signIn(t, "finance", "fin")
	today := utcToday()
	d := func(n int) string { return today.AddDate(0, 0, n).Format(time.DateOnly) }
	for _, tc := range []struct {
		name     string
		from, to string
		field    string
		says     string
	}{
		{"no from", "", d(0), "run-from", "From is required"},
		{"no to", d(0), "", "run-to", "To is required"},
		{"not a date", "yesterday", d(0), "run-from", "From must be a date such as"},
		{"to before from", d(-1), d(-2), "run-to", "To must not be before from"},
		{"too long", d(-40), d(-1), "run-to", "a reconciliation covers at most 31 days"},
		{"in the future", d(1), d(2), "run-from", "From must be in the past"},
		{"from year 1", "0001-01-01", "0001-01-02", "run-from", "From must be on or after 1970-01-01"},
		{"to the last day there is", "9999-12-30", "9999-12-31", "run-to", "To must be on or before 9999-12-30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := b.post(t, fin, "/console/finance/reconciliations", url.Values{"from": {tc.from}, "to": {tc.to}})
			require.Equal(t, http.StatusUnprocessableEntity, r.Code, r.Body)
			require.Contains(t, r.Body, tc.says)
			require.Contains(t, r.Body, `id="`+tc.field+`-error"`)
		})
	}
	t.Cleanup(func() { require.Zero(t, b.count(t, `SELECT count(*) FROM reconciliation_runs`)) })
}

func TestFinanceTrialBalanceBalances(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(9*time.Hour))
	b.closed(t, "sel_tb", 1000, "EUR")
	b.closed(t, "sel_tb", 700, "USD")
	fin := b.signIn(t, "finance", "fin")

	r := b.do(t, http.MethodGet, "/console/finance/trial-balance", fin.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	for _, cur := range []string{"EUR", "USD"} {
		require.Contains(t, r.Body, `<h2 id="tb-`+cur+`-h">`+cur+` <span class="badge balanced">balanced</span></h2>`)
	}
	require.Contains(t, r.Body, `<th scope="row" class="mono">seller_receivable:`+b.name("sel_tb")+`</th><td class="num nowrap">10.00 EUR</td><td class="num nowrap">0.00 EUR</td><td class="num nowrap">10.00 EUR</td>`)
	require.Regexp(t, `<tfoot><tr><th scope="row">Total</th><td class="num nowrap">(\d+\.\d\d) EUR</td><td class="num nowrap">(\d+\.\d\d) EUR</td>`, r.Body)
	tot := regexp.MustCompile(`<tfoot><tr><th scope="row">Total</th><td class="num nowrap">([^<]+)</td><td class="num nowrap">([^<]+)</td>`).FindAllStringSubmatch(r.Body, -1)
	require.Len(t, tot, 2)
	for _, m := range tot {
		require.Equal(t, m[1], m[2], "debits equal credits")
	}

	yesterday := utcToday().AddDate(0, 0, -1).Format(time.DateOnly)
	r = b.do(t, http.MethodGet, "/console/finance/trial-balance?as_of="+yesterday, fin.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	require.Contains(t, r.Body, "Nothing was posted to the ledger by then.")

	r = b.do(t, http.MethodGet, "/console/finance/trial-balance?as_of=31-12-2026", fin.cookie, nil)
	require.Equal(t, http.StatusBadRequest, r.Code)
	require.Contains(t, r.Body, `id="tb-as-of-error"`)
	require.Contains(t, r.Body, "As of must be a date such as")
}

func TestFinanceReportsBadInput(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(9*time.Hour))
	b.closed(t, "sel_q", 1000, "EUR")
	fin := b.signIn(t, "finance", "fin")
	statement := "/console/finance/sellers/" + b.name("sel_q") + "/statement"
	for _, tc := range []struct {
		path  string
		field string
		says  string
	}{
		{"/console/finance?days=8", "ov-days", "Period must be 7, 30 or 90 days"},
		{"/console/finance?days=x", "ov-days", "Period must be 7, 30 or 90 days"},
		{"/console/finance/chargebacks?from=2026-13-01", "cb-from", "From must be a date such as"},
		{"/console/finance/chargebacks?from=2026-03-02&to=2026-03-01", "cb-to", "To must not be before from"},
		{"/console/finance/chargebacks?from=2020-01-01&to=2026-01-01", "cb-to", "To must be within 366 days of from"},
		{"/console/finance/chargebacks?status=lost", "cb-status", "Status must be one of the listed statuses"},
		{"/console/finance/chargebacks?seller_id=has+space", "cb-seller-id", "Seller may hold only"},
		{"/console/finance/chargebacks?seller_id=sel_nobody", "cb-seller-id", "Seller is not a seller the engine knows"},
		{"/console/finance/chargebacks.csv?to=never", "cb-to", "To must be a date such as"},
		{statement + "?from=2026-03-02&to=2026-03-01", "st-to", "To must not be before from"},
		{statement + ".csv?from=soon", "st-from", "From must be a date such as"},
		{"/console/finance/chargebacks?from=9999-12-01&to=9999-12-31", "cb-to", "To must be on or before 9999-12-30"},
		{"/console/finance/chargebacks?from=0001-01-01&to=0001-01-31", "cb-from", "From must be on or after 1970-01-01"},
		{"/console/finance/chargebacks.csv?from=0000-12-01&to=0001-01-01", "cb-from", "From must be on or after 1970-01-01"},
		{statement + "?from=9999-12-01&to=9999-12-31", "st-to", "To must be on or before 9999-12-30"},
		{statement + ".csv?from=1969-12-01&to=1969-12-31", "st-from", "From must be on or after 1970-01-01"},
		{"/console/finance/trial-balance?as_of=9999-12-31", "tb-as-of", "As of must be on or before 9999-12-30"},
		{"/console/finance/trial-balance?as_of=0001-01-01", "tb-as-of", "As of must be on or after 1970-01-01"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			r := b.do(t, http.MethodGet, tc.path, fin.cookie, nil)
			require.Equal(t, http.StatusBadRequest, r.Code, r.Body)
			require.Contains(t, r.Header.Get("Content-Type"), "text/html", "a bad download is a page, not a file")
			require.Empty(t, r.Header.Get("Content-Disposition"))
			require.Contains(t, r.Body, tc.says)
			require.Contains(t, r.Body, `id="`+tc.field+`-error"`)
			require.Contains(t, r.Body, `aria-invalid="true"`)
		})
	}
}

func TestFinancePagesAreForFinanceAndAdmins(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(9*time.Hour))
	b.closed(t, "sel_role", 1000, "EUR")
	sellerID := b.name("sel_role")
	pages := []string{"/console/finance", "/console/finance/chargebacks", "/console/finance/chargebacks.csv",
		"/console/finance/sellers/" + sellerID + "/statement", "/console/finance/sellers/" + sellerID + "/statement.csv",
		"/console/finance/reconciliations", "/console/finance/trial-balance"}
	for _, role := range []string{"agent", "seller", "shopper"} {
		s := b.signIn(t, role, sellerID)
		for _, p := range pages {
			r := b.do(t, http.MethodGet, p, s.cookie, nil)
			require.Equal(t, http.StatusForbidden, r.Code, "%s on %s", role, p)
			require.Contains(t, r.Body, "this page is for finance, admin")
			require.Empty(t, r.Header.Get("Content-Disposition"))
		}
		r := b.post(t, s, "/console/finance/sellers/"+sellerID+"/recoveries", url.Values{"amount": {"1"}, "currency": {"EUR"},
			"method": {"payment_received"}, "reference": {"r-" + role}, "idempotency_key": {"console-" + role}})
		require.Equal(t, http.StatusForbidden, r.Code)
		r = b.post(t, s, "/console/finance/reconciliations", url.Values{"from": {"2026-01-01"}, "to": {"2026-01-01"}})
		require.Equal(t, http.StatusForbidden, r.Code)
	}
	admin := b.signIn(t, "admin", "root")
	for _, p := range pages {
		r := b.do(t, http.MethodGet, p, admin.cookie, nil)
		require.Equal(t, http.StatusOK, r.Code, "admin on %s: %s", p, r.Body)
	}
	// No sign-in: to the sign-in page.
	r := b.do(t, http.MethodGet, "/console/finance", nil, nil)
	require.Equal(t, http.StatusSeeOther, r.Code)
	require.Equal(t, "/console/signin", r.Header.Get("Location"))

	// A finance form without its token changes nothing.
	fin := b.signIn(t, "finance", "fin")
	for _, p := range []string{"/console/finance/sellers/" + sellerID + "/recoveries", "/console/finance/reconciliations"} {
		r := b.do(t, http.MethodPost, p, fin.cookie, url.Values{"amount": {"1"}, "currency": {"EUR"}, "method": {"payment_received"},
			"reference": {"no-token"}, "idempotency_key": {"console-no-token"}, "from": {"2026-01-01"}, "to": {"2026-01-01"}})
		require.Equal(t, http.StatusForbidden, r.Code, p)
		require.Contains(t, r.Body, "This form is not from your current sign-in")
	}
	require.Zero(t, b.count(t, `SELECT count(*) FROM seller_recoveries`))
	require.Zero(t, b.count(t, `SELECT count(*) FROM reconciliation_runs`))
	require.Equal(t, []money.Money{money.Of(1000, money.MustCurrency("EUR"))}, b.owed(t, sellerID))

	// The nav shows finance its pages.
	page := b.do(t, http.MethodGet, "/console/finance/chargebacks", fin.cookie, nil)
	require.Contains(t, page.Body, `<a href="/console/finance/chargebacks" aria-current="page">Chargebacks</a>`)
	require.Contains(t, page.Body, `<a href="/console/finance/trial-balance">Trial balance</a>`)
}
