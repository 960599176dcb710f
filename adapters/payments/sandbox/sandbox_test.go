package sandbox_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	mrand "math/rand/v2"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

var store *pgstore.Store

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, "sandbox", &store)) }

func uniq(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

func eur(amount int64) money.Money { return money.Of(amount, money.MustCurrency("EUR")) }

// request returns a valid request with a fresh claim and key.
func request(t *testing.T, amount int64) claimflow.RefundRequest {
	t.Helper()
	claimID := uniq("clm")
	return claimflow.RefundRequest{
		IdempotencyKey: "claim/" + claimID + "/refund",
		ClaimID:        claimID,
		OrderID:        uniq("ord"),
		Payment:        order.Payment{Provider: order.ProviderSandbox, Reference: uniq("pay")},
		Amount:         eur(amount),
	}
}

// rows counts the refunds recorded under key.
func rows(t *testing.T, key string) int {
	t.Helper()
	var n int
	err := store.DB().QueryRowContext(context.Background(),
		`SELECT count(*) FROM sandbox_refunds WHERE idempotency_key = $1`, key).Scan(&n)
	require.NoError(t, err)
	return n
}

// requireCode asserts err is a *claimflow.PaymentError with code and
// permanence.
func requireCode(t *testing.T, err error, code string, permanent bool) {
	t.Helper()
	var pe *claimflow.PaymentError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, code, pe.Code)
	require.Equal(t, permanent, pe.Permanent)
	require.Equal(t, permanent, claimflow.IsPermanent(err))
}

var idPattern = regexp.MustCompile(`^re_sbx_[a-z2-7]{24}$`)

func TestRefundSameKeyReturnsSameRefund(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := sandbox.New(store.DB(), sandbox.Config{})
	req := request(t, 1250)

	first, err := p.Refund(ctx, req)
	require.NoError(t, err)
	require.Regexp(t, idPattern, first.ID)
	require.Equal(t, "sandbox", first.Provider)
	require.Equal(t, claimflow.RefundSucceeded, first.Status)
	require.Equal(t, req.Amount, first.Amount)

	again, err := p.Refund(ctx, req)
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Equal(t, 1, rows(t, req.IdempotencyKey))
	require.EqualValues(t, 2, p.Calls())

	listed, err := p.RefundsFor(ctx, req.ClaimID)
	require.NoError(t, err)
	require.Equal(t, []claimflow.Refund{first}, listed)
}

func TestRefundConcurrentSameKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := sandbox.New(store.DB(), sandbox.Config{})
	req := request(t, 990)

	const n = 16
	ids := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			r, err := p.Refund(ctx, req)
			ids[i], errs[i] = r.ID, err
		})
	}
	close(start)
	wg.Wait()

	require.NoError(t, errors.Join(errs...))
	for _, id := range ids {
		require.Equal(t, ids[0], id)
	}
	require.Equal(t, 1, rows(t, req.IdempotencyKey))
	require.EqualValues(t, n, p.Calls())
}

func TestRefundIdempotencyMismatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give money.Money
	}{
		{name: "other amount", give: eur(1001)},
		{name: "other currency", give: money.Of(1000, money.MustCurrency("USD"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			p := sandbox.New(store.DB(), sandbox.Config{})
			req := request(t, 1000)
			first, err := p.Refund(ctx, req)
			require.NoError(t, err)

			changed := req
			changed.Amount = tt.give
			_, err = p.Refund(ctx, changed)
			requireCode(t, err, sandbox.CodeIdempotencyMismatch, true)

			// The original request still gets its refund.
			again, err := p.Refund(ctx, req)
			require.NoError(t, err)
			require.Equal(t, first.ID, again.ID)
			require.Equal(t, 1, rows(t, req.IdempotencyKey))
		})
	}
}

func TestRefundDeclined(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  sandbox.Config
		give func(*claimflow.RefundRequest)
		want string
	}{
		{
			name: "declining card",
			give: func(r *claimflow.RefundRequest) { r.Payment.Reference = uniq("pay_decline") },
			want: sandbox.CodeCardDeclined,
		},
		{
			name: "above limit",
			cfg:  sandbox.Config{DeclineAbove: 5000},
			give: func(r *claimflow.RefundRequest) { r.Amount = eur(5001) },
			want: sandbox.CodeAmountTooLarge,
		},
		{
			name: "decline beats fault injection",
			cfg:  sandbox.Config{FailRate: 1, Rand: mrand.New(mrand.NewPCG(1, 1))},
			give: func(r *claimflow.RefundRequest) { r.Payment.Reference = "pay_decline" },
			want: sandbox.CodeCardDeclined,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := sandbox.New(store.DB(), tt.cfg)
			req := request(t, 1000)
			tt.give(&req)
			_, err := p.Refund(context.Background(), req)
			requireCode(t, err, tt.want, true)
			require.Zero(t, rows(t, req.IdempotencyKey))
		})
	}
}

func TestRefundAtLimitIsMade(t *testing.T) {
	t.Parallel()
	p := sandbox.New(store.DB(), sandbox.Config{DeclineAbove: 5000})
	req := request(t, 5000)
	_, err := p.Refund(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, 1, rows(t, req.IdempotencyKey))
}

func TestRefundInvalidRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give func(*claimflow.RefundRequest)
	}{
		{name: "no key", give: func(r *claimflow.RefundRequest) { r.IdempotencyKey = "" }},
		{name: "zero amount", give: func(r *claimflow.RefundRequest) { r.Amount = eur(0) }},
		{name: "negative amount", give: func(r *claimflow.RefundRequest) { r.Amount = eur(-100) }},
		{name: "no amount", give: func(r *claimflow.RefundRequest) { r.Amount = money.Money{} }},
		{name: "stripe payment", give: func(r *claimflow.RefundRequest) { r.Payment.Provider = order.ProviderStripe }},
		{name: "no provider", give: func(r *claimflow.RefundRequest) { r.Payment.Provider = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := sandbox.New(store.DB(), sandbox.Config{})
			req := request(t, 1000)
			key := req.IdempotencyKey
			tt.give(&req)
			_, err := p.Refund(context.Background(), req)
			requireCode(t, err, sandbox.CodeInvalidRequest, true)
			require.Zero(t, rows(t, key))
		})
	}
}

func TestRefundInjectedFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	failing := sandbox.New(store.DB(), sandbox.Config{FailRate: 1, Rand: mrand.New(mrand.NewPCG(7, 42))})
	healthy := sandbox.New(store.DB(), sandbox.Config{})

	const n = 40
	seen := map[string]int{}
	for range n {
		req := request(t, 700)
		_, err := failing.Refund(ctx, req)
		require.Error(t, err)
		require.False(t, claimflow.IsPermanent(err))
		var pe *claimflow.PaymentError
		require.ErrorAs(t, err, &pe)
		seen[pe.Code]++

		switch pe.Code {
		case sandbox.CodeProcessingError:
			require.Zero(t, rows(t, req.IdempotencyKey), "nothing recorded before a processing error")
		case sandbox.CodeTimeout:
			require.Equal(t, 1, rows(t, req.IdempotencyKey), "the refund was made before the answer was lost")
			var recorded string
			err := store.DB().QueryRowContext(ctx,
				`SELECT id FROM sandbox_refunds WHERE idempotency_key = $1`, req.IdempotencyKey).Scan(&recorded)
			require.NoError(t, err)

			// The retry gets the refund already made, not a second one.
			got, err := healthy.Refund(ctx, req)
			require.NoError(t, err)
			require.Equal(t, recorded, got.ID)
			require.Equal(t, req.Amount, got.Amount)
			require.Equal(t, 1, rows(t, req.IdempotencyKey))
		default:
			t.Fatalf("unexpected code %q", pe.Code)
		}
	}
	require.Positive(t, seen[sandbox.CodeProcessingError], "processing errors: %v", seen)
	require.Positive(t, seen[sandbox.CodeTimeout], "lost answers: %v", seen)
	require.EqualValues(t, n, failing.Calls())
}

func TestRefundNoFaultsAtZeroRate(t *testing.T) {
	t.Parallel()
	p := sandbox.New(store.DB(), sandbox.Config{FailRate: 0, Rand: mrand.New(mrand.NewPCG(3, 3))})
	for range 10 {
		_, err := p.Refund(context.Background(), request(t, 100))
		require.NoError(t, err)
	}
}

func TestRefundLatency(t *testing.T) {
	t.Parallel()
	const latency = 30 * time.Millisecond
	p := sandbox.New(store.DB(), sandbox.Config{Latency: latency})
	req := request(t, 500)
	start := time.Now()
	_, err := p.Refund(context.Background(), req)
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), latency)
	require.Equal(t, 1, rows(t, req.IdempotencyKey))
}

// TestRefundLatencySpikes: a spike rate of 1 makes every call take the
// spike's latency, past a caller's deadline, and nothing is recorded; a
// rate of 0 never does.
func TestRefundLatencySpikes(t *testing.T) {
	t.Parallel()
	p := sandbox.New(store.DB(), sandbox.Config{SpikeRate: 1, SpikeLatency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req := request(t, 500)
	_, err := p.Refund(ctx, req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, claimflow.IsPermanent(err))
	require.Zero(t, rows(t, req.IdempotencyKey))

	calm := sandbox.New(store.DB(), sandbox.Config{SpikeRate: 0, SpikeLatency: time.Hour})
	req = request(t, 500)
	_, err = calm.Refund(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, 1, rows(t, req.IdempotencyKey))
}

func TestRefundContextEndsDuringLatency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give func() (context.Context, context.CancelFunc)
		want error
	}{
		{
			name: "canceled",
			give: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(10*time.Millisecond, cancel)
				return ctx, cancel
			},
			want: context.Canceled,
		},
		{
			name: "deadline",
			give: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 10*time.Millisecond)
			},
			want: context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := sandbox.New(store.DB(), sandbox.Config{Latency: time.Hour})
			ctx, cancel := tt.give()
			defer cancel()
			req := request(t, 500)
			_, err := p.Refund(ctx, req)
			require.ErrorIs(t, err, tt.want)
			require.False(t, claimflow.IsPermanent(err))
			require.Zero(t, rows(t, req.IdempotencyKey))
		})
	}
}

func TestRefundsFor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := sandbox.New(store.DB(), sandbox.Config{})
	first := request(t, 300)
	second := first
	second.IdempotencyKey = "claim/" + first.ClaimID + "/refund/2"
	second.Amount = eur(200)

	a, err := p.Refund(ctx, first)
	require.NoError(t, err)
	b, err := p.Refund(ctx, second)
	require.NoError(t, err)
	_, err = p.Refund(ctx, request(t, 100)) // another claim
	require.NoError(t, err)

	got, err := p.RefundsFor(ctx, first.ClaimID)
	require.NoError(t, err)
	require.ElementsMatch(t, []claimflow.Refund{a, b}, got)

	none, err := p.RefundsFor(ctx, uniq("clm"))
	require.NoError(t, err)
	require.Empty(t, none)
}

func TestName(t *testing.T) {
	t.Parallel()
	require.Equal(t, "sandbox", sandbox.New(store.DB(), sandbox.Config{}).Name())
}

func TestFindRefund(t *testing.T) {
	t.Parallel()
	p := sandbox.New(store.DB(), sandbox.Config{})
	req := request(t, 700)
	_, found, err := p.FindRefund(context.Background(), req)
	require.NoError(t, err)
	require.False(t, found)
	made, err := p.Refund(context.Background(), req)
	require.NoError(t, err)
	got, found, err := p.FindRefund(context.Background(), req)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, made, got)
}
