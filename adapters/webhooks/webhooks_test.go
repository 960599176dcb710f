package webhooks_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/adapters/webhooks"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/domain/webhook"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/eventflow"
	"github.com/claimsd/claimsd/workflows/webhookflow"
)

func uniq(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// clock is the dispatcher's time, moved by the test to reach a retry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// arrival is one request a receiver got.
type arrival struct {
	id, timestamp, signature string
	body                     []byte
	env                      struct {
		ID       string          `json:"id"`
		Type     string          `json:"type"`
		ClaimID  string          `json:"claim_id"`
		Sequence int             `json:"sequence"`
		Position int64           `json:"position"`
		Data     json.RawMessage `json:"data"`
	}
}

// receiver is a real HTTP server that records what reaches it and answers
// what answer says (204 when nil).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	arrivals []arrival
	answer   func(a arrival, tries int) int
	tries    map[string]int
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{tries: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		a := arrival{id: req.Header.Get("webhook-id"), timestamp: req.Header.Get("webhook-timestamp"),
			signature: req.Header.Get("webhook-signature"), body: body}
		if err := json.Unmarshal(body, &a.env); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.tries[a.id]++
		tries := r.tries[a.id]
		answer := r.answer
		r.arrivals = append(r.arrivals, a)
		r.mu.Unlock()
		status := http.StatusNoContent
		if answer != nil {
			status = answer(a, tries)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) setAnswer(f func(a arrival, tries int) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = f
}

func (r *receiver) triesByID() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.tries))
	for k, v := range r.tries {
		out[k] = v
	}
	return out
}

func (r *receiver) got() []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.arrivals)
}

type bundle struct {
	store *pgstore.Store
	svc   *claimflow.Service
	relay *eventflow.Relay
	hooks *webhookflow.Service
	clock *clock
	disp  *webhookflow.Dispatcher
}

var start = time.Now().UTC().Truncate(time.Second)

func setup(t *testing.T) *bundle {
	t.Helper()
	st := pgtest.Store(t, "webhooks")
	clk := &clock{t: start}
	svc := claimflow.NewService(st, policyfile.Default(), func() time.Time { return start })
	return &bundle{store: st, svc: svc, clock: clk,
		relay: eventflow.NewRelay(st, httpapi.ClaimDocuments{Service: svc}, time.Now),
		hooks: webhookflow.NewService(st, webhookflow.Options{AllowPrivate: true, Now: clk.Now}),
		disp: webhookflow.NewDispatcher(st, webhooks.NewSender(webhooks.Options{AllowPrivate: true}),
			webhookflow.DispatcherOptions{Now: clk.Now})}
}

func (b *bundle) endpoint(t *testing.T, url string, types ...string) webhookflow.Endpoint {
	t.Helper()
	e, err := b.hooks.Create(context.Background(), claimflow.Viewer{Role: claimflow.RoleAdmin, Subject: "root"},
		webhookflow.Input{URL: url, EventTypes: types, Description: "test receiver"})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(e.Secret, "whsec_"))
	return e
}

// journey files a counterfeit claim that is refunded at once and its
// seller charged, and numbers the events; it returns the claim's id.
func (b *bundle) journey(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	sellerID := uniq("sel")
	_, _, err := b.svc.PutSeller(ctx, seller.Params{ID: sellerID, Name: "Seller " + sellerID, RiskScore: 10, Verified: true})
	require.NoError(t, err)
	paid, delivered := start.Add(-20*24*time.Hour), start.Add(-18*24*time.Hour)
	orderID, shopper := uniq("ord"), uniq("shp")
	_, _, err = b.svc.PutOrder(ctx, order.Params{ID: orderID, BuyerID: shopper, SellerID: sellerID, Currency: "EUR", Amount: 2500,
		Items:   []order.Item{{SKU: "w", Name: "Watch", Quantity: 1, UnitAmount: 2500}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_" + orderID}, PaidAt: &paid, DeliveredAt: &delivered})
	require.NoError(t, err)
	rec, err := b.svc.Submit(ctx, orderID, claim.Request{ShopperID: shopper, Reason: "counterfeit", Description: "The logo is wrong.",
		Evidence: []claim.Evidence{{Kind: "photo", URL: "https://img.example/" + orderID + ".jpg"}}})
	require.NoError(t, err)
	require.Equal(t, claim.StatusApproved, rec.Claim.Status(), "%+v", rec.Decision)
	id := rec.Claim.ID()
	now := func() time.Time { return start }
	refund := &claimflow.RefundStep{Store: b.store, Now: now,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(b.store.DB(), sandbox.Config{})}}
	require.NoError(t, refund.Run(ctx, id, 1, 10))
	charge := &claimflow.ChargeSellerStep{Store: b.store, Now: now, Policy: policyfile.Default()}
	require.NoError(t, charge.Run(ctx, id, 1, 10))
	b.numberAll(t)
	return id
}

// numberAll runs the relay until every event is numbered.
func (b *bundle) numberAll(t *testing.T) {
	t.Helper()
	pgtest.NumberAll(t, b.store, b.relay.RunOnce)
}

// events returns the database's numbered events of the given claims, in
// position order.
func (b *bundle) events(t *testing.T, claims ...string) []eventflow.Event {
	t.Helper()
	all, err := b.store.EventsAfter(context.Background(), 0, nil, 10_000)
	require.NoError(t, err)
	var out []eventflow.Event
	for _, e := range all {
		if slices.Contains(claims, e.ClaimID) {
			out = append(out, e)
		}
	}
	require.NotEmpty(t, out)
	return out
}

// run turns the dispatcher once.
func (b *bundle) run(t *testing.T) int {
	t.Helper()
	n, err := b.disp.RunOnce(context.Background())
	require.NoError(t, err)
	return n
}

// verify checks an arrival's signature with the reference library.
func verify(t *testing.T, secret string, a arrival) error {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	h := http.Header{}
	h.Set("webhook-id", a.id)
	h.Set("webhook-timestamp", a.timestamp)
	h.Set("webhook-signature", a.signature)
	// The timestamp is the dispatcher's clock, which the tests move.
	return wh.VerifyIgnoringTimestamp(a.body, h)
}

// delivered returns the arrivals the receiver answered 2xx, first of each
// id, in arrival order.
func firstOfEach(as []arrival) []arrival {
	seen := map[string]bool{}
	var out []arrival
	for _, a := range as {
		if !seen[a.id] {
			seen[a.id] = true
			out = append(out, a)
		}
	}
	return out
}

// TestAClaimsJourneyByWebhook: every event of two claims' journeys reaches
// an endpoint for all types, each claim's in order, signed so the
// reference library verifies it, with the body the feed serves; an
// endpoint for one type gets that type only.
func TestAClaimsJourneyByWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	all, refunds := newReceiver(t), newReceiver(t)
	epAll := b.endpoint(t, all.URL+"/hooks", webhookflow.All)
	epRefunds := b.endpoint(t, refunds.URL, eventflow.ClaimRefunded)
	c1, c2 := b.journey(t), b.journey(t)
	want := b.events(t, c1, c2)

	for len(all.got()) < len(want) || len(refunds.got()) < 2 {
		b.run(t)
	}
	b.run(t)
	got := all.got()
	require.Len(t, got, len(want), "each event once, nothing else")
	feed := map[string][]byte{}
	for _, e := range want {
		body, err := eventflow.Envelope(e)
		require.NoError(t, err)
		feed[e.ID] = body
	}
	last := map[string]int{}
	for _, a := range got {
		require.NoError(t, verify(t, epAll.Secret, a), "event %s", a.id)
		require.Equal(t, a.id, a.env.ID, "webhook-id is the event's id")
		require.JSONEq(t, string(feed[a.id]), string(a.body), "the body is the event as the feed shows it")
		require.Greater(t, a.env.Sequence, last[a.env.ClaimID], "claim %s: events in its order", a.env.ClaimID)
		last[a.env.ClaimID] = a.env.Sequence
		require.Error(t, verify(t, epRefunds.Secret, a), "another endpoint's secret does not verify")
	}
	require.Len(t, last, 2)

	got = refunds.got()
	require.Len(t, got, 2)
	for _, a := range got {
		require.Equal(t, eventflow.ClaimRefunded, a.env.Type)
		require.NoError(t, verify(t, epRefunds.Secret, a))
	}

	ds, err := b.hooks.Deliveries(context.Background(), epAll.ID, 0, "", 200)
	require.NoError(t, err)
	require.Len(t, ds, len(want))
	for _, d := range ds {
		require.Equal(t, webhookflow.StateDelivered, d.State)
		require.Len(t, d.History, 1)
		require.Equal(t, http.StatusNoContent, d.History[0].Status)
		require.Nil(t, d.NextAttemptAt)
	}
	ep, err := b.hooks.Get(context.Background(), epAll.ID)
	require.NoError(t, err)
	require.Equal(t, int64(len(want)), ep.Delivered)
	require.Zero(t, ep.Pending)
	require.Empty(t, ep.Secret, "the secret is shown once")
}

// TestAFailingReceiverGetsTheRetry: a receiver that fails each event's
// first attempt gets it again 5 s later, by the schedule; nothing is
// lost, the claim's events still arrive in order, and the deliveries
// show both attempts.
func TestAFailingReceiverGetsTheRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := newReceiver(t)
	r.setAnswer(func(_ arrival, tries int) int {
		if tries == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	ep := b.endpoint(t, r.URL, webhookflow.All)
	c := b.journey(t)
	want := b.events(t, c)

	turns := 0
	for {
		b.run(t)
		delivered := 0
		for _, n := range r.triesByID() {
			if n >= 2 {
				delivered++
			}
		}
		if delivered == len(want) {
			break
		}
		// Nothing is tried again before its time.
		b.clock.Add(4 * time.Second)
		require.Zero(t, b.run(t), "an attempt before the 5 s the schedule gives")
		b.clock.Add(time.Second)
		turns++
		require.LessOrEqual(t, turns, 2*len(want), "every event delivered after one retry")
	}
	var ok []arrival
	tries := r.triesByID()
	for _, a := range r.got() {
		require.NoError(t, verify(t, ep.Secret, a))
		if tries[a.id] >= 2 && !slices.ContainsFunc(ok, func(x arrival) bool { return x.id == a.id }) {
			ok = append(ok, a)
		}
	}
	require.Len(t, ok, len(want))
	ds, err := b.hooks.Deliveries(context.Background(), ep.ID, 0, "", 200)
	require.NoError(t, err)
	for _, d := range ds {
		require.Equal(t, webhookflow.StateDelivered, d.State, "delivery %d", d.ID)
		require.Len(t, d.History, 2)
		require.Equal(t, http.StatusInternalServerError, d.History[0].Status)
		require.Equal(t, http.StatusOK, d.History[1].Status)
		require.Equal(t, 5*time.Second, d.History[1].At.Sub(d.History[0].At).Round(time.Second), "the spec's first retry")
	}
	// In order: a claim's event is first attempted only after the one
	// before it was delivered.
	seq := 0
	for _, a := range firstOfEach(r.got()) {
		require.Equal(t, seq+1, a.env.Sequence)
		seq = a.env.Sequence
	}
	e, err := b.hooks.Get(context.Background(), ep.ID)
	require.NoError(t, err)
	require.Nil(t, e.FailingSince, "a success ends the failing")
	require.True(t, e.Enabled)
}

// TestGoneDisablesTheEndpointAndKeepsItsEvents: a 410 disables the
// endpoint at once, says so in an event, and keeps its pending
// deliveries; events written while it is disabled are not queued, and
// enabling it and replaying from when it was disabled gets the receiver
// everything, each claim's in order.
func TestGoneDisablesTheEndpointAndKeepsItsEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r := newReceiver(t)
	r.setAnswer(func(arrival, int) int { return http.StatusGone })
	ep := b.endpoint(t, r.URL, webhookflow.All)
	c1 := b.journey(t)
	first := b.events(t, c1)
	b.run(t)
	require.Len(t, r.got(), 1, "one attempt, then the endpoint is off")
	e, err := b.hooks.Get(ctx, ep.ID)
	require.NoError(t, err)
	require.False(t, e.Enabled)
	require.Equal(t, webhookflow.ReasonGone, e.DisabledReason)
	require.NotNil(t, e.DisabledAt)
	require.Equal(t, int64(len(first)), e.Pending, "its deliveries are kept")
	b.clock.Add(time.Hour)
	require.Zero(t, b.run(t), "nothing is sent to a disabled endpoint")

	b.numberAll(t)
	disabled, err := b.store.EventsAfter(ctx, 0, []string{eventflow.WebhookEndpointDisabled}, 10)
	require.NoError(t, err)
	require.Len(t, disabled, 1)
	var data map[string]any
	require.NoError(t, json.Unmarshal(disabled[0].Data, &data))
	require.Equal(t, ep.ID, data["id"])
	require.Equal(t, "gone", data["reason"])

	// While it is off, another claim goes by.
	c2 := b.journey(t)
	b.run(t)
	e, err = b.hooks.Get(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, int64(len(first)), e.Pending, "events written while disabled are not queued")

	r.setAnswer(nil)
	on := true
	e, err = b.hooks.Update(ctx, ep.ID, webhookflow.Patch{Enabled: &on})
	require.NoError(t, err)
	require.True(t, e.Enabled)
	require.Equal(t, webhookflow.ReasonGone, e.DisabledReason, "the last disabling stays on record")
	res, err := b.hooks.Replay(ctx, ep.ID, e.DisabledAt.Add(-time.Second))
	require.NoError(t, err)
	second := b.events(t, c2)
	require.GreaterOrEqual(t, res.Queued, len(second), "the events since it was disabled")
	require.NotNil(t, res.OldestKept)
	for b.run(t) > 0 {
	}
	ids := map[string]bool{}
	last := map[string]int{}
	for _, a := range r.got()[1:] {
		require.NoError(t, verify(t, ep.Secret, a))
		if ids[a.id] {
			continue // a replayed event it had: the receiver drops it by id
		}
		ids[a.id] = true
		if a.env.ClaimID != "" {
			require.Greater(t, a.env.Sequence, last[a.env.ClaimID], "claim %s in order", a.env.ClaimID)
			last[a.env.ClaimID] = a.env.Sequence
		}
	}
	for _, ev := range append(first, second...) {
		require.True(t, ids[ev.ID], "event %s reached the receiver", ev.ID)
	}
}

// TestFiveDaysOfFailuresDisable: a receiver that always fails has each
// delivery given up after the schedule's ten attempts, and the endpoint
// disabled once it has failed for five days.
func TestFiveDaysOfFailuresDisable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r := newReceiver(t)
	r.setAnswer(func(arrival, int) int { return http.StatusServiceUnavailable })
	ep := b.endpoint(t, r.URL, eventflow.ClaimSubmitted)
	b.journey(t)
	for i := range webhook.MaxAttempts {
		require.Equal(t, 1, b.run(t), "attempt %d", i+1)
		if i+1 < webhook.MaxAttempts {
			b.clock.Add(webhook.Schedule[i+1] - time.Second)
			require.Zero(t, b.run(t), "attempt %d before its time", i+2)
			b.clock.Add(time.Second)
		}
	}
	ds, err := b.hooks.Deliveries(ctx, ep.ID, 0, "", 10)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, webhookflow.StateFailed, ds[0].State, "given up after the last attempt")
	require.Len(t, ds[0].History, webhook.MaxAttempts)
	e, err := b.hooks.Get(ctx, ep.ID)
	require.NoError(t, err)
	require.True(t, e.Enabled, "not yet five days of failures")
	require.Equal(t, int64(1), e.Failed)

	// Another event fails on the fifth day: the endpoint is disabled.
	b.clock.Add(5 * 24 * time.Hour)
	b.journey(t)
	require.Equal(t, 1, b.run(t))
	e, err = b.hooks.Get(ctx, ep.ID)
	require.NoError(t, err)
	require.False(t, e.Enabled)
	require.Equal(t, webhookflow.ReasonFailing, e.DisabledReason)
	require.Equal(t, int64(1), e.Pending, "the failing delivery is kept")
}

// TestRotationSignsWithBothSecrets: for a day after a rotation each
// delivery carries a signature by the new secret and one by the old, so
// a receiver holding either verifies it; then only the new one signs.
func TestRotationSignsWithBothSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r := newReceiver(t)
	ep := b.endpoint(t, r.URL, eventflow.ClaimSubmitted)
	rotated, err := b.hooks.RotateSecret(ctx, ep.ID)
	require.NoError(t, err)
	require.NotEqual(t, ep.Secret, rotated.Secret)
	require.Equal(t, b.clock.Now().Add(24*time.Hour), rotated.PreviousUntil.Local().In(time.UTC))
	b.journey(t)
	b.run(t)
	got := r.got()
	require.Len(t, got, 1)
	require.Len(t, strings.Fields(got[0].signature), 2)
	require.NoError(t, verify(t, rotated.Secret, got[0]))
	require.NoError(t, verify(t, ep.Secret, got[0]))

	b.clock.Add(24*time.Hour + time.Second)
	b.journey(t)
	b.run(t)
	got = r.got()
	require.Len(t, got, 2)
	require.Len(t, strings.Fields(got[1].signature), 1)
	require.NoError(t, verify(t, rotated.Secret, got[1]))
	require.Error(t, verify(t, ep.Secret, got[1]), "the old secret has stopped signing")
}

// TestTwoDispatchersSendEachOnce: two dispatchers (two processes) at
// once on a slow receiver never send one delivery twice, and keep each
// claim's order.
func TestTwoDispatchersSendEachOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := newReceiver(t)
	r.setAnswer(func(arrival, int) int { time.Sleep(5 * time.Millisecond); return http.StatusNoContent })
	b.endpoint(t, r.URL, webhookflow.All)
	claims := []string{b.journey(t), b.journey(t), b.journey(t)}
	want := b.events(t, claims...)
	other := webhookflow.NewDispatcher(b.store, webhooks.NewSender(webhooks.Options{AllowPrivate: true}),
		webhookflow.DispatcherOptions{Now: b.clock.Now, Batch: 2, Concurrency: 2})
	for len(r.got()) < len(want) {
		var wg sync.WaitGroup
		var n1, n2 int
		var err1, err2 error
		wg.Add(2)
		go func() { defer wg.Done(); n1, err1 = other.RunOnce(context.Background()) }()
		go func() { defer wg.Done(); n2, err2 = b.disp.RunOnce(context.Background()) }()
		wg.Wait()
		require.NoError(t, err1)
		require.NoError(t, err2)
		require.NotZero(t, n1+n2, "a turn of both attempts nothing while %d of %d events wait", len(want)-len(r.got()), len(want))
	}
	got := r.got()
	require.Len(t, got, len(want))
	last := map[string]int{}
	for _, a := range got {
		require.Equal(t, 1, r.triesByID()[a.id], "event %s sent once", a.id)
		require.Greater(t, a.env.Sequence, last[a.env.ClaimID])
		last[a.env.ClaimID] = a.env.Sequence
	}
}
