package stripe_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/stripe"
	"github.com/claimsd/claimsd/adapters/payments/stripe/stripemock"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// The range the listing tests ask for: January 2024, UTC.
var (
	rangeFrom = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rangeTo   = time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
)

// queryProxy forwards to target and keeps the query of every GET under
// /v1/refunds, so a test sees what the real SDK put on the wire.
type queryProxy struct {
	mu      sync.Mutex
	paths   []string
	queries []url.Values
}

func (qp *queryProxy) start(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/refunds") {
			qp.mu.Lock()
			qp.paths = append(qp.paths, r.URL.Path)
			qp.queries = append(qp.queries, r.URL.Query())
			qp.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (qp *queryProxy) recorded() ([]string, []url.Values) {
	qp.mu.Lock()
	defer qp.mu.Unlock()
	return append([]string(nil), qp.paths...), append([]url.Values(nil), qp.queries...)
}

var knownStatuses = []string{
	finance.RefundSucceeded, finance.RefundPending, finance.RefundRequiresAction,
	finance.RefundFailed, finance.RefundCanceled,
}

// TestListRefundsAgainstStripeMock: the listing goes through the real SDK
// as Stripe takes it. stripe-mock serves its fixture list whatever the
// range, so only the mapping's properties are checked, not its values.
func TestListRefundsAgainstStripeMock(t *testing.T) {
	t.Parallel()
	qp := &queryProxy{}
	p, err := stripe.New(stripe.Config{APIKey: "sk_test_123", APIBase: qp.start(t, stripemock.URL(t))})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	got, err := p.ListRefunds(ctx, rangeFrom, rangeTo)
	require.NoError(t, err)
	require.NotEmpty(t, got)
	for _, r := range got {
		require.Equal(t, "stripe", r.Provider)
		require.True(t, strings.HasPrefix(r.ID, "re_"), "refund id %q", r.ID)
		require.Contains(t, knownStatuses, r.Status)
		require.False(t, r.Amount.Currency().IsZero(), "refund %s has no currency", r.ID)
		require.True(t, r.Amount.IsPositive(), "refund %s amount %s", r.ID, r.Amount)
		require.False(t, r.Created.IsZero())
		require.Equal(t, time.UTC, r.Created.Location())
		// stripe-mock expands a charge's balance transaction fixture, not
		// a refund's: there is nothing to compare, so Balance stays unset.
		require.True(t, r.Balance.Currency().IsZero(), "refund %s: balance from a non-refund transaction", r.ID)
	}

	paths, queries := qp.recorded()
	require.Equal(t, []string{"/v1/refunds"}, paths, "one page, one call")
	q := queries[0]
	require.Equal(t, "1704067200", q.Get("created[gte]"))
	require.Equal(t, "1706745600", q.Get("created[lt]"))
	require.Equal(t, "100", q.Get("limit"))
	require.Equal(t, []string{"data.balance_transaction"}, q["expand[0]"])
	require.Empty(t, q.Get("starting_after"))
}

// TestGetRefundAgainstStripeMock: stripe-mock answers a retrieval with its
// fixture under the requested id.
func TestGetRefundAgainstStripeMock(t *testing.T) {
	t.Parallel()
	qp := &queryProxy{}
	p, err := stripe.New(stripe.Config{APIKey: "sk_test_123", APIBase: qp.start(t, stripemock.URL(t))})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	got, found, err := p.GetRefund(ctx, "re_123")
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "re_123", got.ID)
	require.Equal(t, "stripe", got.Provider)
	require.Contains(t, knownStatuses, got.Status)
	require.False(t, got.Amount.Currency().IsZero())
	require.True(t, got.Balance.Currency().IsZero(), "stripe-mock's balance transaction is a charge's, not this refund's")

	paths, queries := qp.recorded()
	require.Equal(t, []string{"/v1/refunds/re_123"}, paths)
	require.Equal(t, []string{"balance_transaction"}, queries[0]["expand[0]"])
}

// listedRefund is a refund object as Stripe serialises it in a list or a
// retrieval; bt is its balance_transaction: nil, an id, or an expanded
// object (see balanceTransaction).
func listedRefund(id, status string, amount int64, currency string, created int64, metadata map[string]string, bt any) map[string]any {
	if metadata == nil {
		metadata = map[string]string{} // Stripe sends {} rather than null
	}
	return map[string]any{
		"id": id, "object": "refund", "status": status, "amount": amount, "currency": currency,
		"created": created, "metadata": metadata, "balance_transaction": bt,
	}
}

// balanceTransaction is an expanded balance transaction object.
func balanceTransaction(id string, amount int64, currency string) map[string]any {
	return map[string]any{"id": id, "object": "balance_transaction", "type": "refund", "amount": amount, "currency": currency}
}

// refundList is one page of GET /v1/refunds.
func refundList(hasMore bool, refunds ...map[string]any) string {
	if refunds == nil {
		refunds = []map[string]any{}
	}
	b, _ := json.Marshal(map[string]any{"object": "list", "url": "/v1/refunds", "has_more": hasMore, "data": refunds})
	return string(b)
}

func jsonBody(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// refundsFake answers the refund reads as Stripe does and records every
// request: GET /v1/refunds with the page for its starting_after, GET
// /v1/refunds/{id} with get.
type refundsFake struct {
	srv *httptest.Server

	// set before the first call
	pages map[string]reply // by starting_after, "" for the first page
	get   reply
	delay time.Duration // before every answer

	mu       sync.Mutex
	requests []request
}

func newRefundsFake(t *testing.T, configure func(f *refundsFake)) *refundsFake {
	t.Helper()
	f := &refundsFake{pages: map[string]reply{"": {status: http.StatusOK, body: refundList(false)}}}
	if configure != nil {
		configure(f)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *refundsFake) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Form: r.Form})
	n := len(f.requests)
	f.mu.Unlock()

	if f.delay > 0 {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(f.delay):
		}
	}

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", fmt.Sprintf("req_fake_%d", n))
	write := func(rep reply) {
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(rep.status)
		_, _ = w.Write([]byte(rep.body))
	}
	missing := reply{status: http.StatusNotFound, body: stripeError("invalid_request_error", "resource_missing", "", "Unrecognized request URL")}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/refunds":
		rep, ok := f.pages[r.Form.Get("starting_after")]
		if !ok {
			rep = reply{status: http.StatusBadRequest, body: stripeError("invalid_request_error", "resource_missing", "starting_after",
				"No such refund: '"+r.Form.Get("starting_after")+"'")}
		}
		write(rep)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/refunds/"):
		write(f.get)
	default:
		write(missing)
	}
}

func (f *refundsFake) recorded() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

func (f *refundsFake) provider(t *testing.T, edit func(cfg *stripe.Config)) *stripe.Provider {
	t.Helper()
	cfg := stripe.Config{APIKey: "sk_test_123", APIBase: f.srv.URL, RatePerSec: 1000, Burst: 100}
	if edit != nil {
		edit(&cfg)
	}
	p, err := stripe.New(cfg)
	require.NoError(t, err)
	return p
}

func TestListRefundsPages(t *testing.T) {
	t.Parallel()
	const (
		t1 = int64(1704200000)
		t2 = int64(1704300000)
		t3 = int64(1704400000)
	)
	f := newRefundsFake(t, func(f *refundsFake) {
		f.pages = map[string]reply{
			"": {status: http.StatusOK, body: refundList(true,
				listedRefund("re_3", "succeeded", 1999, "eur", t3, map[string]string{"claim_id": "c_3", "order_id": "o_3"},
					balanceTransaction("txn_3", -1999, "eur")),
				listedRefund("re_2", "pending", 700, "gbp", t2, nil, "txn_2"), // not expanded: an id only
			)},
			"re_2": {status: http.StatusOK, body: refundList(false,
				listedRefund("re_1", "failed", 500, "usd", t1, map[string]string{"claim_id": "c_1"},
					// not a refund's balance transaction: nothing to compare
					map[string]any{"id": "txn_1", "object": "balance_transaction", "type": "charge", "amount": 500, "currency": "usd"}),
			)},
		}
	})

	got, err := f.provider(t, nil).ListRefunds(t.Context(), rangeFrom, rangeTo)
	require.NoError(t, err)
	require.Equal(t, []finance.ProviderRefund{
		{
			Provider: "stripe", ID: "re_3", ClaimID: "c_3", Status: finance.RefundSucceeded,
			Amount:  money.Of(1999, money.MustCurrency("EUR")),
			Created: time.Unix(t3, 0).UTC(),
			Balance: money.Of(1999, money.MustCurrency("EUR")),
		},
		{
			Provider: "stripe", ID: "re_2", ClaimID: "", Status: finance.RefundPending,
			Amount:  money.Of(700, money.MustCurrency("GBP")),
			Created: time.Unix(t2, 0).UTC(),
		},
		{
			Provider: "stripe", ID: "re_1", ClaimID: "c_1", Status: finance.RefundFailed,
			Amount:  money.Of(500, money.MustCurrency("USD")),
			Created: time.Unix(t1, 0).UTC(),
		},
	}, got)

	reqs := f.recorded()
	require.Len(t, reqs, 2)
	for i, wantAfter := range []string{"", "re_2"} {
		r := reqs[i]
		require.Equal(t, http.MethodGet, r.Method)
		require.Equal(t, "/v1/refunds", r.Path)
		require.Equal(t, "Bearer sk_test_123", r.Header.Get("Authorization"))
		require.Equal(t, wantAfter, r.Form.Get("starting_after"))
		require.Equal(t, "1704067200", r.Form.Get("created[gte]"))
		require.Equal(t, "1706745600", r.Form.Get("created[lt]"))
		require.Equal(t, "100", r.Form.Get("limit"))
		require.Equal(t, []string{"data.balance_transaction"}, r.Form["expand[0]"])
	}
}

// TestListRefundsTimeoutIsPerPage: Config.Timeout bounds each page, not
// the whole listing, so a listing longer than the timeout completes.
func TestListRefundsTimeoutIsPerPage(t *testing.T) {
	t.Parallel()
	const pages = 6
	f := newRefundsFake(t, func(f *refundsFake) {
		f.delay = 40 * time.Millisecond
		f.pages = map[string]reply{}
		after := ""
		for i := range pages {
			id := fmt.Sprintf("re_%d", i)
			f.pages[after] = reply{status: http.StatusOK, body: refundList(i < pages-1,
				listedRefund(id, "succeeded", 100, "eur", 1704200000, nil, nil))}
			after = id
		}
	})
	p := f.provider(t, func(cfg *stripe.Config) { cfg.Timeout = 200 * time.Millisecond })

	got, err := p.ListRefunds(t.Context(), rangeFrom, rangeTo)
	require.NoError(t, err)
	require.Len(t, got, pages)
	require.Len(t, f.recorded(), pages)
}

func TestListRefundsRange(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		giveFrom  time.Time
		giveTo    time.Time
		wantGTE   string // "" when not sent
		wantLT    string
		wantCalls int
	}{
		{name: "whole seconds", giveFrom: rangeFrom, giveTo: rangeTo, wantGTE: "1704067200", wantLT: "1706745600", wantCalls: 1},
		{
			// A refund created in second 1704067200 was created before
			// 1704067200.5 as far as Stripe's whole seconds tell.
			name:     "fractions round up",
			giveFrom: rangeFrom.Add(500 * time.Millisecond), giveTo: rangeTo.Add(time.Nanosecond),
			wantGTE: "1704067201", wantLT: "1706745601", wantCalls: 1,
		},
		{name: "from the beginning", giveFrom: time.Time{}, giveTo: rangeTo, wantGTE: "", wantLT: "1706745600", wantCalls: 1},
		{name: "empty", giveFrom: rangeFrom, giveTo: rangeFrom, wantCalls: 0},
		{name: "empty within a second", giveFrom: rangeFrom.Add(time.Millisecond), giveTo: rangeFrom.Add(time.Second), wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newRefundsFake(t, nil)
			got, err := f.provider(t, nil).ListRefunds(t.Context(), tt.giveFrom, tt.giveTo)
			require.NoError(t, err)
			require.Empty(t, got)
			reqs := f.recorded()
			require.Len(t, reqs, tt.wantCalls)
			if tt.wantCalls > 0 {
				require.Equal(t, tt.wantGTE, reqs[0].Form.Get("created[gte]"))
				require.Equal(t, tt.wantLT, reqs[0].Form.Get("created[lt]"))
			}
		})
	}
}

func TestListRefundsErrors(t *testing.T) {
	t.Parallel()

	ok := func(body string) map[string]reply { return map[string]reply{"": {status: http.StatusOK, body: body}} }
	tests := []struct {
		name          string
		givePages     map[string]reply
		giveFrom      time.Time // zero: rangeFrom
		wantCode      string
		wantPermanent bool
		wantMessage   string
		wantCalls     int
	}{
		{
			name: "server error", givePages: map[string]reply{"": {status: http.StatusInternalServerError,
				body: stripeError("api_error", "", "", "Something went wrong")}},
			wantCode: stripe.CodeUnavailable, wantPermanent: false, wantMessage: "Something went wrong", wantCalls: 1,
		},
		{
			name: "server error on a later page", givePages: map[string]reply{
				"":     {status: http.StatusOK, body: refundList(true, listedRefund("re_2", "succeeded", 100, "eur", 1704200000, nil, nil))},
				"re_2": {status: http.StatusBadGateway, body: "<html>bad gateway</html>"},
			},
			wantCode: stripe.CodeUnavailable, wantPermanent: false, wantCalls: 2,
		},
		{
			name: "unknown currency",
			givePages: ok(refundList(false,
				listedRefund("re_ok", "succeeded", 100, "eur", 1704200000, nil, nil),
				listedRefund("re_odd", "succeeded", 100, "xyz", 1704200000, nil, nil))),
			wantCode: stripe.CodeCurrencyMismatch, wantPermanent: true, wantMessage: "re_odd", wantCalls: 1,
		},
		{
			name: "unknown balance currency",
			givePages: ok(refundList(false,
				listedRefund("re_odd", "succeeded", 100, "eur", 1704200000, nil, balanceTransaction("txn_1", -100, "xyz")))),
			wantCode: stripe.CodeCurrencyMismatch, wantPermanent: true, wantMessage: "re_odd", wantCalls: 1,
		},
		{
			name:      "more promised after an empty page",
			givePages: ok(refundList(true)),
			wantCode:  stripe.CodeUnavailable, wantPermanent: false, wantCalls: 1,
		},
		{
			name:     "range ends before it starts",
			giveFrom: rangeTo.Add(time.Second),
			wantCode: stripe.CodeInvalidRequest, wantPermanent: true, wantCalls: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newRefundsFake(t, func(f *refundsFake) {
				if tt.givePages != nil {
					f.pages = tt.givePages
				}
			})
			from := tt.giveFrom
			if from.IsZero() {
				from = rangeFrom
			}
			got, err := f.provider(t, nil).ListRefunds(t.Context(), from, rangeTo)
			require.Nil(t, got)
			pe := paymentError(t, err)
			require.Equal(t, tt.wantCode, pe.Code)
			require.Equal(t, tt.wantPermanent, pe.Permanent)
			require.Equal(t, tt.wantPermanent, claimflow.IsPermanent(err))
			require.Contains(t, pe.Message, tt.wantMessage)
			require.Len(t, f.recorded(), tt.wantCalls)
		})
	}
}

func TestGetRefund(t *testing.T) {
	t.Parallel()
	f := newRefundsFake(t, func(f *refundsFake) {
		f.get = reply{status: http.StatusOK, body: jsonBody(listedRefund("re_9", "requires_action", 1999, "eur", 1704200000,
			map[string]string{"claim_id": "c_9"}, balanceTransaction("txn_9", -1999, "eur")))}
	})

	got, found, err := f.provider(t, nil).GetRefund(t.Context(), "re_9")
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, finance.ProviderRefund{
		Provider: "stripe", ID: "re_9", ClaimID: "c_9", Status: finance.RefundRequiresAction,
		Amount:  money.Of(1999, money.MustCurrency("EUR")),
		Created: time.Unix(1704200000, 0).UTC(),
		Balance: money.Of(1999, money.MustCurrency("EUR")),
	}, got)

	reqs := f.recorded()
	require.Len(t, reqs, 1)
	require.Equal(t, http.MethodGet, reqs[0].Method)
	require.Equal(t, "/v1/refunds/re_9", reqs[0].Path)
	require.Equal(t, []string{"balance_transaction"}, reqs[0].Form["expand[0]"])
}

func TestGetRefundNotFound(t *testing.T) {
	t.Parallel()
	f := newRefundsFake(t, func(f *refundsFake) {
		f.get = reply{status: http.StatusNotFound,
			body: stripeError("invalid_request_error", "resource_missing", "id", "No such refund: 're_gone'")}
	})

	got, found, err := f.provider(t, nil).GetRefund(t.Context(), "re_gone")
	require.NoError(t, err)
	require.False(t, found)
	require.Equal(t, finance.ProviderRefund{}, got)
	require.Len(t, f.recorded(), 1)
}

func TestGetRefundErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name          string
		giveID        string
		giveReply     reply
		wantCode      string
		wantPermanent bool
		wantMessage   string
		wantCalls     int
	}{
		{
			name: "server error", giveID: "re_1",
			giveReply: reply{status: http.StatusInternalServerError, body: stripeError("api_error", "", "", "Something went wrong")},
			wantCode:  stripe.CodeUnavailable, wantPermanent: false, wantMessage: "Something went wrong", wantCalls: 1,
		},
		{
			name: "bad request", giveID: "re_1",
			giveReply: reply{status: http.StatusBadRequest,
				body: stripeError("invalid_request_error", "parameter_unknown", "expand", "Received unknown parameter")},
			wantCode: stripe.CodeInvalidRequest, wantPermanent: true, wantMessage: "unknown parameter", wantCalls: 1,
		},
		{
			name: "key refused", giveID: "re_1",
			giveReply: reply{status: http.StatusUnauthorized,
				body: stripeError("invalid_request_error", "", "", "Invalid API Key provided")},
			wantCode: stripe.CodeAuthFailed, wantPermanent: false, wantCalls: 1,
		},
		{
			name: "unknown currency", giveID: "re_odd",
			giveReply: reply{status: http.StatusOK, body: jsonBody(listedRefund("re_odd", "succeeded", 100, "xyz", 1704200000, nil, nil))},
			wantCode:  stripe.CodeCurrencyMismatch, wantPermanent: true, wantMessage: "re_odd", wantCalls: 1,
		},
		{
			name: "no id", giveID: "",
			wantCode: stripe.CodeInvalidRequest, wantPermanent: true, wantCalls: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newRefundsFake(t, func(f *refundsFake) { f.get = tt.giveReply })
			_, found, err := f.provider(t, nil).GetRefund(t.Context(), tt.giveID)
			require.False(t, found)
			pe := paymentError(t, err)
			require.Equal(t, tt.wantCode, pe.Code)
			require.Equal(t, tt.wantPermanent, pe.Permanent)
			require.Contains(t, pe.Message, tt.wantMessage)
			require.Len(t, f.recorded(), tt.wantCalls)
		})
	}
}
