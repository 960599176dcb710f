package pgstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/brand"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/brandflow"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

var (
	intelAdmin = claimflow.Viewer{Role: claimflow.RoleAdmin, Subject: "adm_intel"}
	intelCop   = claimflow.Viewer{Role: claimflow.RoleEnforcement, Subject: "inv_intel"}
)

func newIntel(t *testing.T) *intelflow.Service {
	t.Helper()
	signer, err := intel.NewSigner(intel.DeriveSeed([]byte("pgstore intelligence tests' secret, 32+ bytes")))
	require.NoError(t, err)
	return intelflow.NewService(store, signer, func() time.Time { return now })
}

// intelSeller puts a seller with the given signals (nil: none).
func intelSeller(t *testing.T, svc *claimflow.Service, signals *seller.Signals) string {
	t.Helper()
	id := uniq("sel")
	_, _, err := svc.PutSeller(context.Background(), seller.Params{ID: id, Name: "Seller " + id, RiskScore: 10, Verified: true, Signals: signals})
	require.NoError(t, err)
	return id
}

// counterfeitClaim files a counterfeit claim on a new order of items from
// sellerID (claimItems nil: the whole order; amount nil: their value),
// has it refunded and the seller charged ten days ago, and, with final,
// lets the contest window pass. It returns the claim's id.
func counterfeitClaim(t *testing.T, svc *claimflow.Service, sellerID string, items []order.Item, claimItems []claim.Item, amount *int64, final bool) string {
	t.Helper()
	ctx := context.Background()
	var total int64
	for _, it := range items {
		total += it.Quantity * it.UnitAmount
	}
	paid, delivered := now.Add(-20*24*time.Hour), now.Add(-18*24*time.Hour)
	orderID, shopper := uniq("ord"), uniq("shp")
	_, _, err := svc.PutOrder(ctx, order.Params{ID: orderID, BuyerID: shopper, SellerID: sellerID, Currency: "EUR", Amount: total,
		Items: items, Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_" + orderID},
		PaidAt: &paid, DeliveredAt: &delivered})
	require.NoError(t, err)
	rec, err := svc.Submit(ctx, orderID, claim.Request{ShopperID: shopper, Reason: "counterfeit", Description: "Fake.",
		Items: claimItems, Amount: amount, Evidence: []claim.Evidence{{Kind: "photo", URL: "https://img.example/" + orderID + ".jpg"}}})
	require.NoError(t, err)
	require.Equal(t, claim.StatusApproved, rec.Claim.Status(), "%+v", rec.Decision)
	id := rec.Claim.ID()
	at := func() time.Time { return now.Add(-10 * 24 * time.Hour) }
	refund := &claimflow.RefundStep{Store: store, Now: at,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(store.DB(), sandbox.Config{})}}
	require.NoError(t, refund.Run(ctx, id, 1, 10))
	charge := &claimflow.ChargeSellerStep{Store: store, Now: at, Policy: policyfile.Default()}
	require.NoError(t, charge.Run(ctx, id, 1, 10))
	if final {
		dl := &claimflow.DeadlineStep{Store: store, Policy: policyfile.Default(), Now: func() time.Time { return now }}
		_, err := dl.RunContest(ctx, id)
		require.NoError(t, err)
	}
	return id
}

func putBrand(t *testing.T, holders ...string) string {
	t.Helper()
	id := uniq("brd")
	_, _, err := brandflow.NewService(store, time.Now).Put(context.Background(), brand.Params{ID: id, Name: "Brand " + id, RightsHolders: holders})
	require.NoError(t, err)
	return id
}

// TestCounterfeitLinesShareTheClaimAmount: the lines written when the
// seller is charged carry each item's brand and SKU, and shares of the
// claim's amount that add up to it exactly, whatever the rounding.
func TestCounterfeitLinesShareTheClaimAmount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := claimflow.NewService(store, policyfile.Default(), func() time.Time { return now })
	rh := uniq("rh")
	b1, b2 := putBrand(t, rh), putBrand(t, rh)
	sel := intelSeller(t, svc, nil)
	items := []order.Item{
		{SKU: "bag", Name: "Bag", Quantity: 2, UnitAmount: 333, Brand: b1},
		{SKU: "belt", Name: "Belt", Quantity: 1, UnitAmount: 1001, Brand: b2},
		{SKU: "box", Name: "Box", Quantity: 1, UnitAmount: 7},
	}
	amount := int64(1000) // less than the 1,674 the items are worth
	id := counterfeitClaim(t, svc, sel, items, nil, &amount, false)

	rows, err := store.DB().QueryContext(ctx, `SELECT line, coalesce(brand_id, ''), sku, quantity, amount, charge_status
		FROM counterfeit_lines WHERE claim_id = $1 ORDER BY line`, id)
	require.NoError(t, err)
	type row struct {
		line         int
		brand, sku   string
		qty, amount  int64
		chargeStatus string
	}
	var got []row
	var sum int64
	for rows.Next() {
		var r row
		require.NoError(t, rows.Scan(&r.line, &r.brand, &r.sku, &r.qty, &r.amount, &r.chargeStatus))
		got = append(got, r)
		sum += r.amount
	}
	require.NoError(t, rows.Err())
	// 1000 × 666/1674 = 397.8 → 397; ×1667/1674 = 995.8 → 995, less 397
	// is 598; the last line takes 1000 − 995 = 5.
	require.Equal(t, []row{
		{0, b1, "bag", 2, 397, "open"},
		{1, b2, "belt", 1, 598, "open"},
		{2, "", "box", 1, 5, "open"},
	}, got)
	require.Equal(t, amount, sum)

	// A claim of one unit of one line is that line alone, at its value.
	id2 := counterfeitClaim(t, svc, sel, items, []claim.Item{{SKU: "bag", Quantity: 1}}, nil, true)
	var line, qty, amt int64
	var status string
	require.NoError(t, store.DB().QueryRowContext(ctx, `SELECT line, quantity, amount, charge_status FROM counterfeit_lines WHERE claim_id = $1`, id2).
		Scan(&line, &qty, &amt, &status))
	require.Equal(t, []any{int64(0), int64(1), int64(333), "final"}, []any{line, qty, amt, status}, "the line follows the charge to final")

	// The brand's rights holder reads the confirmed line (and, asking
	// for all, the pending one too), with the shopper's evidence.
	intelSvc := newIntel(t)
	holder := claimflow.Viewer{Role: claimflow.RoleRightsHolder, Subject: rh}
	page, err := intelSvc.Counterfeits(ctx, holder, b1, intelflow.Query{})
	require.NoError(t, err)
	require.Len(t, page.Lines, 1)
	require.Equal(t, id2, page.Lines[0].ClaimID)
	require.Equal(t, intelflow.StatusConfirmed, page.Lines[0].Status)
	require.NotNil(t, page.Lines[0].ConfirmedAt)
	require.Len(t, page.Lines[0].Evidence, 1)
	require.Equal(t, int64(1), page.Totals.Claims)
	require.Equal(t, []intelflow.Amount{{Currency: "EUR", Amount: 333}}, page.Totals.Amounts)
	require.Equal(t, map[string]int64{"confirmed": 1, "pending": 1}, page.Totals.ByStatus)
	require.Equal(t, []intelflow.Group{{Key: "bag", Name: "Bag", Claims: 1, Units: 1, Shoppers: 1,
		Amounts: []intelflow.Amount{{Currency: "EUR", Amount: 333}}}}, page.Totals.BySKU, "a SKU's group is named by its item")
	require.Equal(t, "Seller "+sel, page.Totals.BySeller[0].Name)
	all, err := intelSvc.Counterfeits(ctx, holder, b1, intelflow.Query{Status: intelflow.StatusAll, Limit: 1})
	require.NoError(t, err)
	require.Len(t, all.Lines, 1)
	require.NotEmpty(t, all.Next)
	rest, err := intelSvc.Counterfeits(ctx, holder, b1, intelflow.Query{Status: intelflow.StatusAll, Limit: 1, Cursor: all.Next})
	require.NoError(t, err)
	require.Len(t, rest.Lines, 1)
	require.Empty(t, rest.Next)
	require.ElementsMatch(t, []string{id, id2}, []string{all.Lines[0].ClaimID, rest.Lines[0].ClaimID})

	// Another rights holder, or none of this brand, reads nothing.
	_, err = intelSvc.Counterfeits(ctx, claimflow.Viewer{Role: claimflow.RoleRightsHolder, Subject: uniq("rh")}, b1, intelflow.Query{})
	require.ErrorIs(t, err, claimflow.ErrNotFound)
	_, err = intelSvc.Counterfeits(ctx, claimflow.Viewer{Role: claimflow.RoleAgent, Subject: "agt"}, b1, intelflow.Query{})
	require.ErrorIs(t, err, claimflow.ErrNotFound)
}

// TestVerdictsConfirmDisputeAndRate: a counterfeit verdict confirms a
// pending line, a genuine one disputes a final one (and takes it out of
// the totals and clustering); the rating counts what settled.
func TestVerdictsConfirmDisputeAndRate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := claimflow.NewService(store, policyfile.Default(), func() time.Time { return now })
	intelSvc := newIntel(t)
	rh := uniq("rh")
	b := putBrand(t, rh)
	other := putBrand(t, uniq("rh"))
	holder := claimflow.Viewer{Role: claimflow.RoleRightsHolder, Subject: rh}
	sel := intelSeller(t, svc, nil)
	items := []order.Item{{SKU: "cap", Name: "Cap", Quantity: 1, UnitAmount: 900, Brand: b}}
	pending := counterfeitClaim(t, svc, sel, items, nil, nil, false)
	final := counterfeitClaim(t, svc, sel, items, nil, nil, true)

	// Not a claim of this brand, or not this holder's brand: not found,
	// and nothing written.
	_, _, err := intelSvc.PutVerdict(ctx, holder, other, pending, intel.VerdictParams{Verdict: "counterfeit", Note: "n"})
	require.ErrorIs(t, err, claimflow.ErrNotFound)
	unrelated := counterfeitClaim(t, svc, sel, []order.Item{{SKU: "x", Name: "X", Quantity: 1, UnitAmount: 100}}, nil, nil, false)
	_, _, err = intelSvc.PutVerdict(ctx, holder, b, unrelated, intel.VerdictParams{Verdict: "counterfeit", Note: "n"})
	require.ErrorIs(t, err, claimflow.ErrNotFound)
	_, _, err = intelSvc.PutVerdict(ctx, holder, b, pending, intel.VerdictParams{Verdict: "maybe", Note: "n"})
	require.Error(t, err)
	vs, err := intelSvc.ClaimVerdicts(ctx, pending)
	require.NoError(t, err)
	require.Empty(t, vs)

	v, created, err := intelSvc.PutVerdict(ctx, holder, b, pending, intel.VerdictParams{Verdict: "counterfeit", Note: "wrong stitching", DocumentURL: "https://brand.example/report/1.pdf"})
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, intel.SettledPending, v.Settled)
	v, created, err = intelSvc.PutVerdict(ctx, holder, b, pending, intel.VerdictParams{Verdict: "counterfeit", Note: "wrong stitching and label"})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, 1, v.Revisions)
	require.Empty(t, v.DocumentURL, "a revision replaces the document link too")
	_, _, err = intelSvc.PutVerdict(ctx, holder, b, final, intel.VerdictParams{Verdict: "genuine", Note: "our own stock"})
	require.NoError(t, err)

	page, err := intelSvc.Counterfeits(ctx, holder, b, intelflow.Query{Status: intelflow.StatusAll})
	require.NoError(t, err)
	status := map[string]string{}
	for _, l := range page.Lines {
		status[l.ClaimID] = l.Status
		require.NotNil(t, l.Verdict)
	}
	require.Equal(t, map[string]string{pending: intelflow.StatusConfirmed, final: intelflow.StatusDisputed}, status)
	require.Equal(t, int64(1), page.Totals.Claims, "the disputed line is left out of the totals")

	facts, err := store.ClusterFacts(ctx, 20)
	require.NoError(t, err)
	i := slices.IndexFunc(facts, func(f intel.SellerFacts) bool { return f.SellerID == sel })
	require.GreaterOrEqual(t, i, 0)
	require.Equal(t, int64(1), facts[i].Confirmed, "the verdict's confirmation counts, the disputed charge does not")

	// The pending verdict decides nothing yet; the genuine verdict on a
	// final charge was not borne out.
	rated, err := intelSvc.ClaimVerdicts(ctx, final)
	require.NoError(t, err)
	require.Len(t, rated, 1)
	require.Equal(t, intel.Rating{Verdicts: 2, Decided: 1, BorneOut: 0, PerMille: 0}, rated[0].Rating)
}

// TestCasesOnAGeneratedMarketplace plants rings of sellers linked by
// what the platform fed about them, loners with one confirmed
// counterfeit each, and honest sellers sharing signals among themselves;
// the cases are exactly the rings, under ids that hold as a ring grows.
func TestCasesOnAGeneratedMarketplace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := claimflow.NewService(store, policyfile.Default(), func() time.Time { return now })
	intelSvc := newIntel(t)
	b := putBrand(t)
	str := func(s string) *string { return &s }
	item := func(sku string) []order.Item {
		return []order.Item{{SKU: sku, Name: "Item " + sku, Quantity: 1, UnitAmount: 2500, Brand: b}}
	}
	var rings [][]string
	for r := range 3 {
		acct := uniq("acct")
		var ring []string
		for m := range 3 {
			id := intelSeller(t, svc, &seller.Signals{PaymentAccount: str(acct), Registration: str(uniq("reg"))})
			ring = append(ring, id)
			if m < 2 || r == 0 { // a ring member with no claim is still in the case
				counterfeitClaim(t, svc, id, item(uniq("sku")), nil, nil, true)
			}
		}
		slices.Sort(ring)
		rings = append(rings, ring)
	}
	var innocents []string
	for range 4 { // pairs of honest sellers sharing a warehouse, no claims
		wh := uniq("wh")
		innocents = append(innocents, intelSeller(t, svc, &seller.Signals{Warehouse: str(wh)}),
			intelSeller(t, svc, &seller.Signals{Warehouse: str(wh)}))
	}
	for range 3 { // loners: one confirmed counterfeit each, nothing shared
		id := intelSeller(t, svc, &seller.Signals{PaymentAccount: str(uniq("acct"))})
		counterfeitClaim(t, svc, id, item(uniq("sku")), nil, nil, true)
		innocents = append(innocents, id)
	}

	cases, err := intelSvc.Cases(ctx, intelCop, "")
	require.NoError(t, err)
	caseOf := map[string]intelflow.Case{}
	for _, c := range cases {
		for _, s := range c.Sellers {
			require.NotContains(t, innocents, s.ID, "case %s", c.ID)
			caseOf[s.ID] = c
		}
	}
	for _, ring := range rings {
		c, ok := caseOf[ring[0]]
		require.True(t, ok, "ring %v is a case", ring)
		var ids []string
		for _, s := range c.Sellers {
			ids = append(ids, s.ID)
		}
		require.Equal(t, ring, ids)
		require.Equal(t, intel.StatusOpen, c.Status)
		require.Equal(t, []string{b}, c.Brands)
	}
	require.Equal(t, int64(3), caseOf[rings[0][0]].Confirmed)
	require.Equal(t, []intelflow.Amount{{Currency: "EUR", Amount: 7500}}, caseOf[rings[0][0]].Amounts)

	// The ring grows: a fourth seller on the same payment account, with a
	// confirmed counterfeit, joins the case under the same id.
	first := caseOf[rings[1][0]]
	var acct string
	require.NoError(t, store.DB().QueryRowContext(ctx,
		`SELECT encode(hash, 'hex') FROM seller_signals WHERE seller_id = $1 AND kind = 'payment_account'`, rings[1][0]).Scan(&acct))
	require.NotEmpty(t, acct)
	joiner := uniq("sel")
	_, err = store.DB().ExecContext(ctx, `INSERT INTO sellers (id, name, risk_score, verified, created_at, updated_at) VALUES ($1, 'J', 10, true, now(), now())`, joiner)
	require.NoError(t, err)
	_, err = store.DB().ExecContext(ctx, `INSERT INTO seller_signals (seller_id, kind, hash, created_at) VALUES ($1, 'payment_account', decode($2, 'hex'), now())`, joiner, acct)
	require.NoError(t, err)
	counterfeitClaim(t, svc, joiner, item(uniq("sku")), nil, nil, true)
	detail, err := intelSvc.Case(ctx, intelCop, first.ID)
	require.NoError(t, err)
	require.Len(t, detail.Sellers, 4)
	require.Equal(t, int64(3), detail.Confirmed)
	require.Equal(t, int64(3), detail.Shoppers)
	require.Len(t, detail.Lines, 3)
	require.Len(t, detail.Links, 3, "four sellers on one account: three links")
	for _, l := range detail.Links {
		require.Equal(t, "payment_account", l.Kind)
	}

	// The funnel: only the moves each may make, and each recorded.
	_, err = intelSvc.MoveCase(ctx, intelCop, first.ID, "referred", "")
	require.Error(t, err, "enforcement does not refer")
	moved, err := intelSvc.MoveCase(ctx, intelAdmin, first.ID, "referred", "three sellers, one account")
	require.NoError(t, err)
	require.Equal(t, intel.StatusReferred, moved.Status)
	moved, err = intelSvc.MoveCase(ctx, intelCop, first.ID, "accepted", "opened file 12")
	require.NoError(t, err)
	require.Len(t, moved.Events, 2)
	require.Equal(t, intelCop, moved.Events[1].Actor)
	require.ErrorIs(t, store.MoveCase(ctx, first.ID, intel.StatusReferred, intel.StatusAccepted, intelCop, "again", now), intelflow.ErrCaseMoved)
	_, err = intelSvc.Case(ctx, intelCop, "case_nope")
	require.ErrorIs(t, err, claimflow.ErrNotFound)

	// Every read above is in the access log, newest first.
	entries, err := intelSvc.AccessLog(ctx, 0, intelflow.MaxLimit)
	require.NoError(t, err)
	var mine []string
	for _, e := range entries {
		if e.Subject == intelCop.Subject && e.Resource == "case:"+first.ID {
			mine = append(mine, e.Action)
		}
	}
	require.Equal(t, []string{intelflow.ActionCaseStatus, intelflow.ActionCase}, mine)
	older, err := intelSvc.AccessLog(ctx, entries[0].ID, 1)
	require.NoError(t, err)
	require.Len(t, older, 1)
	require.Less(t, older[0].ID, entries[0].ID)
}
