package stripe_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/stripe"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

func TestNew(t *testing.T) {
	t.Parallel()

	t.Run("Valid", func(t *testing.T) {
		t.Parallel()
		for _, give := range []stripe.Config{
			{APIKey: "sk_test_123"},
			{APIKey: "rk_live_abc", APIBase: "https://api.stripe.com", Timeout: time.Second, RatePerSec: 5, Burst: 2},
			{APIKey: "sk_test_123", APIBase: "http://127.0.0.1:12111", MaxRetries: 2},
		} {
			p, err := stripe.New(give)
			require.NoError(t, err)
			require.Equal(t, "stripe", p.Name())
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name string
			give stripe.Config
			want string
		}{
			{name: "no key", give: stripe.Config{}, want: "APIKey is required"},
			{name: "publishable key", give: stripe.Config{APIKey: "pk_test_123"}, want: "secret (sk_…) or restricted (rk_…)"},
			{name: "negative timeout", give: stripe.Config{APIKey: "sk_test_1", Timeout: -time.Second}, want: "Timeout"},
			{name: "negative rate", give: stripe.Config{APIKey: "sk_test_1", RatePerSec: -1}, want: "RatePerSec"},
			{name: "negative burst", give: stripe.Config{APIKey: "sk_test_1", Burst: -1}, want: "Burst"},
			{name: "negative retries", give: stripe.Config{APIKey: "sk_test_1", MaxRetries: -1}, want: "MaxRetries"},
			{name: "base not a URL", give: stripe.Config{APIKey: "sk_test_1", APIBase: "127.0.0.1:12111"}, want: "APIBase"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				_, err := stripe.New(tt.give)
				require.ErrorContains(t, err, tt.want)
			})
		}
	})
}

func TestRefund(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name          string
		giveReference string
		giveStatus    string
		want          claimflow.RefundStatus
	}{
		{name: "charge succeeded", giveReference: "ch_1", giveStatus: "succeeded", want: claimflow.RefundSucceeded},
		{name: "payment succeeded", giveReference: "py_1", giveStatus: "succeeded", want: claimflow.RefundSucceeded},
		{name: "intent succeeded", giveReference: "pi_1", giveStatus: "succeeded", want: claimflow.RefundSucceeded},
		{name: "pending", giveReference: "pi_1", giveStatus: "pending", want: claimflow.RefundPending},
		{name: "requires action", giveReference: "ch_1", giveStatus: "requires_action", want: claimflow.RefundPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(f *fakeStripe) {
				f.refunds = []reply{{status: http.StatusOK, body: refundJSON("re_1", tt.giveStatus, 1234, "eur", nil)}}
			})
			got, err := f.provider(t, nil).Refund(t.Context(), refundRequest(tt.giveReference))
			require.NoError(t, err)
			require.Equal(t, claimflow.Refund{
				ID: "re_1", Provider: "stripe", Status: tt.want, Amount: money.Of(1234, money.MustCurrency("EUR")),
			}, got)
		})
	}
}

func TestRefundIdempotencyKeyOnTheWire(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name          string
		giveReference string
		wantField     string // the form field naming what is refunded
	}{
		{name: "charge", giveReference: "ch_abc", wantField: "charge"},
		{name: "payment intent", giveReference: "pi_abc", wantField: "payment_intent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, nil)
			_, err := f.provider(t, nil).Refund(t.Context(), refundRequest(tt.giveReference))
			require.NoError(t, err)

			posts := f.refundPosts()
			require.Len(t, posts, 1)
			post := posts[0]
			require.Equal(t, "claim/c_1/refund", post.Header.Get("Idempotency-Key"))
			require.Equal(t, "Bearer sk_test_123", post.Header.Get("Authorization"))
			require.Equal(t, "1234", post.Form.Get("amount"))
			require.Equal(t, tt.giveReference, post.Form.Get(tt.wantField))
			require.Equal(t, "c_1", post.Form.Get("metadata[claim_id]"))
			require.Equal(t, "o_1", post.Form.Get("metadata[order_id]"))
			require.Equal(t, "requested_by_customer", post.Form.Get("reason"))
		})
	}
}

func TestRefundErrors(t *testing.T) {
	t.Parallel()

	invalid := func(code, param, msg string) reply {
		return reply{status: http.StatusBadRequest, body: stripeError("invalid_request_error", code, param, msg)}
	}
	tests := []struct {
		name          string
		giveReference string
		giveRequest   func(r *claimflow.RefundRequest) // nil: refundRequest as is
		giveFake      func(f *fakeStripe)
		giveConfig    func(cfg *stripe.Config)
		wantCode      string
		wantPermanent bool
		wantPosts     int // POST /v1/refunds that reached the server
	}{
		{
			name: "reference of another kind", giveReference: "pay_123",
			wantCode: "invalid_request", wantPermanent: true, wantPosts: 0,
		},
		{
			name: "payment of another provider", giveReference: "ch_1",
			giveRequest: func(r *claimflow.RefundRequest) { r.Payment.Provider = order.ProviderSandbox },
			wantCode:    "invalid_request", wantPermanent: true, wantPosts: 0,
		},
		{
			name: "disputed charge", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) { f.disputed = true },
			wantCode: "charge_disputed", wantPermanent: true, wantPosts: 0,
		},
		{
			name: "disputed latest charge", giveReference: "pi_1",
			giveFake: func(f *fakeStripe) { f.disputed = true },
			wantCode: "charge_disputed", wantPermanent: true, wantPosts: 0,
		},
		{
			name: "currency of the charge differs", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) { f.currency = "usd" },
			wantCode: "currency_mismatch", wantPermanent: true, wantPosts: 0,
		},
		{
			name: "charge already refunded by someone else", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{invalid("charge_already_refunded", "", "Charge ch_1 has already been refunded.")}
				f.listed = `[` + refundJSON("re_other", "succeeded", 5000, "eur", map[string]string{"claim_id": "c_2"}) + `]`
			},
			wantCode: "charge_already_refunded", wantPermanent: true, wantPosts: 1,
		},
		{
			name: "charge disputed after the check", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{invalid("charge_disputed", "", "Charge ch_1 has been charged back.")}
			},
			wantCode: "charge_disputed", wantPermanent: true, wantPosts: 1,
		},
		{
			name: "amount too large", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{invalid("amount_too_large", "amount", "Amount too large.")}
			},
			wantCode: "amount_too_large", wantPermanent: true, wantPosts: 1,
		},
		{
			name: "amount above the charge", giveReference: "pi_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{invalid("", "amount", "Refund amount (€60.00) is greater than charge amount (€50.00)")}
			},
			wantCode: "amount_too_large", wantPermanent: true, wantPosts: 1,
		},
		{
			name: "no such charge", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{{status: http.StatusNotFound, body: stripeError("invalid_request_error", "resource_missing", "charge", "No such charge")}}
			},
			wantCode: "invalid_request", wantPermanent: true, wantPosts: 1,
		},
		{
			name: "other invalid request", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{invalid("charge_not_refundable", "", "This charge cannot be refunded.")}
			},
			wantCode: "invalid_request", wantPermanent: true, wantPosts: 1,
		},
		{
			name: "card error with a code", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{{status: http.StatusPaymentRequired, body: stripeError("card_error", "expired_card", "", "The card has expired.")}}
			},
			wantCode: "expired_card", wantPermanent: true, wantPosts: 1,
		},
		{
			name: "generic card error", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{{status: http.StatusPaymentRequired, body: stripeError("card_error", "", "", "The card was declined.")}}
			},
			wantCode: "declined", wantPermanent: true, wantPosts: 1,
		},
		{
			name: "idempotency key reused with other parameters", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{{status: http.StatusConflict, body: stripeError("idempotency_error", "", "", "Keys for idempotent requests can only be used with the same parameters they were first used with.")}}
			},
			wantCode: "idempotency_mismatch", wantPermanent: true, wantPosts: 1,
		},
		{
			name: "idempotency key in use", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{{status: http.StatusConflict, body: stripeError("invalid_request_error", "idempotency_key_in_use", "", "There is currently another in-progress request using this Idempotent Key.")}}
			},
			wantCode: "idempotency_key_in_use", wantPermanent: false, wantPosts: 1,
		},
		{
			name: "refund failed", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{{status: http.StatusOK, body: refundJSON("re_1", "failed", 1234, "eur", nil)}}
			},
			wantCode: "refund_failed", wantPermanent: true, wantPosts: 1,
		},
		{
			name: "refund canceled", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{{status: http.StatusOK, body: refundJSON("re_1", "canceled", 1234, "eur", nil)}}
			},
			wantCode: "refund_failed", wantPermanent: true, wantPosts: 1,
		},
		{
			name: "rate limited twice", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{{
					status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "0"},
					body: stripeError("invalid_request_error", "rate_limit", "", "Too many requests hit the API too quickly."),
				}}
			},
			wantCode: "rate_limited", wantPermanent: false, wantPosts: 2,
		},
		{
			name: "key refused", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{{status: http.StatusUnauthorized, body: stripeError("invalid_request_error", "", "", "Invalid API Key provided: sk_test_***123")}}
			},
			wantCode: "auth_failed", wantPermanent: false, wantPosts: 1,
		},
		{
			name: "server error", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{{status: http.StatusInternalServerError, body: stripeError("api_error", "", "", "An unknown error occurred")}}
			},
			wantCode: "stripe_unavailable", wantPermanent: false, wantPosts: 1,
		},
		{
			name: "proxy error page", giveReference: "ch_1",
			giveFake: func(f *fakeStripe) {
				f.refunds = []reply{{status: http.StatusBadGateway, body: "<html>502 Bad Gateway</html>"}}
			},
			wantCode: "stripe_unavailable", wantPermanent: false, wantPosts: 1,
		},
		{
			name: "slow answer", giveReference: "ch_1",
			giveFake:   func(f *fakeStripe) { f.delay = 5 * time.Second },
			giveConfig: func(cfg *stripe.Config) { cfg.Timeout = 100 * time.Millisecond },
			wantCode:   "timeout", wantPermanent: false, wantPosts: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, tt.giveFake)
			req := refundRequest(tt.giveReference)
			if tt.giveRequest != nil {
				tt.giveRequest(&req)
			}
			_, err := f.provider(t, tt.giveConfig).Refund(t.Context(), req)
			pe := paymentError(t, err)
			require.Equal(t, tt.wantCode, pe.Code, pe.Message)
			require.Equal(t, tt.wantPermanent, pe.Permanent, pe.Message)
			require.Equal(t, tt.wantPermanent, claimflow.IsPermanent(err))
			require.NotEmpty(t, pe.Message)
			require.Len(t, f.refundPosts(), tt.wantPosts)
		})
	}
}

func TestRefundDisputedChargeMessage(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(f *fakeStripe) { f.disputed = true })
	_, err := f.provider(t, nil).Refund(t.Context(), refundRequest("pi_1"))
	pe := paymentError(t, err)
	require.Equal(t, "card dispute open", pe.Message)
	require.Empty(t, f.refundPosts())

	// The PaymentIntent was read with its latest charge expanded, which is
	// where the dispute shows.
	reqs := f.recorded()
	require.Len(t, reqs, 1)
	require.Equal(t, "/v1/payment_intents/pi_1", reqs[0].Path)
	require.Equal(t, "latest_charge", reqs[0].Form.Get("expand[0]"))
}

func TestRefundAlreadyRefundedByThisClaim(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(f *fakeStripe) {
		f.refunds = []reply{{
			status: http.StatusBadRequest,
			body:   stripeError("invalid_request_error", "charge_already_refunded", "", "Charge ch_1 has already been refunded."),
		}}
		f.listed = `[` +
			refundJSON("re_other", "succeeded", 100, "eur", map[string]string{"claim_id": "c_2"}) + `,` +
			refundJSON("re_ours", "succeeded", 1234, "eur", map[string]string{"claim_id": "c_1", "order_id": "o_1"}) + `]`
	})
	got, err := f.provider(t, nil).Refund(t.Context(), refundRequest("ch_1"))
	require.NoError(t, err)
	require.Equal(t, claimflow.Refund{
		ID: "re_ours", Provider: "stripe", Status: claimflow.RefundSucceeded,
		Amount: money.Of(1234, money.MustCurrency("EUR")),
	}, got)

	reqs := f.recorded()
	require.Len(t, reqs, 3) // the charge, the refund, the list
	require.Equal(t, "/v1/refunds", reqs[2].Path)
	require.Equal(t, http.MethodGet, reqs[2].Method)
	require.Equal(t, "ch_1", reqs[2].Form.Get("charge"))
}

func TestRefundRateLimitedRetriesOnce(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(f *fakeStripe) {
		f.refunds = []reply{
			{
				status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "1"},
				body: stripeError("invalid_request_error", "rate_limit", "", "Too many requests hit the API too quickly."),
			},
			{status: http.StatusOK, body: refundJSON("re_after_wait", "succeeded", 1234, "eur", nil)},
		}
	})
	start := time.Now()
	got, err := f.provider(t, nil).Refund(t.Context(), refundRequest("ch_1"))
	require.NoError(t, err)
	require.Equal(t, "re_after_wait", got.ID)
	require.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "Retry-After: 1 was not waited out")

	posts := f.refundPosts()
	require.Len(t, posts, 2)
	for _, p := range posts {
		require.Equal(t, "claim/c_1/refund", p.Header.Get("Idempotency-Key"))
	}
}

func TestRefundRateLimitWaitBoundedByContext(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(f *fakeStripe) {
		f.refunds = []reply{{
			status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "5"},
			body: stripeError("invalid_request_error", "rate_limit", "", "Too many requests hit the API too quickly."),
		}}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := f.provider(t, nil).Refund(ctx, refundRequest("ch_1"))
	pe := paymentError(t, err)
	require.Equal(t, "rate_limited", pe.Code)
	require.False(t, pe.Permanent)
	require.Less(t, time.Since(start), time.Second, "waited for a Retry-After the context could not outlast")
	require.Len(t, f.refundPosts(), 1)
}

func TestRefundConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + l.Addr().String()
	require.NoError(t, l.Close())

	p, err := stripe.New(stripe.Config{APIKey: "sk_test_123", APIBase: base})
	require.NoError(t, err)
	_, err = p.Refund(t.Context(), refundRequest("ch_1"))
	pe := paymentError(t, err)
	require.Equal(t, "stripe_unavailable", pe.Code)
	require.False(t, pe.Permanent)
}

func TestRefundPaces(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	p := f.provider(t, func(cfg *stripe.Config) { cfg.RatePerSec, cfg.Burst = 5, 1 })

	start := time.Now()
	for range 3 {
		_, err := p.Refund(t.Context(), refundRequest("ch_1"))
		require.NoError(t, err)
	}
	elapsed := time.Since(start)

	// At 5 calls/s with a burst of 1, n calls need at least (n-1)/5 s.
	calls := len(f.recorded())
	require.Equal(t, 6, calls) // a charge lookup and a refund each
	require.GreaterOrEqual(t, elapsed, time.Duration(calls-1)*200*time.Millisecond-50*time.Millisecond)
}
