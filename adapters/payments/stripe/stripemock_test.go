package stripe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/claimsd/claimsd/adapters/payments/stripe"
	"github.com/claimsd/claimsd/adapters/payments/stripe/stripemock"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// recordingProxy forwards to target and keeps the Idempotency-Key header of
// every POST /v1/refunds.
type recordingProxy struct {
	mu   sync.Mutex
	keys []string
}

func (rp *recordingProxy) start(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/refunds" {
			rp.mu.Lock()
			rp.keys = append(rp.keys, r.Header.Get("Idempotency-Key"))
			rp.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (rp *recordingProxy) refundKeys() []string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return append([]string(nil), rp.keys...)
}

func TestRefundAgainstStripeMock(t *testing.T) {
	t.Parallel()
	mock := stripemock.URL(t)

	// stripe-mock answers with fixed fixtures: read the currency of the
	// charge it serves so the refund asks for that one.
	sc := &client.API{}
	sc.Init("sk_test_123", &stripego.Backends{API: stripego.GetBackendWithConfig(stripego.APIBackend,
		&stripego.BackendConfig{URL: stripego.String(mock), LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull}})})
	params := &stripego.ChargeParams{}
	params.Context = t.Context()
	ch, err := sc.Charges.Get("ch_mock", params)
	require.NoError(t, err)
	currency, err := money.ParseCurrency(strings.ToUpper(string(ch.Currency)))
	require.NoError(t, err)

	tests := []struct {
		name          string
		giveReference string
	}{
		{name: "payment intent", giveReference: "pi_mock"},
		{name: "charge", giveReference: "ch_mock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rp := &recordingProxy{}
			p, err := stripe.New(stripe.Config{APIKey: "sk_test_123", APIBase: rp.start(t, mock)})
			require.NoError(t, err)

			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			key := "claim/c_" + tt.giveReference + "/refund"
			got, err := p.Refund(ctx, claimflow.RefundRequest{
				IdempotencyKey: key,
				ClaimID:        "c_" + tt.giveReference,
				OrderID:        "o_1",
				Payment:        order.Payment{Provider: order.ProviderStripe, Reference: tt.giveReference},
				Amount:         money.Of(1234, currency),
			})
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(got.ID, "re_"), "refund id %q", got.ID)
			require.Equal(t, "stripe", got.Provider)
			require.Equal(t, claimflow.RefundSucceeded, got.Status)
			require.Equal(t, money.Of(1234, currency), got.Amount) // stripe-mock echoes the amount
			require.Equal(t, []string{key}, rp.refundKeys())
		})
	}
}

// TestLookupRefundAgainstStripeMock: the sweep's view of a refund comes
// through the real SDK.
func TestLookupRefundAgainstStripeMock(t *testing.T) {
	t.Parallel()
	p, err := stripe.New(stripe.Config{APIKey: "sk_test_123", APIBase: stripemock.URL(t)})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	u, err := p.LookupRefund(ctx, "re_mock1")
	require.NoError(t, err)
	require.Equal(t, "stripe", u.Provider)
	require.Equal(t, "re_mock1", u.RefundID)
	require.NotEmpty(t, u.Status)
}

// TestConnectModesAgainstStripeMock: stripe-mock validates requests
// against Stripe's OpenAPI spec, so a refund with reverse_transfer and the
// transfer look-up of a recovery go through the real SDK as Stripe takes
// them. (stripe-mock's charge has no transfer, so there is none to
// reverse.)
func TestConnectModesAgainstStripeMock(t *testing.T) {
	t.Parallel()
	mock := stripemock.URL(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p, err := stripe.New(stripe.Config{APIKey: "sk_test_123", APIBase: mock, ReverseTransfer: true})
	require.NoError(t, err)
	got, err := p.Refund(ctx, claimflow.RefundRequest{
		IdempotencyKey: "claim/c_dest/refund", ClaimID: "c_dest", OrderID: "o_1",
		Payment: order.Payment{Provider: order.ProviderStripe, Reference: "ch_mock"},
		Amount:  money.Of(500, money.MustCurrency("USD")),
	})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(got.ID, "re_"))

	_, err = p.RecoverFromSeller(ctx, claimflow.RecoverRequest{
		IdempotencyKey: "claim/c_dest/seller_recovery", ClaimID: "c_dest", SellerAccount: "acct_1",
		Payment: order.Payment{Provider: order.ProviderStripe, Reference: "pi_mock"},
		Amount:  money.Of(500, money.MustCurrency("USD")),
	})
	var pe *claimflow.PaymentError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, stripe.CodeNoTransfer, pe.Code)
}
