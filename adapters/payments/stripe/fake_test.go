package stripe_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/stripe"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// reply is one canned HTTP answer of the fake Stripe.
type reply struct {
	status int
	header map[string]string
	body   string
}

// stripeError is the body Stripe sends with an error status.
func stripeError(typ, code, param, msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{
		"type": typ, "code": code, "param": param, "message": msg,
	}})
	return string(b)
}

// refundJSON is a refund object as Stripe serialises it.
func refundJSON(id, status string, amount int64, currency string, metadata map[string]string) string {
	b, _ := json.Marshal(map[string]any{
		"id": id, "object": "refund", "status": status, "amount": amount,
		"currency": currency, "metadata": metadata, "failure_reason": failureReason(status),
	})
	return string(b)
}

func failureReason(status string) any {
	if status == "failed" {
		return "expired_or_canceled_card"
	}
	return nil
}

// request is what the fake recorded of one call.
type request struct {
	Method, Path string
	Header       http.Header
	Form         url.Values // query and body
}

// fakeStripe answers as Stripe does for the few endpoints the Provider
// uses, and records every request.
type fakeStripe struct {
	t   *testing.T
	srv *httptest.Server

	// set before the first call
	currency string  // of the charge and PaymentIntent, default "eur"
	disputed bool    // of the charge
	refunds  []reply // answers to POST /v1/refunds in turn; the last repeats
	listed   string  // JSON array of refunds for GET /v1/refunds
	delay    time.Duration
	// Connect: the charge's own transfer (destination charges), or its
	// transfer group and the transfers listed for it.
	transfer      string
	transferGroup string
	transfers     string // JSON array for GET /v1/transfers

	mu       sync.Mutex
	requests []request
}

func newFake(t *testing.T, configure func(f *fakeStripe)) *fakeStripe {
	t.Helper()
	f := &fakeStripe{t: t, currency: "eur", listed: "[]"}
	if configure != nil {
		configure(f)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeStripe) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Form: r.Form})
	n, posts := len(f.requests), 0
	for _, req := range f.requests {
		if req.Method == http.MethodPost && req.Path == "/v1/refunds" {
			posts++
		}
	}
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
	charge := func(id string) map[string]any {
		ch := map[string]any{"id": id, "object": "charge", "amount": 5000, "currency": f.currency, "disputed": f.disputed}
		if f.transfer != "" {
			ch["transfer"] = f.transfer
		}
		if f.transferGroup != "" {
			ch["transfer_group"] = f.transferGroup
		}
		return ch
	}
	write := func(status int, body any) {
		w.WriteHeader(status)
		if s, ok := body.(string); ok {
			_, _ = w.Write([]byte(s))
			return
		}
		_ = json.NewEncoder(w).Encode(body)
	}
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/charges/"):
		write(http.StatusOK, charge(strings.TrimPrefix(r.URL.Path, "/v1/charges/")))
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/payment_intents/"):
		pi := map[string]any{
			"id": strings.TrimPrefix(r.URL.Path, "/v1/payment_intents/"), "object": "payment_intent",
			"amount": 5000, "currency": f.currency, "latest_charge": "ch_latest",
		}
		if r.Form.Get("expand[0]") == "latest_charge" || r.Form.Get("expand[]") == "latest_charge" {
			pi["latest_charge"] = charge("ch_latest")
		}
		write(http.StatusOK, pi)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/transfers":
		list := f.transfers
		if list == "" {
			list = "[]"
		}
		write(http.StatusOK, `{"object":"list","url":"/v1/transfers","has_more":false,"data":`+list+`}`)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v1/transfers/") && strings.HasSuffix(r.URL.Path, "/reversals"):
		write(http.StatusOK, map[string]any{"id": "trr_fake", "object": "transfer_reversal",
			"amount": parseInt(r.Form.Get("amount")), "currency": f.currency,
			"transfer": strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/transfers/"), "/reversals")})
	case r.Method == http.MethodGet && r.URL.Path == "/v1/refunds":
		write(http.StatusOK, `{"object":"list","url":"/v1/refunds","has_more":false,"data":`+f.listed+`}`)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/refunds":
		if len(f.refunds) == 0 {
			write(http.StatusOK, refundJSON("re_fake", "succeeded", parseInt(r.Form.Get("amount")), f.currency, nil))
			return
		}
		rep := f.refunds[min(posts, len(f.refunds))-1]
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		write(rep.status, rep.body)
	default:
		write(http.StatusNotFound, stripeError("invalid_request_error", "resource_missing", "", "Unrecognized request URL"))
	}
}

func parseInt(s string) int64 {
	var n int64
	_, _ = fmt.Sscan(s, &n)
	return n
}

// recorded returns the requests made so far.
func (f *fakeStripe) recorded() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

// refundPosts returns the POST /v1/refunds requests made so far.
func (f *fakeStripe) refundPosts() []request {
	var out []request
	for _, r := range f.recorded() {
		if r.Method == http.MethodPost && r.Path == "/v1/refunds" {
			out = append(out, r)
		}
	}
	return out
}

// provider returns a Provider talking to the fake.
func (f *fakeStripe) provider(t *testing.T, edit func(cfg *stripe.Config)) *stripe.Provider {
	t.Helper()
	cfg := stripe.Config{APIKey: "sk_test_123", APIBase: f.srv.URL, RatePerSec: 1000, Burst: 100}
	if edit != nil {
		edit(&cfg)
	}
	p, err := stripe.New(cfg)
	require.NoError(t, err)
	return p
}

// refundRequest is a request to refund 12.34 EUR of reference for claim
// c_1 of order o_1.
func refundRequest(reference string) claimflow.RefundRequest {
	return claimflow.RefundRequest{
		IdempotencyKey: "claim/c_1/refund",
		ClaimID:        "c_1",
		OrderID:        "o_1",
		Payment:        order.Payment{Provider: order.ProviderStripe, Reference: reference},
		Amount:         money.Of(1234, money.MustCurrency("EUR")),
	}
}

// paymentError asserts err is a *claimflow.PaymentError and returns it.
func paymentError(t *testing.T, err error) *claimflow.PaymentError {
	t.Helper()
	require.Error(t, err)
	var pe *claimflow.PaymentError
	require.ErrorAs(t, err, &pe)
	return pe
}
