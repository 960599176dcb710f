package stream_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/adapters/stream"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/seller"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/eventflow"
)

func uniq(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

var now = time.Now().UTC().Truncate(time.Microsecond)

// natsURL is the server the tests use: TEST_NATS_URL, or the machine's
// own. Without TEST_NATS_URL a server that does not answer skips the
// test; with it, it fails.
func natsURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("TEST_NATS_URL")
	if url == "" {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second)
		if err != nil {
			t.Skip("no NATS at 127.0.0.1:4222 and no TEST_NATS_URL")
		}
		_ = conn.Close()
		return "nats://127.0.0.1:4222"
	}
	return url
}

type testBundle struct {
	store *pgstore.Store
	svc   *claimflow.Service
	relay *eventflow.Relay
	js    jetstream.JetStream
	cfg   stream.Config
}

// setup gives a test its own database and names of its own on the shared
// NATS server; the stream is deleted when the test ends.
func setup(t *testing.T) *testBundle {
	t.Helper()
	url := natsURL(t)
	st := pgtest.Store(t, "stream")
	svc := claimflow.NewService(st, policyfile.Default(), func() time.Time { return now })
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	tag := strings.ToUpper(uniq("T"))
	cfg := stream.Config{StreamName: "CLAIMSD_TEST_" + tag, SubjectPrefix: "claimsd_test." + strings.ToLower(tag) + ".events",
		Duplicates: 10 * time.Minute}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, cfg.StreamName); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("delete stream %s: %v", cfg.StreamName, err)
		}
	})
	return &testBundle{store: st, svc: svc, relay: eventflow.NewRelay(st, httpapi.ClaimDocuments{Service: svc}, time.Now), js: js, cfg: cfg}
}

func (b *testBundle) open(t *testing.T, url string) *stream.Sink {
	t.Helper()
	sink, err := stream.Open(context.Background(), url, b.cfg)
	require.NoError(t, err)
	t.Cleanup(sink.Close)
	return sink
}

// journey files a counterfeit claim on a new order, has it refunded and
// the seller charged ten days ago, lets the contest window pass, and
// numbers its events. It returns the claim's id.
func (b *testBundle) journey(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	sellerID := uniq("sel")
	_, _, err := b.svc.PutSeller(ctx, seller.Params{ID: sellerID, Name: "Seller " + sellerID, RiskScore: 10, Verified: true})
	require.NoError(t, err)
	paid, delivered := now.Add(-20*24*time.Hour), now.Add(-18*24*time.Hour)
	orderID, shopper := uniq("ord"), uniq("shp")
	_, _, err = b.svc.PutOrder(ctx, order.Params{ID: orderID, BuyerID: shopper, SellerID: sellerID, Currency: "EUR", Amount: 1500,
		Items:   []order.Item{{SKU: "a", Name: "A", Quantity: 1, UnitAmount: 1500}},
		Payment: order.Payment{Provider: order.ProviderSandbox, Reference: "pay_" + orderID}, PaidAt: &paid, DeliveredAt: &delivered})
	require.NoError(t, err)
	rec, err := b.svc.Submit(ctx, orderID, claim.Request{ShopperID: shopper, Reason: "counterfeit", Description: "Fake.",
		Evidence: []claim.Evidence{{Kind: "photo", URL: "https://img.example/" + orderID + ".jpg"}}})
	require.NoError(t, err)
	require.Equal(t, claim.StatusApproved, rec.Claim.Status(), "%+v", rec.Decision)
	id := rec.Claim.ID()
	at := func() time.Time { return now.Add(-10 * 24 * time.Hour) }
	refund := &claimflow.RefundStep{Store: b.store, Now: at,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(b.store.DB(), sandbox.Config{})}}
	require.NoError(t, refund.Run(ctx, id, 1, 10))
	charge := &claimflow.ChargeSellerStep{Store: b.store, Now: at, Policy: policyfile.Default()}
	require.NoError(t, charge.Run(ctx, id, 1, 10))
	dl := &claimflow.DeadlineStep{Store: b.store, Policy: policyfile.Default(), Now: func() time.Time { return now }}
	_, err = dl.RunContest(ctx, id)
	require.NoError(t, err)
	b.numberAll(t)
	return id
}

// numberAll runs the relay until every event is numbered.
func (b *testBundle) numberAll(t *testing.T) {
	t.Helper()
	pgtest.NumberAll(t, b.store, b.relay.RunOnce)
}

// numbered is how many events the test's database has numbered.
func (b *testBundle) numbered(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, b.store.DB().QueryRowContext(context.Background(), `SELECT count(position) FROM events`).Scan(&n))
	require.NotZero(t, n)
	return n
}

func (b *testBundle) messages(t *testing.T) uint64 {
	t.Helper()
	s, err := b.js.Stream(context.Background(), b.cfg.StreamName)
	require.NoError(t, err)
	info, err := s.Info(context.Background())
	require.NoError(t, err)
	return info.State.Msgs
}

// TestAClaimsJourneyOnTheStream: every event of a claim's journey reaches
// the stream, on its type's subject, in order, with its id as the
// message id and the envelope as the body.
func TestAClaimsJourneyOnTheStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	id := b.journey(t)
	total := b.numbered(t)
	sink := b.open(t, natsURL(t))

	n, err := eventflow.Consume(ctx, b.store, stream.Consumer, nil, sink, time.Now)
	require.NoError(t, err)
	require.Equal(t, total, n)
	at, err := b.store.Cursor(ctx, stream.Consumer)
	require.NoError(t, err)
	require.Equal(t, int64(total), at, "the cursor is past the last event")

	cons, err := b.js.OrderedConsumer(ctx, b.cfg.StreamName, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	batch, err := cons.Fetch(total, jetstream.FetchMaxWait(5*time.Second))
	require.NoError(t, err)
	var types []string
	var position int64
	seq := 0
	for m := range batch.Messages() {
		var env struct {
			ID        string          `json:"id"`
			Type      string          `json:"type"`
			CreatedAt time.Time       `json:"created_at"`
			Position  int64           `json:"position"`
			SubjectID string          `json:"subject_id"`
			ClaimID   string          `json:"claim_id"`
			Sequence  int             `json:"sequence"`
			Data      json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(m.Data(), &env))
		require.Equal(t, env.ID, m.Headers().Get(jetstream.MsgIDHeader))
		require.Equal(t, b.cfg.SubjectPrefix+"."+env.Type, m.Subject())
		require.Equal(t, position+1, env.Position, "in position order, none missing")
		position = env.Position
		require.False(t, env.CreatedAt.IsZero())
		if env.ClaimID != id {
			continue
		}
		seq++
		require.Equal(t, seq, env.Sequence, "the claim's events in its order")
		var doc map[string]any
		require.NoError(t, json.Unmarshal(env.Data, &doc))
		require.Equal(t, id, doc["id"])
		types = append(types, env.Type)
	}
	require.NoError(t, batch.Error())
	require.Equal(t, int64(total), position)
	t.Logf("%d events on the stream, %d of them the claim's", total, seq)
	require.Equal(t, []string{eventflow.ClaimSubmitted, eventflow.ClaimDecided, eventflow.ClaimRefunded,
		eventflow.ClaimSellerCharged, eventflow.ClaimClosed, eventflow.ChargebackSettled}, types)
}

// TestPublishingTwiceStoresOnce: events offered again (the cursor set
// back to 0) are taken, and the server keeps one message each.
func TestPublishingTwiceStoresOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.journey(t)
	total := b.numbered(t)
	sink := b.open(t, natsURL(t))

	n, err := eventflow.Consume(ctx, b.store, stream.Consumer, nil, sink, time.Now)
	require.NoError(t, err)
	require.Equal(t, total, n)
	require.Equal(t, uint64(total), b.messages(t))

	_, err = b.store.DB().ExecContext(ctx, `UPDATE event_cursors SET position = 0 WHERE consumer = $1`, stream.Consumer)
	require.NoError(t, err)
	n, err = eventflow.Consume(ctx, b.store, stream.Consumer, nil, sink, time.Now)
	require.NoError(t, err)
	require.Equal(t, total, n, "the duplicates are acknowledged")
	require.Equal(t, uint64(total), b.messages(t), "and not stored again")
}

// TestAServerDownMovesNothing: with nothing listening at the URL, Open
// still returns a sink, Send fails at once having taken nothing, and the
// cursor stays where it was.
func TestAServerDownMovesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	_, err := b.store.DB().ExecContext(ctx, `INSERT INTO events (id, type, subject_id, created_at, data) VALUES ('evt_down', 'test.down', 'x', now(), '{}')`)
	require.NoError(t, err)
	b.numberAll(t)
	evs, err := b.store.EventsAfter(ctx, 0, nil, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "nats://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	sink := b.open(t, closed)

	start := time.Now()
	n, err := sink.Send(ctx, evs)
	require.Error(t, err)
	require.Zero(t, n)
	require.Less(t, time.Since(start), time.Second, "fails at once rather than waiting")

	n, err = eventflow.Consume(ctx, b.store, stream.Consumer, nil, sink, time.Now)
	require.Error(t, err)
	require.Zero(t, n)
	at, err := b.store.Cursor(ctx, stream.Consumer)
	require.NoError(t, err)
	require.Zero(t, at, "the cursor has not moved")
}

// TestOpenAnExistingStream: a second process, or a restart, opens the
// stream another made.
func TestOpenAnExistingStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := natsURL(t)
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	cfg := stream.Config{StreamName: "CLAIMSD_TEST_" + strings.ToUpper(uniq("O")), SubjectPrefix: uniq("claimsd_test_open") + ".events"}
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), cfg.StreamName) })

	first, err := stream.Open(ctx, url, cfg)
	require.NoError(t, err)
	defer first.Close()
	second, err := stream.Open(ctx, url, cfg)
	require.NoError(t, err)
	defer second.Close()

	s, err := js.Stream(ctx, cfg.StreamName)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{cfg.SubjectPrefix + ".>"}, info.Config.Subjects)
	require.Equal(t, stream.DefaultDuplicates, info.Config.Duplicates)

	// An operator's limit stays; a new duplicate window is applied.
	c := info.Config
	c.MaxAge = 30 * 24 * time.Hour
	_, err = js.UpdateStream(ctx, c)
	require.NoError(t, err)
	cfg.Duplicates = time.Hour
	third, err := stream.Open(ctx, url, cfg)
	require.NoError(t, err)
	defer third.Close()
	info, err = s.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, 30*24*time.Hour, info.Config.MaxAge)
	require.Equal(t, time.Hour, info.Config.Duplicates)
}
