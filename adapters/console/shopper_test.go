package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// shopperOrder stores a seller (once per short name) and an order of the
// shopper's with items, paid paidAgo before now and delivered
// deliveredAgo before now (0: not delivered; paidAgo 0: not paid); it
// returns the order's id.
func (b *testBundle) shopperOrder(t *testing.T, sellerShort, shopper string, items []order.Item, paidAgo, deliveredAgo time.Duration) string {
	t.Helper()
	ctx := context.Background()
	sellerID := b.name(sellerShort)
	_, _, err := b.svc.PutSeller(ctx, seller.Params{ID: sellerID, Name: "Shop " + sellerShort, RiskScore: 10, Verified: true})
	require.NoError(t, err)
	var total int64
	for _, it := range items {
		total += it.UnitAmount * it.Quantity
	}
	p := order.Params{
		ID: b.name(fmt.Sprintf("ord_%d", time.Now().UnixNano())), BuyerID: shopper, SellerID: sellerID, Currency: "EUR",
		Amount: total, Items: items, Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay"},
	}
	now := b.clock.Now()
	if paidAgo > 0 {
		paid := now.Add(-paidAgo)
		p.PaidAt = &paid
	}
	if deliveredAgo > 0 {
		delivered := now.Add(-deliveredAgo)
		p.DeliveredAt = &delivered
	}
	_, _, err = b.svc.PutOrder(ctx, p)
	require.NoError(t, err)
	return p.ID
}

// sneakers is one line of one item for amount.
func sneakers(amount int64) []order.Item {
	return []order.Item{{SKU: "sku_sneakers", Name: "Trail sneakers", Quantity: 1, UnitAmount: amount}}
}

// shopperClaims returns the shopper's claims through claimflow, newest
// first.
func (b *testBundle) shopperClaims(t *testing.T, shopper string) []claimflow.Record {
	t.Helper()
	recs, _, err := b.svc.List(context.Background(), claimflow.Viewer{Role: "shopper", Subject: shopper}, claimflow.ClaimFilter{Limit: 100})
	require.NoError(t, err)
	return recs
}

var formKey = regexp.MustCompile(`name="key" value="([^"]+)"`)

// newClaimForm opens the claim form as the shopper and returns its key.
func (b *testBundle) newClaimForm(t *testing.T, s signedIn) (string, response) {
	t.Helper()
	r := b.do(t, http.MethodGet, "/app/claims/new", s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	m := formKey.FindStringSubmatch(r.Body)
	require.NotNil(t, m, "no key on the form")
	return m[1], r
}

// claimForm is a good form for orderID with key.
func claimForm(orderID, key string) url.Values {
	return url.Values{
		"key": {key}, "order_id": {orderID}, "reason": {"counterfeit"},
		"description":     {"The logo is misprinted and the box has no serial number."},
		"evidence_kind_0": {"photo"}, "evidence_url_0": {"https://photos.example/logo.jpg"},
		"evidence_kind_1": {"photo"}, "evidence_url_1": {""},
		"evidence_kind_2": {"link"}, "evidence_url_2": {""},
	}
}

var claimLocation = regexp.MustCompile(`^/app/claims/(clm_[0-9A-Za-z]+)\?filed=1$`)

// fileThroughForm sends a good form for orderID and returns the new
// claim's id.
func (b *testBundle) fileThroughForm(t *testing.T, s signedIn, orderID string) string {
	t.Helper()
	key, _ := b.newClaimForm(t, s)
	r := b.post(t, s, "/app/claims/new", claimForm(orderID, key))
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	m := claimLocation.FindStringSubmatch(r.Header.Get("Location"))
	require.NotNil(t, m, r.Header.Get("Location"))
	return m[1]
}

func TestShopperHomeIsTheirClaims(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.signIn(t, "shopper", b.name("shp_home"))
	r := b.do(t, http.MethodGet, "/console", s.cookie, nil)
	require.Equal(t, http.StatusSeeOther, r.Code)
	require.Equal(t, "/app/claims", r.Header.Get("Location"))
	r = b.do(t, http.MethodGet, "/app/claims", s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body, "You have not filed a claim yet.")
	require.Contains(t, r.Body, `<a class="app-button" href="/app/claims/new">Report a problem</a>`)
	require.Contains(t, r.Body, `href="/app/claims" aria-current="page">Your claims</a>`)
	require.Contains(t, r.Body, `<header class="top top-app">`)
	require.Contains(t, r.Body, `<a class="brand" href="/app/claims">Help with an order</a>`, "the shopper's own brand")
	require.NotContains(t, r.Body, "brand-sub", "not the staff console's")
}

func TestShopperNewClaimPageListsOnlyTheirOrders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_picker")
	older := b.shopperOrder(t, "sel_picker", shopper, []order.Item{
		{SKU: "sku_bag", Name: "Leather bag", Quantity: 1, UnitAmount: 8000},
		{SKU: "sku_belt", Name: "Leather belt", Quantity: 2, UnitAmount: 1500},
	}, 9*day, 6*day)
	newer := b.shopperOrder(t, "sel_picker", shopper, sneakers(4000), 3*day, day)
	claimed := b.shopperOrder(t, "sel_picker", shopper, sneakers(900), 20*day, 19*day)
	unpaid := b.shopperOrder(t, "sel_picker", shopper, sneakers(500), 0, 0)
	others := b.shopperOrder(t, "sel_picker", b.name("shp_someone_else"), sneakers(700), 2*day, day)
	_, err := b.svc.Submit(context.Background(), claimed, claim.Request{ShopperID: shopper, Reason: "damaged", Description: "Torn."})
	require.NoError(t, err)

	s := b.signIn(t, "shopper", shopper)
	_, r := b.newClaimForm(t, s)
	body := r.Body
	require.NotContains(t, body, others, "another shopper's order")
	require.NotContains(t, body, unpaid, "an unpaid order has nothing to refund")
	iNewer, iOlder, iClaimed := strings.Index(body, newer), strings.Index(body, older), strings.Index(body, claimed)
	require.Positive(t, iNewer)
	require.Greater(t, iOlder, iNewer, "the newest order first")
	require.Greater(t, iClaimed, iOlder)

	require.Contains(t, body, "Shop sel_picker")
	require.Contains(t, body, "40.00 EUR")
	require.Contains(t, body, "Paid "+b.clock.Now().Add(-3*day).Format("2 Jan 2006")+", delivered "+b.clock.Now().Add(-day).Format("2 Jan 2006"))
	// A two-line order offers its lines; a one-line order just lists it.
	require.Contains(t, body, `value="`+older+`/sku_belt"`)
	require.Contains(t, body, "Leather belt × 2 · 30.00 EUR")
	require.NotContains(t, body, `value="`+newer+`/sku_sneakers"`)
	require.Contains(t, body, "<li>Trail sneakers × 1 · 40.00 EUR</li>")
	// The claimed order cannot be picked again.
	require.Regexp(t, `value="`+regexp.QuoteMeta(claimed)+`" disabled`, body)
	require.Contains(t, body, "Already claimed in full")

	// Accessible structure: each group of choices is a fieldset with a
	// legend; each input has its label.
	require.Contains(t, body, "<legend><span class=\"app-num\" aria-hidden=\"true\">1</span> Which order is it about?</legend>")
	require.Contains(t, body, "<legend><span class=\"app-num\" aria-hidden=\"true\">2</span> What is wrong?</legend>")
	for _, id := range []string{"app-order-0", "app-reason-counterfeit", "app-reason-not_received", "app-description", "app-evidence-kind-0", "app-evidence-url-2"} {
		require.Contains(t, body, `<label for="`+id+`"`, id)
		require.Contains(t, body, `id="`+id+`"`, id)
	}
	require.Contains(t, body, "Not the genuine brand", "each reason says what it means")
	require.Contains(t, body, `name="csrf" value="`+s.csrf+`"`)
	require.NotContains(t, body, "There is a problem")

	// A marketplace's order page may link straight to one order.
	r = b.do(t, http.MethodGet, "/app/claims/new?order="+url.QueryEscape(older), s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Regexp(t, `value="`+regexp.QuoteMeta(older)+`" checked`, r.Body)

	// Someone with no paid orders is told so, with no form.
	lone := b.signIn(t, "shopper", b.name("shp_lone"))
	r = b.do(t, http.MethodGet, "/app/claims/new", lone.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body, "You have no paid orders")
	require.NotContains(t, r.Body, `action="/app/claims/new"`)
}

func TestShopperFilesAClaimAndSeesTheDecision(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name      string
		amount    int64
		status    claim.Status
		headline  string
		whatHelps bool
	}{
		{"refunded at once", instantAmount, claim.StatusApproved, "Approved: your refund is on its way", false},
		{"sent to a person", reviewAmount, claim.StatusInReview, "A person is reviewing your claim", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			shopper := b.name("shp_" + strings.ReplaceAll(tc.name, " ", "_"))
			orderID := b.shopperOrder(t, "sel_files", shopper, sneakers(tc.amount), 3*day, day)
			s := b.signIn(t, "shopper", shopper)
			id := b.fileThroughForm(t, s, orderID)

			// Filed through claimflow as the API files it.
			recs := b.shopperClaims(t, shopper)
			require.Len(t, recs, 1)
			rec := recs[0]
			require.Equal(t, id, rec.Claim.ID())
			require.Equal(t, orderID, rec.Claim.OrderID())
			require.Equal(t, tc.status, rec.Claim.Status())
			require.Equal(t, claim.ReasonCounterfeit, rec.Claim.Reason())
			require.Equal(t, tc.amount, rec.Claim.Amount().Amount(), "the whole order")
			require.Equal(t, "The logo is misprinted and the box has no serial number.", rec.Claim.Description())
			require.Equal(t, []claim.Evidence{{Kind: "photo", URL: "https://photos.example/logo.jpg"}}, rec.Claim.Evidence(), "empty rows are not evidence")
			evs := b.events(t, id)
			require.Equal(t, claim.Actor{Kind: "shopper", ID: shopper}, evs[0].Actor)

			// The page after the redirect: the decision and its explanation.
			r := b.do(t, http.MethodGet, "/app/claims/"+id+"?filed=1", s.cookie, nil)
			require.Equal(t, http.StatusOK, r.Code, r.Body)
			ex := claimflow.Explain(rec)
			require.Contains(t, r.Body, "Your claim was sent. Here is our answer.")
			require.Contains(t, r.Body, `<h1 id="app-verdict-h">`+escaped(tc.headline)+`</h1>`)
			require.Contains(t, r.Body, escaped(ex.Summary))
			if tc.whatHelps {
				require.NotEmpty(t, ex.WhatHelps)
				require.Contains(t, r.Body, "What would help")
				require.Contains(t, r.Body, escaped(ex.WhatHelps))
			} else {
				require.NotContains(t, r.Body, "What would help")
			}
			for _, reason := range rec.Decision.Reasons {
				require.Contains(t, r.Body, escaped(reason.Message), "how it was decided")
			}
			require.Contains(t, r.Body, "You filed the claim.")
			require.Contains(t, r.Body, "https://photos.example/logo.jpg")
			require.NotContains(t, r.Body, "risk score", "the seller's risk profile is not the shopper's to see")

			// And their list has it.
			r = b.do(t, http.MethodGet, "/app/claims", s.cookie, nil)
			require.Equal(t, http.StatusOK, r.Code)
			require.Contains(t, r.Body, `href="/app/claims/`+id+`"`)
		})
	}
}

func TestShopperClaimsSomeItemsOfAnOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_items")
	orderID := b.shopperOrder(t, "sel_items", shopper, []order.Item{
		{SKU: "sku_bag", Name: "Leather bag", Quantity: 1, UnitAmount: 8000},
		{SKU: "sku_belt", Name: "Leather belt", Quantity: 2, UnitAmount: 1500},
	}, 3*day, day)
	other := b.shopperOrder(t, "sel_items", shopper, sneakers(2000), 2*day, day)
	s := b.signIn(t, "shopper", shopper)
	key, _ := b.newClaimForm(t, s)
	form := claimForm(orderID, key)
	// A line ticked under another order is not part of this claim.
	form["item"] = []string{orderID + "/sku_belt", other + "/sku_sneakers"}
	r := b.post(t, s, "/app/claims/new", form)
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)

	recs := b.shopperClaims(t, shopper)
	require.Len(t, recs, 1)
	require.Equal(t, []claim.Item{{SKU: "sku_belt", Quantity: 2}}, recs[0].Claim.Items())
	require.Equal(t, int64(3000), recs[0].Claim.Amount().Amount())

	// The form now offers what is left of that order.
	_, page := b.newClaimForm(t, s)
	require.Contains(t, page.Body, "Partly claimed already: 80.00 EUR can still be claimed.")
	claimPage := b.do(t, http.MethodGet, withoutQuery(r.Header.Get("Location")), s.cookie, nil)
	require.Contains(t, claimPage.Body, "<dd>Leather belt × 2</dd>")
}

func TestShopperDoubleSubmitFilesOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_twice")
	orderID := b.shopperOrder(t, "sel_twice", shopper, sneakers(instantAmount), 3*day, day)
	s := b.signIn(t, "shopper", shopper)
	key, _ := b.newClaimForm(t, s)

	first := b.post(t, s, "/app/claims/new", claimForm(orderID, key))
	require.Equal(t, http.StatusSeeOther, first.Code, first.Body)
	second := b.post(t, s, "/app/claims/new", claimForm(orderID, key))
	require.Equal(t, http.StatusSeeOther, second.Code, second.Body)
	require.Equal(t, first.Header.Get("Location"), second.Header.Get("Location"), "the second press shows the first claim")
	require.Len(t, b.shopperClaims(t, shopper), 1)

	// Pressed many times at once: still one claim.
	orderID = b.shopperOrder(t, "sel_twice", shopper, sneakers(instantAmount), 2*day, day)
	key, _ = b.newClaimForm(t, s)
	const n = 6
	locations := make([]string, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := b.post(t, s, "/app/claims/new", claimForm(orderID, key))
			codes[i], locations[i] = r.Code, r.Header.Get("Location")
		}()
	}
	wg.Wait()
	for i := range n {
		require.Equal(t, http.StatusSeeOther, codes[i])
		require.Equal(t, locations[0], locations[i])
	}
	require.Len(t, b.shopperClaims(t, shopper), 2)

	// The same form sent again with other details files nothing and says
	// why, with a fresh key to file them on purpose.
	changed := claimForm(orderID, key)
	changed.Set("description", "Something else entirely.")
	r := b.post(t, s, "/app/claims/new", changed)
	require.Equal(t, http.StatusConflict, r.Code, r.Body)
	require.Contains(t, r.Body, "You already sent this form once with other details")
	require.Contains(t, r.Body, ">Something else entirely.</textarea>")
	m := formKey.FindStringSubmatch(r.Body)
	require.NotNil(t, m)
	require.NotEqual(t, key, m[1])
	require.Len(t, b.shopperClaims(t, shopper), 2)

	// An API call with the same key is another request: its own scope.
	tok, err := b.keys.Mint("shopper", shopper, time.Hour, b.clock.Now())
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, "/v1/claims", strings.NewReader(
		`{"order_id":"`+orderID+`","reason":"counterfeit","description":"Via the API."}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(httpapi.HeaderIdempotencyKey, key)
	api := newRecorder(b, req)
	require.NotEqual(t, http.StatusConflict, api.Code, api.Body.String())
	require.Empty(t, api.Header().Get("Idempotency-Replayed"))
}

func TestShopperSeesOnlyTheirOwnClaims(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann, bob := b.name("shp_ann"), b.name("shp_bob")
	annOrder := b.shopperOrder(t, "sel_own", ann, sneakers(instantAmount), 3*day, day)
	bobOrder := b.shopperOrder(t, "sel_own", bob, sneakers(instantAmount), 3*day, day)
	annS, bobS := b.signIn(t, "shopper", ann), b.signIn(t, "shopper", bob)
	annClaim := b.fileThroughForm(t, annS, annOrder)
	b.clock.Add(time.Second)
	bobClaim := b.fileThroughForm(t, bobS, bobOrder)

	r := b.do(t, http.MethodGet, "/app/claims/"+annClaim, bobS.cookie, nil)
	require.Equal(t, http.StatusNotFound, r.Code, "another shopper's claim is not found, as in the API")
	require.NotContains(t, r.Body, annClaim)
	r = b.do(t, http.MethodGet, "/app/claims/clm_nothing_here", bobS.cookie, nil)
	require.Equal(t, http.StatusNotFound, r.Code)
	r = b.do(t, http.MethodGet, "/app/claims/"+bobClaim, bobS.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)

	list := b.do(t, http.MethodGet, "/app/claims", bobS.cookie, nil)
	require.Contains(t, list.Body, bobClaim)
	require.NotContains(t, list.Body, annClaim)

	// Bob's form cannot file on Ann's order, and says so next to the order.
	key, _ := b.newClaimForm(t, bobS)
	r = b.post(t, bobS, "/app/claims/new", claimForm(annOrder, key))
	require.Equal(t, http.StatusUnprocessableEntity, r.Code)
	require.Contains(t, r.Body, `id="app-order-error">Choose one of your orders from the list.</p>`)
	require.Len(t, b.shopperClaims(t, ann), 1)
	require.Len(t, b.shopperClaims(t, bob), 1)
}

func TestShopperClaimsListNewestFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_list")
	s := b.signIn(t, "shopper", shopper)
	var ids []string
	for i := range 3 {
		orderID := b.shopperOrder(t, "sel_list", shopper, sneakers(int64(1000+i)), 3*day, day)
		ids = append(ids, b.fileThroughForm(t, s, orderID))
		b.clock.Add(time.Second)
	}
	r := b.do(t, http.MethodGet, "/app/claims", s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	a, m, z := strings.Index(r.Body, ids[2]), strings.Index(r.Body, ids[1]), strings.Index(r.Body, ids[0])
	require.Positive(t, a)
	require.Greater(t, m, a)
	require.Greater(t, z, m)
	require.Contains(t, r.Body, "10.02 EUR")
	require.Contains(t, r.Body, "It is fake")
	r = b.do(t, http.MethodGet, "/app/claims?after=not%20a%20cursor", s.cookie, nil)
	require.Equal(t, http.StatusBadRequest, r.Code)
}

func TestOtherRolesCannotOpenShopperPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_staff")
	orderID := b.shopperOrder(t, "sel_staff", shopper, sneakers(instantAmount), 3*day, day)
	id := b.fileThroughForm(t, b.signIn(t, "shopper", shopper), orderID)
	for _, role := range []string{"agent", "admin", "finance", "seller"} {
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			// Even with the shopper's own name: the pages act as a shopper.
			s := b.signIn(t, role, shopper)
			for _, p := range []string{"/app/claims", "/app/claims/new", "/app/claims/" + id} {
				r := b.do(t, http.MethodGet, p, s.cookie, nil)
				require.Equal(t, http.StatusForbidden, r.Code, p)
				require.Contains(t, r.Body, "this page is for shopper")
				require.NotContains(t, r.Body, orderID)
			}
			r := b.post(t, s, "/app/claims/new", claimForm(orderID, "k-"+role))
			require.Equal(t, http.StatusForbidden, r.Code)
			require.Len(t, b.shopperClaims(t, shopper), 1)
		})
	}
	// Signed out: to the sign-in page.
	r := b.do(t, http.MethodGet, "/app/claims/new", nil, nil)
	require.Equal(t, http.StatusSeeOther, r.Code)
	require.Equal(t, "/console/signin", r.Header.Get("Location"))
}

func TestShopperFormWithoutItsTokenFilesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_csrf")
	orderID := b.shopperOrder(t, "sel_csrf", shopper, sneakers(instantAmount), 3*day, day)
	s := b.signIn(t, "shopper", shopper)
	other := b.signIn(t, "shopper", shopper) // the same shopper, another sign-in
	key, _ := b.newClaimForm(t, s)
	for _, tc := range []struct {
		name  string
		token string
	}{
		{"missing", ""},
		{"wrong", "bm90LXRoZS10b2tlbg"},
		{"another sign-in's", other.csrf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			form := claimForm(orderID, key)
			if tc.token != "" {
				form.Set("csrf", tc.token)
			}
			r := b.do(t, http.MethodPost, "/app/claims/new", s.cookie, form)
			require.Equal(t, http.StatusForbidden, r.Code)
			require.Contains(t, r.Body, "nothing was done")
			require.Empty(t, b.shopperClaims(t, shopper))
		})
	}
}

func TestShopperBadInputNamesTheFieldKeepsTheInputAndFilesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_bad")
	orderID := b.shopperOrder(t, "sel_bad", shopper, sneakers(instantAmount), 3*day, day)
	unpaid := b.shopperOrder(t, "sel_bad", shopper, sneakers(instantAmount), 0, 0)
	claimed := b.shopperOrder(t, "sel_bad", shopper, sneakers(instantAmount), 3*day, day)
	others := b.shopperOrder(t, "sel_bad", b.name("shp_other"), sneakers(instantAmount), 3*day, day)
	_, err := b.svc.Submit(context.Background(), claimed, claim.Request{ShopperID: shopper, Reason: "damaged", Description: "Torn."})
	require.NoError(t, err)
	s := b.signIn(t, "shopper", shopper)
	before := len(b.shopperClaims(t, shopper))

	for _, tc := range []struct {
		name    string
		give    func(url.Values)
		errorID string // the error's element, next to its input
		says    string
		status  int
	}{
		{"no order chosen", func(f url.Values) { f.Del("order_id") }, "app-order-error", "Choose the order the problem is with.", 422},
		{"no reason", func(f url.Values) { f.Del("reason") }, "app-reason-error", "Choose what is wrong with the order.", 422},
		{"unknown reason", func(f url.Values) { f.Set("reason", "changed_my_mind") }, "app-reason-error", "Choose what is wrong with the order.", 422},
		{"blank description", func(f url.Values) { f.Set("description", "   ") }, "app-description-error", "Describe what is wrong.", 422},
		{"description too long", func(f url.Values) { f.Set("description", strings.Repeat("d", claim.MaxDescription+1)) },
			"app-description-error", "Description must be at most 4000 characters.", 422},
		{"bad link", func(f url.Values) { f.Set("evidence_url_1", "my photos on the phone") },
			"app-evidence-url-1-error", "Link 2 must be an http or https link", 422},
		{"unknown kind of link", func(f url.Values) {
			f.Set("evidence_kind_2", "hologram")
			f.Set("evidence_url_2", "https://x.example/h")
		},
			"app-evidence-kind-2-error", "Kind of link 3 must be photo, video, document or link.", 422},
		{"another shopper's order", func(f url.Values) { f.Set("order_id", others) }, "app-order-error", "Choose one of your orders from the list.", 422},
		{"no such order", func(f url.Values) { f.Set("order_id", "ord_nothing_here") }, "app-order-error", "Choose one of your orders from the list.", 422},
		{"not an order id", func(f url.Values) { f.Set("order_id", "<script>") }, "app-order-error", "Choose one of your orders from the list.", 422},
		{"unpaid order", func(f url.Values) { f.Set("order_id", unpaid) }, "app-order-error", "That order has not been paid, so there is nothing to refund.", 422},
		{"order claimed in full", func(f url.Values) { f.Set("order_id", claimed) }, "app-order-error",
			"Amount claimed is 10.00 EUR but only 0.00 EUR of this order can still be claimed. Choose only items that are not claimed yet.", 422},
		{"no key", func(f url.Values) { f.Del("key") }, "", "Something was missing from the form, so nothing was sent.", 422},
		{"key with spaces", func(f url.Values) { f.Set("key", "a b") }, "", "Something was missing from the form, so nothing was sent.", 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key, _ := b.newClaimForm(t, s)
			form := claimForm(orderID, key)
			form.Set("evidence_url_1", "https://photos.example/box.jpg")
			tc.give(form)
			r := b.post(t, s, "/app/claims/new", form)
			require.Equal(t, tc.status, r.Code, r.Body)
			require.Contains(t, r.Body, escaped(tc.says))
			require.Contains(t, r.Body, "<title>Error: Report a problem · claimsd</title>")
			require.Contains(t, r.Body, `<h2 id="app-errors-h">There is a problem</h2>`, "the summary leads")
			if tc.errorID != "" {
				require.Regexp(t, `id="`+tc.errorID+`">[^<]*`+regexp.QuoteMeta(escaped(tc.says)), r.Body, "the message sits next to its field")
				input := regexp.QuoteMeta(strings.TrimSuffix(tc.errorID, "-error"))
				switch input {
				case "app-order":
					input = `app-order-\d+` // the order chosen, or the first
				case "app-reason":
					input = "app-reason-counterfeit"
				}
				require.Regexp(t, `<a href="#`+input+`">`, r.Body, "the summary links to the field")
			}
			// What the shopper typed is kept.
			if d := form.Get("description"); strings.TrimSpace(d) != "" && len(d) < 200 {
				require.Contains(t, r.Body, ">"+escaped(d)+"</textarea>")
			}
			if u := form.Get("evidence_url_1"); u != "" {
				require.Contains(t, r.Body, `value="`+escaped(u)+`"`)
			}
			if reason := form.Get("reason"); reason == "counterfeit" {
				require.Regexp(t, `value="counterfeit" checked`, r.Body)
			}
			if o := form.Get("order_id"); o == orderID {
				require.Regexp(t, `value="`+regexp.QuoteMeta(orderID)+`" checked`, r.Body)
			}
			require.Contains(t, r.Body, `name="key" value="`, "the form can be sent again")
			require.Len(t, b.shopperClaims(t, shopper), before, "nothing filed")
		})
	}

	t.Run("everything missing at once", func(t *testing.T) {
		t.Parallel()
		key, _ := b.newClaimForm(t, s)
		r := b.post(t, s, "/app/claims/new", url.Values{"key": {key}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		summary := r.Body[strings.Index(r.Body, "There is a problem"):]
		summary = summary[:strings.Index(summary, "</ul>")]
		iOrder := strings.Index(summary, `<a href="#app-order-0">Choose the order`)
		iReason := strings.Index(summary, `<a href="#app-reason-counterfeit">Choose what is wrong`)
		iDesc := strings.Index(summary, `<a href="#app-description">Describe what is wrong.`)
		require.True(t, iOrder >= 0 && iReason > iOrder && iDesc > iReason, "in the form's order: %s", summary)
		require.Len(t, b.shopperClaims(t, shopper), before)
	})
}

func TestShopperClaimOutsideTheWindowIsDecidedNotRefused(t *testing.T) {
	t.Parallel()
	// The policy's window does not make the form invalid: like the API,
	// the claim is filed and rejected with the reason and what would
	// help, so customer service can look again at it.
	b := setup(t)
	shopper := b.name("shp_late")
	orderID := b.shopperOrder(t, "sel_late", shopper, sneakers(instantAmount), 60*day, 45*day)
	s := b.signIn(t, "shopper", shopper)
	key, _ := b.newClaimForm(t, s)
	form := claimForm(orderID, key)
	form.Set("reason", "damaged")
	r := b.post(t, s, "/app/claims/new", form)
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	recs := b.shopperClaims(t, shopper)
	require.Len(t, recs, 1)
	require.Equal(t, claim.StatusRejected, recs[0].Claim.Status())
	require.Equal(t, "outside_claim_window", recs[0].Decision.Reasons[0].Code)

	page := b.do(t, http.MethodGet, withoutQuery(r.Header.Get("Location")), s.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	ex := claimflow.Explain(recs[0])
	require.Contains(t, page.Body, `<h1 id="app-verdict-h">Not approved</h1>`)
	require.Contains(t, page.Body, escaped(ex.Summary))
	require.Contains(t, page.Body, escaped(ex.WhatHelps))
	require.Contains(t, page.Body, "Not approved: it does not meet the refund policy.")
}

func TestShopperTimelineInPlainWords(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	shopper := b.name("shp_money")
	orderID := b.shopperOrder(t, "sel_money", shopper, sneakers(instantAmount), 3*day, day)
	s := b.signIn(t, "shopper", shopper)
	id := b.fileThroughForm(t, s, orderID)
	refund := &claimflow.RefundStep{Store: store, Now: b.clock.Now,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(store.DB(), sandbox.Config{})}}
	require.NoError(t, refund.Run(ctx, id, 1, 10))
	require.NoError(t, (&claimflow.ChargeSellerStep{Store: store, Now: b.clock.Now}).Run(ctx, id, 1, 10))
	rec := b.get(t, id)
	require.Contains(t, []claim.Status{claim.StatusSellerCharged, claim.StatusClosed}, rec.Claim.Status(), "the seller was charged")

	r := b.do(t, http.MethodGet, "/app/claims/"+id, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body, `<h1 id="app-verdict-h">Refunded</h1>`)
	require.Contains(t, r.Body, "10.00 EUR went back to your original payment method on "+rec.Claim.Refund().At.UTC().Format("2 Jan 2006")+
		". Refund reference: "+rec.Claim.Refund().ID+".")
	timeline := r.Body[strings.Index(r.Body, `id="timeline"`):]
	for _, want := range []string{"You filed the claim.", "Approved at once; the refund was started.", "The money was refunded to your original payment method."} {
		require.Contains(t, timeline, want)
	}
	require.NotContains(t, timeline, "seller", "the seller's charge is not the shopper's business")
	require.NotContains(t, r.Body, "Your claim was sent.", "only right after filing")
}

// withoutQuery drops a URL's query.
func withoutQuery(u string) string {
	p, _, _ := strings.Cut(u, "?")
	return p
}
