package stripe_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/claimsd/claimsd/adapters/payments/stripe"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

const stripeMockModule = "github.com/stripe/stripe-mock@v0.203.0"

// installStripeMock installs stripe-mock from the Go module proxy once per
// test binary when it is not there yet, so the README's test command needs
// no set-up step of its own.
var installStripeMock = sync.OnceValue(func() error {
	if findStripeMock() != "" {
		return nil
	}
	out, err := exec.Command("go", "install", stripeMockModule).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go install %s: %w: %s", stripeMockModule, err, out)
	}
	return nil
})

// stripeMockURL returns the base URL of a stripe-mock: STRIPE_MOCK_URL if
// set, else one started for this test from $(go env GOPATH)/bin or PATH
// (installed there first if missing) and killed at cleanup.
func stripeMockURL(t *testing.T) string {
	t.Helper()
	if u := os.Getenv("STRIPE_MOCK_URL"); u != "" {
		return u
	}
	require.NoError(t, installStripeMock())
	bin := findStripeMock()
	if bin == "" {
		t.Fatalf("stripe-mock is not in $(go env GOPATH)/bin or PATH after `go install %s`; "+
			"point STRIPE_MOCK_URL at a running one", stripeMockModule)
	}

	// Port 0 on both listeners: the system picks free ports, so parallel
	// runs never collide, and stripe-mock prints the HTTP one.
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	addr := make(chan string, 1)
	go func() {
		const prefix = "Listening for HTTP at address: "
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				addr <- strings.TrimSpace(a)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout) // keep the pipe drained
	}()
	var hostPort string
	select {
	case hostPort = <-addr:
	case <-time.After(30 * time.Second):
		t.Fatal("stripe-mock did not report its HTTP address within 30s")
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", hostPort, time.Second)
		if err == nil {
			_ = conn.Close()
			break
		}
		require.True(t, time.Now().Before(deadline), "stripe-mock at %s does not accept connections: %v", hostPort, err)
		time.Sleep(50 * time.Millisecond)
	}
	return "http://" + hostPort
}

func findStripeMock() string {
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			bin := filepath.Join(dir, "bin", "stripe-mock")
			if _, err := os.Stat(bin); err == nil {
				return bin
			}
		}
	}
	if bin, err := exec.LookPath("stripe-mock"); err == nil {
		return bin
	}
	return ""
}

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
	mock := stripeMockURL(t)

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
	p, err := stripe.New(stripe.Config{APIKey: "sk_test_123", APIBase: stripeMockURL(t)})
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
	mock := stripeMockURL(t)
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
