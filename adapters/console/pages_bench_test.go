package console_test

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	"github.com/claimsd/claimsd/domain/brand"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/brandflow"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

var pagesClaims = flag.Int("pages-claims", 100_000, "claims in the database for BenchmarkConsolePages")

// BenchmarkConsolePages times every console page, rendered by the real
// router from a database holding -pages-claims claims (100,000 by
// default) filed over the last 90 days by 1,000 shoppers against 50
// sellers: 80 % refunded and charged (with their ledger transactions and
// timelines), 10 % waiting for review, 10 % rejected. (Seller 3's claims
// all wait for review, seller 1's and shopper 1's are all refunded.) The
// goods are brand "bench"'s, so the refunded claims are its counterfeits
// (confirmed once their contest window has passed) and every seller is a
// case of its own for enforcement.
//
//	go test -run '^$' -bench ConsolePages -benchtime 50x ./adapters/console/
func BenchmarkConsolePages(bm *testing.B) {
	st := pgtest.Store(bm, "console_pages")
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { return now }
	svc := claimflow.NewService(st, policyfile.Default(), clock)
	fin := financeflow.New(financeflow.Config{Store: st, Now: clock,
		Providers: []financeflow.ProviderRecords{sandbox.New(st.DB(), sandbox.Config{})}})
	keys := auth.Keys{Secret: secret}
	signer, err := intel.NewSigner(intel.DeriveSeed(secret))
	require.NoError(bm, err)
	intelligence := intelflow.NewService(st, signer, clock)
	e := httpapi.New(httpapi.Deps{Claims: svc, Finance: fin, Secret: secret, Now: clock})
	console.Mount(e, console.Deps{Claims: svc, Finance: fin, Intel: intelligence, Keys: keys, Logins: st, Now: clock})

	start := time.Now()
	closedTpl, reviewTpl, rejectedTpl := pageTemplates(bm, st, svc, now)
	cloneClaims(bm, st, now, *pagesClaims, closedTpl, reviewTpl, rejectedTpl)
	benchIntel(bm, st, clock)
	bm.Logf("seeded %d claims in %s", *pagesClaims, time.Since(start).Round(time.Second))
	cases, err := intelligence.Cases(context.Background(), claimflow.Viewer{Role: "admin", Subject: "bench"}, "")
	require.NoError(bm, err)
	require.NotEmpty(bm, cases)
	caseSample := cases[0].ID

	var sample, sellerSample string
	require.NoError(bm, st.DB().QueryRow(`SELECT id, seller_id FROM claims WHERE status = 'closed' AND shopper_id = 'shp_bench_1'
		ORDER BY id DESC LIMIT 1`).Scan(&sample, &sellerSample))
	from, to := now.AddDate(0, 0, -30).Format("2006-01-02"), now.Format("2006-01-02")
	pages := []struct{ name, role, sub, path string }{
		{"queue", "agent", "ana", "/console/queue"},
		{"queue_by_seller", "agent", "ana", "/console/queue?seller_id=sel_bench_3"},
		{"claim", "agent", "ana", "/console/claims/" + sample},
		{"finance_overview_90d", "finance", "fin", "/console/finance?days=90"},
		{"chargebacks_30d", "finance", "fin", "/console/finance/chargebacks?from=" + from + "&to=" + to},
		{"statement_30d", "finance", "fin", "/console/finance/sellers/sel_bench_1/statement?from=" + from + "&to=" + to},
		{"reconciliations", "finance", "fin", "/console/finance/reconciliations"},
		{"trial_balance", "finance", "fin", "/console/finance/trial-balance"},
		{"seller_overview", "seller", "sel_bench_1", "/console/seller"},
		{"seller_claim", "seller", sellerSample, "/console/seller/claims/" + sample},
		{"seller_statement", "seller", "sel_bench_1", "/console/seller/statement"},
		{"app_claims", "shopper", "shp_bench_1", "/app/claims"},
		{"app_new", "shopper", "shp_bench_1", "/app/claims/new"},
		{"app_claim", "shopper", "shp_bench_1", "/app/claims/" + sample},
		{"brand", "rights_holder", "rh_bench", "/console/brands/bench"},
		{"brand_all", "rights_holder", "rh_bench", "/console/brands/bench?status=all"},
		{"cases", "enforcement", "inv", "/console/cases"},
		{"case", "enforcement", "inv", "/console/cases/" + caseSample},
		{"access_log", "admin", "root", "/console/intelligence/access-log"},
	}
	for _, p := range pages {
		cookie := benchSignIn(bm, e, keys, p.role, p.sub, now)
		bm.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, p.path, nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d\n%s", p.path, rec.Code, rec.Body)
				}
			}
		})
	}
}

// benchSignIn spends a sign-in link for role and sub and returns the
// session cookie.
func benchSignIn(tb testing.TB, e http.Handler, keys auth.Keys, role, sub string, now time.Time) *http.Cookie {
	tb.Helper()
	link, err := console.LoginURL(keys, "http://console.test", role, sub, console.LoginTTL, now)
	require.NoError(tb, err)
	u, err := url.Parse(link)
	require.NoError(tb, err)
	page := httptest.NewRecorder()
	e.ServeHTTP(page, httptest.NewRequest(http.MethodGet, u.RequestURI(), nil))
	require.Equal(tb, http.StatusOK, page.Code)
	m := nonceField.FindStringSubmatch(page.Body.String())
	require.NotNil(tb, m)
	req := httptest.NewRequest(http.MethodPost, "/console/login", nil)
	req.PostForm = url.Values{"t": {u.Query().Get("t")}, "n": {m[1]}}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range page.Result().Cookies() {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	require.Equal(tb, http.StatusSeeOther, rec.Code, rec.Body.String())
	for _, c := range rec.Result().Cookies() {
		if c.Name == console.SessionCookie {
			return c
		}
	}
	tb.Fatal("no session cookie")
	return nil
}

// pageTemplates files three claims through the services, as the engine
// would: one refunded and charged, one waiting for review, one rejected.
// Their rows are what cloneClaims copies.
func pageTemplates(tb testing.TB, st *pgstore.Store, svc *claimflow.Service, now time.Time) (closed, review, rejected string) {
	tb.Helper()
	ctx := context.Background()
	for i := range 50 {
		_, _, err := svc.PutSeller(ctx, seller.Params{ID: fmt.Sprintf("sel_bench_%d", i), Name: fmt.Sprintf("Seller %d", i),
			RiskScore: 10, Verified: true})
		require.NoError(tb, err)
	}
	file := func(orderID string, amount int64, paidAgo, deliveredAgo time.Duration, reason string) claimflow.Record {
		paid, delivered := now.Add(-paidAgo), now.Add(-deliveredAgo)
		_, _, err := svc.PutOrder(ctx, order.Params{
			ID: orderID, BuyerID: "shp_tpl", SellerID: "sel_bench_0", Currency: "EUR", Amount: amount,
			Items:   []order.Item{{SKU: "sku_bag", Name: "Leather bag", Quantity: 1, UnitAmount: amount, Brand: "bench"}},
			Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_" + orderID},
			PaidAt:  &paid, DeliveredAt: &delivered,
		})
		require.NoError(tb, err)
		rec, err := svc.Submit(ctx, orderID, claim.Request{ShopperID: "shp_tpl", Reason: reason,
			Description: "The logo is misprinted and the stitching is loose.",
			Evidence:    []claim.Evidence{{Kind: "photo", URL: "https://img.example/" + orderID + ".jpg"}}})
		require.NoError(tb, err)
		return rec
	}
	day := 24 * time.Hour
	c := file("ord_tpl_closed", 3000, 3*day, day, "counterfeit")
	require.Equal(tb, claim.StatusApproved, c.Claim.Status())
	refund := &claimflow.RefundStep{Store: st, Now: func() time.Time { return now },
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(st.DB(), sandbox.Config{})}}
	require.NoError(tb, refund.Run(ctx, c.Claim.ID(), 1, 10))
	require.NoError(tb, (&claimflow.ChargeSellerStep{Store: st, Now: func() time.Time { return now }}).Run(ctx, c.Claim.ID(), 1, 10))
	r := file("ord_tpl_review", 20000, 3*day, day, "counterfeit")
	require.Equal(tb, claim.StatusInReview, r.Claim.Status())
	x := file("ord_tpl_rejected", 3000, 400*day, 390*day, "damaged")
	require.Equal(tb, claim.StatusRejected, x.Claim.Status())
	return c.Claim.ID(), r.Claim.ID(), x.Claim.ID()
}

// cloneClaims copies the template claims n times over the last 90 days,
// each with an order, timeline and (for refunded ones) ledger
// transactions of its own, in plain SQL, then vacuums.
func cloneClaims(tb testing.TB, st *pgstore.Store, now time.Time, n int, closed, review, rejected string) {
	tb.Helper()
	const batch = 20_000
	for from := 0; from < n; from += batch {
		to := min(from+batch, n)
		ids, tpls, sellers, shoppers := make([]string, 0, to-from), make([]string, 0, to-from), make([]string, 0, to-from), make([]string, 0, to-from)
		created := make([]time.Time, 0, to-from)
		for g := from; g < to; g++ {
			// g × (90 days / n): g × 90 days in nanoseconds would overflow
			// an int64 from the 1,187th claim on.
			at := now.Add(-time.Duration(g)*(90*24*time.Hour/time.Duration(n)) - time.Minute)
			id, err := claim.NewID(at, rand.Reader)
			require.NoError(tb, err)
			tpl := closed
			switch g % 10 {
			case 3:
				tpl = review
			case 7:
				tpl = rejected
			}
			ids, tpls, created = append(ids, id), append(tpls, tpl), append(created, at)
			sellers = append(sellers, fmt.Sprintf("sel_bench_%d", g%50))
			shoppers = append(shoppers, fmt.Sprintf("shp_bench_%d", g%1000))
		}
		_, err := st.DB().Exec(`
			CREATE TEMP TABLE IF NOT EXISTS bench_clone (id text, tpl text, seller_id text, shopper_id text, at timestamptz);
			TRUNCATE bench_clone`)
		require.NoError(tb, err)
		_, err = st.DB().Exec(`
			INSERT INTO bench_clone SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])`,
			ids, tpls, sellers, shoppers, created)
		require.NoError(tb, err)
		_, err = st.DB().Exec(`
			INSERT INTO orders (id, buyer_id, seller_id, currency, amount, items, payment_provider, payment_reference,
			                    paid_at, delivered_at, created_at, updated_at)
			SELECT 'ord_' || b.id, b.shopper_id, b.seller_id, o.currency, o.amount, o.items, o.payment_provider, 'pay_' || b.id,
			       o.paid_at + (b.at - c.created_at), o.delivered_at + (b.at - c.created_at), b.at, b.at
			  FROM bench_clone b JOIN claims c ON c.id = b.tpl JOIN orders o ON o.id = c.order_id;

			INSERT INTO claims (id, order_id, shopper_id, seller_id, reason, status, amount, currency, items, description, evidence,
			                    decision_outcome, decision_reasons, decision_policy_version, decision_tier, decision_facts, decided_at,
			                    version, created_at, updated_at, refund_id, refund_provider, refunded_at, failure_code, failure_reason,
			                    charged_at, refund_attempt, review_deadline, escalated_at, rejection_code, chargeback_status, contest_by, chargeback)
			SELECT b.id, 'ord_' || b.id, b.shopper_id, b.seller_id, c.reason, c.status, c.amount, c.currency, c.items, c.description,
			       c.evidence, c.decision_outcome, c.decision_reasons, c.decision_policy_version, c.decision_tier, c.decision_facts,
			       c.decided_at + (b.at - c.created_at), c.version, b.at, c.updated_at + (b.at - c.created_at),
			       CASE WHEN c.refund_id IS NULL THEN NULL ELSE 're_' || b.id END, c.refund_provider,
			       c.refunded_at + (b.at - c.created_at), c.failure_code, c.failure_reason, c.charged_at + (b.at - c.created_at),
			       c.refund_attempt, c.review_deadline + (b.at - c.created_at), c.escalated_at, c.rejection_code,
			       CASE WHEN c.chargeback_status = 'open' AND c.contest_by + (b.at - c.created_at) < now() THEN 'final'
			            ELSE c.chargeback_status END,
			       c.contest_by + (b.at - c.created_at), c.chargeback
			  FROM bench_clone b JOIN claims c ON c.id = b.tpl;

			INSERT INTO claim_events (claim_id, seq, type, from_status, to_status, actor_kind, actor_id, note, data, created_at)
			SELECT b.id, ev.seq, ev.type, ev.from_status, ev.to_status, ev.actor_kind, ev.actor_id, ev.note, ev.data,
			       ev.created_at + (b.at - c.created_at)
			  FROM bench_clone b JOIN claims c ON c.id = b.tpl JOIN claim_events ev ON ev.claim_id = c.id;

			INSERT INTO ledger_transactions (key, kind, claim_id, description, created_at)
			SELECT replace(t.key, c.id, b.id), t.kind, b.id, t.description, t.created_at + (b.at - c.created_at)
			  FROM bench_clone b JOIN claims c ON c.id = b.tpl JOIN ledger_transactions t ON t.claim_id = c.id;

			INSERT INTO ledger_postings (transaction_id, account, amount, currency)
			SELECT nt.id, replace(p.account, c.seller_id, b.seller_id), p.amount, p.currency
			  FROM bench_clone b JOIN claims c ON c.id = b.tpl
			  JOIN ledger_transactions t ON t.claim_id = c.id
			  JOIN ledger_transactions nt ON nt.key = replace(t.key, c.id, b.id)
			  JOIN ledger_postings p ON p.transaction_id = t.id`)
		require.NoError(tb, err)
	}
	_, err := st.DB().Exec(`VACUUM (ANALYZE) orders, claims, claim_events, ledger_transactions, ledger_postings`)
	require.NoError(tb, err)
}

// benchIntel registers brand "bench" with its rights holder and writes
// the counterfeit lines of the cloned claims (inserted charged, so no
// charge ever moved to write them), as the engine's trigger does.
func benchIntel(tb testing.TB, st *pgstore.Store, clock func() time.Time) {
	tb.Helper()
	_, _, err := brandflow.NewService(st, clock).Put(context.Background(), brand.Params{ID: "bench", Name: "Bench", RightsHolders: []string{"rh_bench"}})
	require.NoError(tb, err)
	_, err = st.DB().Exec(`
		SELECT insert_counterfeit_lines(c) FROM claims c
		 WHERE c.reason = 'counterfeit' AND c.chargeback_status IS NOT NULL
		   AND NOT EXISTS (SELECT 1 FROM counterfeit_lines l WHERE l.claim_id = c.id)`)
	require.NoError(tb, err)
	_, err = st.DB().Exec(`VACUUM (ANALYZE) counterfeit_lines`)
	require.NoError(tb, err)
}
