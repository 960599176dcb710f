//go:build chaos

package main

// The fault suite's outbound side: a webhook receiver of the platform's,
// registered through the API, that checks every delivery's signature with
// the Standard Webhooks reference library, answers some with 500 or late
// so the engine retries, and can hold its answers while a worker is
// killed; and the NATS JetStream stream the workers publish to. After a
// scenario, every event the run numbered must have reached both.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/webhook"
)

// The receiver's faults, on the first arrival of an event only, and only
// when it comes within hookFreshFor of the event: a second failure of one
// delivery would put its next attempt 5 minutes away (the spec's
// schedule), and a first arrival that is the engine's second attempt (the
// first lost with a killed worker) comes a lease, a minute, later.
const (
	hookFreshFor  = 30 * time.Second
	hookFailRate  = 0.05 // answered 500: tried again after 5 s
	hookStallRate = 0.05 // answered after up to 1.5 s
	// hookHoldMax is how long a held answer waits at most: below the
	// engine's 15 s attempt timeout.
	hookHoldMax = 8 * time.Second
)

// The stream the workers publish to (stream.DefaultStreamName and its
// subject prefix: serve does not change them).
const (
	chaosNATSURL      = "nats://127.0.0.1:4222"
	chaosStreamName   = "CLAIMSD_EVENTS"
	chaosStreamPrefix = "claimsd.events."
)

// hookReceiver is the platform's webhook endpoint.
type hookReceiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	rng      *rand.Rand
	verifier *standardwebhooks.Webhook
	arrivals []hookArrival
	byID     map[string][]int // event id -> its arrivals, in order
	bodies   map[string][]byte
	ok       map[string]bool // answered 2xx at least once
	bad      []string
	counts   map[string]int
	holding  bool
	release  chan struct{}
	held     map[int]string // arrival -> the sender's address, while held
}

// hookArrival is one request the receiver took.
type hookArrival struct {
	id, typ, claimID string
	sequence         int
	position         int64
	from             string // the sender's address
	status           int    // what it was answered; 0: not answered (the sender gone)
	held             bool
}

func startHookReceiver(t *testing.T, seed uint64) *hookReceiver {
	h := &hookReceiver{rng: rand.New(rand.NewPCG(seed, 0x686f6f6b)), byID: map[string][]int{},
		bodies: map[string][]byte{}, ok: map[string]bool{}, counts: map[string]int{}, held: map[int]string{}}
	h.srv = httptest.NewServer(h) // on 127.0.0.1
	t.Cleanup(func() {
		h.setHold(false)
		h.srv.Close()
	})
	return h
}

func (h *hookReceiver) url() string { return h.srv.URL + "/hooks/claimsd" }

func (h *hookReceiver) setSecret(secret string) error {
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.verifier = v
	h.mu.Unlock()
	return nil
}

// ServeHTTP checks a delivery, records it, and answers: 200, or for a
// first arrival sometimes 500 or late; while holding, every answer waits
// until released (or hookHoldMax).
func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	id := req.Header.Get("webhook-id")
	var env struct {
		ID       string    `json:"id"`
		Type     string    `json:"type"`
		ClaimID  string    `json:"claim_id"`
		Sequence int       `json:"sequence"`
		Position int64     `json:"position"`
		Created  time.Time `json:"created_at"`
	}
	h.mu.Lock()
	v := h.verifier
	problem := ""
	switch {
	case err != nil:
		problem = "body unreadable: " + err.Error()
	case v == nil:
		problem = "a delivery before the endpoint was registered"
	case req.Method != http.MethodPost:
		problem = "method " + req.Method
	default:
		if verr := v.Verify(body, req.Header); verr != nil {
			problem = "signature: " + verr.Error()
		} else if jerr := json.Unmarshal(body, &env); jerr != nil {
			problem = "body: " + jerr.Error()
		} else if env.ID != id {
			problem = fmt.Sprintf("webhook-id %q for event %q", id, env.ID)
		} else if prev, seen := h.bodies[id]; seen && !bytes.Equal(prev, body) {
			problem = fmt.Sprintf("event %s sent again with another body:\n%s\n%s", id, prev, body)
		}
	}
	if problem != "" {
		h.bad = append(h.bad, fmt.Sprintf("%s (webhook-id %q)", problem, id))
		h.mu.Unlock()
		http.Error(w, problem, http.StatusBadRequest)
		return
	}
	first := len(h.byID[id]) == 0
	n := len(h.arrivals)
	h.arrivals = append(h.arrivals, hookArrival{id: id, typ: env.Type, claimID: env.ClaimID, sequence: env.Sequence,
		position: env.Position, from: req.RemoteAddr})
	h.byID[id] = append(h.byID[id], n)
	if first {
		h.bodies[id] = body
	}
	sent, _ := strconv.ParseInt(req.Header.Get("webhook-timestamp"), 10, 64)
	fresh := first && time.Unix(sent, 0).Sub(env.Created) < hookFreshFor
	status, stall := http.StatusOK, time.Duration(0)
	var release chan struct{}
	switch roll := h.rng.Float64(); {
	case h.holding:
		release = h.release
		h.held[n] = req.RemoteAddr
		h.arrivals[n].held = true
		h.counts["held"]++
	case fresh && roll < hookFailRate:
		status = http.StatusInternalServerError
		h.counts["answered 500"]++
	case fresh && roll < hookFailRate+hookStallRate:
		stall = time.Duration(100+h.rng.IntN(1400)) * time.Millisecond
		h.counts["answered late"]++
	}
	h.mu.Unlock()

	if release != nil {
		select {
		case <-release:
		case <-time.After(hookHoldMax):
		case <-req.Context().Done():
		}
		h.mu.Lock()
		delete(h.held, n)
		h.mu.Unlock()
	}
	if stall > 0 {
		select {
		case <-time.After(stall):
		case <-req.Context().Done():
		}
	}
	if req.Context().Err() != nil {
		h.mu.Lock()
		h.counts["sender gone before the answer"]++
		h.mu.Unlock()
		return
	}
	w.WriteHeader(status)
	h.mu.Lock()
	h.arrivals[n].status = status
	if status < 300 {
		h.ok[id] = true
	}
	h.mu.Unlock()
}

// setHold starts holding answers, or releases those held and stops.
func (h *hookReceiver) setHold(on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case on && !h.holding:
		h.holding, h.release = true, make(chan struct{})
	case !on && h.holding:
		h.holding = false
		close(h.release)
	}
}

// heldNow lists the arrivals held now: event id by the sender's address.
func (h *hookReceiver) heldNow() map[string][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string][]string{}
	for n, from := range h.held {
		out[from] = append(out[from], h.arrivals[n].id)
	}
	return out
}

// answered reports how many of ids were answered 2xx.
func (h *hookReceiver) answered(ids []string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, id := range ids {
		if h.ok[id] {
			n++
		}
	}
	return n
}

// socketOwner finds which of pids holds the TCP connection whose local
// end is addr (an address the receiver saw as the remote one), through
// /proc; ok is false when none does or /proc cannot tell.
func socketOwner(addr string, pids []int) (int, bool) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, false
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return 0, false
	}
	want := fmt.Sprintf(":%04X", p)
	inode := ""
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) > 9 && strings.HasSuffix(fs[1], want) && fs[3] == "01" { // ESTABLISHED
				inode = fs[9]
			}
		}
		f.Close()
		if inode != "" {
			break
		}
	}
	if inode == "" || inode == "0" {
		return 0, false
	}
	target := "socket:[" + inode + "]"
	for _, pid := range pids {
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
		for _, fd := range fds {
			if l, err := os.Readlink(fd); err == nil && l == target {
				return pid, true
			}
		}
	}
	return 0, false
}

// registerHooks starts the receiver and registers it through the API,
// for every event type; it returns after the endpoint exists.
func (r *chaosRig) registerHooks() {
	t := r.t
	code, body, err := r.client.call(http.MethodPost, "/v1/webhook-endpoints", "service", "platform", "", map[string]any{
		"url": r.hooks.url(), "event_types": []string{"*"}, "description": "the fault suite's receiver"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code, body)
	secret, _ := body["secret"].(string)
	require.True(t, strings.HasPrefix(secret, "whsec_"), "secret %q", secret)
	require.NoError(t, r.hooks.setSecret(secret))
	r.hookEndpoint, _ = body["id"].(string)
	require.NoError(t, r.pool.QueryRow(context.Background(),
		`SELECT start_position FROM webhook_endpoints WHERE id = $1`, r.hookEndpoint).Scan(&r.hookStart))
}

// killMidDelivery waits calm, then holds the receiver's answers until a
// worker has a delivery held, kills that worker with SIGKILL while the
// receiver holds it, releases the others' and restarts the worker a
// second later. The held deliveries must arrive again.
func (r *chaosRig) killMidDelivery(ctx context.Context, calm time.Duration) {
	r.sleep(ctx, calm)
	r.hooks.setHold(true)
	waitFrom := time.Now()
	lastLog := time.Now()
	var victim *procChild
	var ids []string
	for victim == nil {
		pids := map[int]*procChild{}
		var list []int
		for _, w := range r.workers {
			pids[w.cmd.Process.Pid] = w
			list = append(list, w.cmd.Process.Pid)
		}
		held := r.hooks.heldNow()
		froms := make([]string, 0, len(held))
		for from := range held {
			froms = append(froms, from)
		}
		sort.Strings(froms)
		// Among the senders holding a delivery now, one at random.
		r.rng.Shuffle(len(froms), func(i, j int) { froms[i], froms[j] = froms[j], froms[i] })
		for _, from := range froms {
			if pid, ok := socketOwner(from, list); ok {
				victim, ids = pids[pid], held[from]
				break
			}
		}
		if victim != nil {
			break
		}
		if time.Since(lastLog) > 10*time.Second {
			lastLog = time.Now()
			r.t.Logf("still waiting for a worker's delivery to hold (%s; held now: %d senders)",
				time.Since(waitFrom).Round(time.Second), len(held))
		}
		time.Sleep(20 * time.Millisecond)
	}
	sort.Strings(ids)
	f := r.beginFault(fmt.Sprintf("SIGKILL mid-delivery: %s, the receiver holding %d of its deliveries (%s)",
		victim.name, len(ids), strings.Join(ids, ", ")))
	r.kill(victim)
	r.inFlight(f)
	r.hooks.setHold(false)
	r.mu.Lock()
	r.killedMid = append(r.killedMid, ids...)
	r.mu.Unlock()
	r.sleep(ctx, time.Second)
	r.restart(victim)
	r.endFault(f)
}

// streamWatch reads the JetStream stream the workers publish to, from
// where it stood when the scenario began.
type streamWatch struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	start uint64
	next  uint64
	msgs  map[string][]streamMsg // by Nats-Msg-Id
}

type streamMsg struct {
	seq     uint64
	subject string
	data    []byte
}

// openStreamWatch connects to the NATS server on 127.0.0.1:4222; nil,
// with a log line, when it does not answer or has no JetStream.
func openStreamWatch(t *testing.T) *streamWatch {
	c, err := net.DialTimeout("tcp", "127.0.0.1:4222", 2*time.Second)
	if err != nil {
		t.Logf("NATS does not answer on 127.0.0.1:4222 (%v): no stream, its checks skipped", err)
		return nil
	}
	c.Close()
	nc, err := nats.Connect(chaosNATSURL, nats.Name("claimsd-chaos"), nats.Timeout(2*time.Second), nats.MaxReconnects(-1))
	if err != nil {
		t.Logf("NATS on 127.0.0.1:4222 refused a connection (%v): no stream, its checks skipped", err)
		return nil
	}
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		nc.Close()
		t.Logf("NATS on 127.0.0.1:4222 has no JetStream (%v): no stream, its checks skipped", err)
		return nil
	}
	w := &streamWatch{nc: nc, js: js, start: 1, msgs: map[string][]streamMsg{}}
	st, err := js.Stream(ctx, chaosStreamName)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
	case err != nil:
		require.NoError(t, err, "stream %s", chaosStreamName)
	default:
		w.start = st.CachedInfo().State.LastSeq + 1
	}
	w.next = w.start
	t.Cleanup(nc.Close)
	t.Logf("stream %s on %s: this run's messages from sequence %d", chaosStreamName, chaosNATSURL, w.start)
	return w
}

// poll reads the messages stored since the last poll.
func (w *streamWatch) poll(ctx context.Context) error {
	st, err := w.js.Stream(ctx, chaosStreamName)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	state := st.CachedInfo().State
	if state.FirstSeq > w.next {
		return fmt.Errorf("stream %s lost messages from %d to %d (its limits, or it was purged)", chaosStreamName, w.next, state.FirstSeq-1)
	}
	for ; w.next <= state.LastSeq; w.next++ {
		m, err := st.GetMsg(ctx, w.next)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("stream %s message %d: %w", chaosStreamName, w.next, err)
		}
		id := m.Header.Get(jetstream.MsgIDHeader)
		w.msgs[id] = append(w.msgs[id], streamMsg{seq: m.Sequence, subject: m.Subject, data: m.Data})
	}
	return nil
}

// chaosEvent is a numbered event of the run.
type chaosEvent struct {
	id, typ, claimID string
	sequence         int
	position         int64
}

func (r *chaosRig) numberedEvents() []chaosEvent {
	rows, err := r.pool.Query(context.Background(), `
		SELECT id, type, coalesce(claim_id, ''), coalesce(sequence, 0), position
		  FROM events WHERE position IS NOT NULL ORDER BY position`)
	require.NoError(r.t, err)
	defer rows.Close()
	var out []chaosEvent
	for rows.Next() {
		var e chaosEvent
		require.NoError(r.t, rows.Scan(&e.id, &e.typ, &e.claimID, &e.sequence, &e.position))
		out = append(out, e)
	}
	require.NoError(r.t, rows.Err())
	return out
}

// checkOutbound waits, with no time limit, until every event the run
// numbered has been delivered to the receiver (and the engine has
// recorded it) and stored in the stream, then checks what arrived.
func (r *chaosRig) checkOutbound() {
	t := r.t
	ctx := context.Background()
	waitEventsNumbered(t, r.pool, r.procs()...)
	all := r.numberedEvents()
	var hooked, ids []string
	for _, e := range all {
		ids = append(ids, e.id)
		if e.position > r.hookStart {
			hooked = append(hooked, e.id)
		}
	}
	require.NotEmpty(t, hooked)
	waitStart := time.Now()
	lastLog := time.Now()
	for {
		for _, c := range r.procs() {
			if c.exited() {
				t.Fatalf("%s exited while events waited to go out: %v", c.name, c.err)
			}
		}
		var pending, leased, overdone int
		require.NoError(t, r.pool.QueryRow(ctx, `
			SELECT count(*), count(*) FILTER (WHERE lease_until > now()), count(*) FILTER (WHERE attempts > $2)
			  FROM webhook_deliveries WHERE state = 'pending' AND event_id = ANY($1)`, hooked, webhook.MaxAttempts).
			Scan(&pending, &leased, &overdone))
		// Past the schedule's last attempt a delivery is given up, never
		// pending: attempts go on that the engine does not record.
		require.Zero(t, overdone, "deliveries still pending after more than %d attempts (%s)",
			webhook.MaxAttempts, r.dispatcherWarnings())
		answered := r.hooks.answered(hooked)
		inStream := len(ids)
		if r.nats != nil {
			require.NoError(t, r.nats.poll(ctx))
			inStream = 0
			for _, id := range ids {
				if len(r.nats.msgs[id]) > 0 {
					inStream++
				}
			}
		}
		if pending == 0 && answered == len(hooked) && inStream == len(ids) {
			break
		}
		if time.Since(lastLog) > 10*time.Second {
			lastLog = time.Now()
			var next *time.Time
			var dueNow int
			require.NoError(t, r.pool.QueryRow(ctx, `
				SELECT count(*) FILTER (WHERE greatest(next_attempt_at, lease_until) <= now()),
				       min(greatest(next_attempt_at, lease_until)) FILTER (WHERE greatest(next_attempt_at, lease_until) > now())
				  FROM webhook_deliveries WHERE state = 'pending' AND event_id = ANY($1)`, hooked).Scan(&dueNow, &next))
			due := fmt.Sprintf("%d due now (behind an earlier event of their claim, or for a turn)", dueNow)
			if next != nil {
				due += ", the next attempt or lease's end in " + time.Until(*next).Round(time.Second).String()
			}
			var recorded int
			require.NoError(t, r.pool.QueryRow(ctx, `SELECT count(*) FROM webhook_attempts`).Scan(&recorded))
			t.Logf("still waiting (%s): webhooks %d of %d events answered 2xx, %d deliveries pending (%d leased, %s), %d attempts recorded; stream %d of %d events%s",
				time.Since(waitStart).Round(time.Second), answered, len(hooked), pending, leased, due, recorded, inStream, len(ids),
				r.dispatcherWarnings())
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("outbound: every event delivered %s after the checks began", time.Since(waitStart).Round(100*time.Millisecond))
	r.checkHooks(all)
	if r.nats != nil {
		r.checkStream(all)
	}
}

// dispatcherWarnings is the last webhook dispatcher warning in each
// worker's log, if any: why deliveries do not move on.
func (r *chaosRig) dispatcherWarnings() string {
	var out []string
	for _, w := range r.workers {
		b, err := os.ReadFile(w.logPath)
		if err != nil {
			continue
		}
		lines := strings.Split(string(b), "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			// (Not "lease webhook deliveries: %!w(<nil>)", logged on every
			// turn with nothing due.)
			if strings.Contains(lines[i], `msg="webhook dispatcher"`) && !strings.Contains(lines[i], "%!w(<nil>)") {
				out = append(out, "\n\t"+w.name+": "+lines[i])
				break
			}
		}
	}
	return strings.Join(out, "")
}

// checkHooks: every event numbered after the endpoint was made reached
// it, signed (checked on arrival), with its own id, type, claim, sequence
// and position; nothing else arrived; a claim's events first arrived in
// its order; a repeat is the same message under the same webhook-id; the
// deliveries the receiver held when their worker was killed came again;
// the engine made one delivery per event and gave none up.
func (r *chaosRig) checkHooks(all []chaosEvent) {
	t := r.t
	h := r.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Empty(t, h.bad, "deliveries the receiver refused")

	// Events numbered meanwhile are the run's too.
	known := map[string]chaosEvent{}
	for _, e := range r.numberedEvents() {
		known[e.id] = e
	}
	for _, a := range h.arrivals {
		e, ok := known[a.id]
		require.True(t, ok, "an unknown event arrived: %s (%s)", a.id, a.typ)
		require.Greater(t, e.position, r.hookStart, "event %s, numbered before the endpoint was made, arrived", a.id)
		require.Equal(t, e, chaosEvent{id: a.id, typ: a.typ, claimID: a.claimID, sequence: a.sequence, position: a.position},
			"event %s arrived unlike the events table", a.id)
	}
	for _, e := range all {
		if e.position > r.hookStart {
			require.True(t, h.ok[e.id], "event %s (%s) never answered 2xx at the receiver", e.id, e.typ)
		}
	}

	// Each claim's events, by first arrival, in its order.
	last := map[string]hookArrival{}
	for n, a := range h.arrivals {
		if a.claimID == "" || h.byID[a.id][0] != n {
			continue
		}
		if prev, ok := last[a.claimID]; ok {
			require.Greater(t, a.position, prev.position, "claim %s: event %s (#%d) first arrived after %s (#%d)",
				a.claimID, a.id, a.sequence, prev.id, prev.sequence)
			require.GreaterOrEqual(t, a.sequence, prev.sequence, "claim %s: event %s first arrived after %s", a.claimID, a.id, prev.id)
		}
		last[a.claimID] = a
	}

	r.mu.Lock()
	killedMid := slices.Clone(r.killedMid)
	r.mu.Unlock()
	for _, id := range killedMid {
		require.GreaterOrEqual(t, len(h.byID[id]), 2, "event %s, held when its worker was killed, never came again", id)
	}

	// Only the events checked above: one numbered since (a standing
	// refreshed, a reconciliation) may be on its way still.
	var hookedIDs []string
	for _, e := range all {
		if e.position > r.hookStart {
			hookedIDs = append(hookedIDs, e.id)
		}
	}
	var one, failed, delivered, attempts, multi int
	require.NoError(t, r.pool.QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE n = 1), count(*) FILTER (WHERE NOT ok), coalesce(sum(delivered), 0),
		       coalesce(sum(attempts), 0), count(*) FILTER (WHERE attempts > 1)
		  FROM (SELECT event_id, count(*) AS n, bool_and(state = 'delivered') AS ok,
		               count(*) FILTER (WHERE state = 'delivered') AS delivered, sum(attempts) AS attempts
		          FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = ANY($2) GROUP BY event_id) d`,
		r.hookEndpoint, hookedIDs).
		Scan(&one, &failed, &delivered, &attempts, &multi))
	hooked := len(hookedIDs)
	require.Zero(t, failed, "deliveries not delivered")
	var rows int
	require.NoError(t, r.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = ANY($2)`, r.hookEndpoint, hookedIDs).Scan(&rows))
	require.Equal(t, rows, one, "events with more than one delivery row")
	var enabled bool
	require.NoError(t, r.pool.QueryRow(context.Background(),
		`SELECT enabled FROM webhook_endpoints WHERE id = $1`, r.hookEndpoint).Scan(&enabled))
	require.True(t, enabled, "the endpoint was disabled")

	// Figures.
	retriedAfter := map[string]int{}
	for id, ns := range h.byID {
		if len(ns) < 2 {
			continue
		}
		firstA := h.arrivals[ns[0]]
		switch {
		case firstA.status >= 500:
			retriedAfter["a 500"]++
		case firstA.held && slices.Contains(killedMid, id):
			retriedAfter["its worker killed mid-delivery"]++
		case firstA.status == 0:
			retriedAfter["no answer (sender gone)"]++
		default:
			retriedAfter["a 200 the engine did not record"]++
		}
	}
	var why []string
	for k, v := range retriedAfter {
		why = append(why, fmt.Sprintf("after %s: %d", k, v))
	}
	sort.Strings(why)
	var counts []string
	for k, v := range h.counts {
		counts = append(counts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(counts)
	t.Logf("webhooks: %d events to deliver, %d requests arrived, %d duplicates (events sent again: %s); receiver: %s",
		hooked, len(h.arrivals), len(h.arrivals)-len(h.byID), strings.Join(why, ", "), strings.Join(counts, " "))
	t.Logf("webhooks, the engine's record: %d deliveries, %d delivered, %d attempts, %d deliveries attempted more than once",
		rows, delivered, attempts, multi)
}

// checkStream: every numbered event is in the stream once, on its type's
// subject, the same bytes as its webhook body.
func (r *chaosRig) checkStream(all []chaosEvent) {
	t := r.t
	w := r.nats
	mine := map[string]bool{}
	for _, e := range all {
		mine[e.id] = true
		got := w.msgs[e.id]
		require.Len(t, got, 1, "event %s in the stream %d times", e.id, len(got))
		require.Equal(t, chaosStreamPrefix+e.typ, got[0].subject, "event %s's subject", e.id)
		r.hooks.mu.Lock()
		body, ok := r.hooks.bodies[e.id]
		r.hooks.mu.Unlock()
		if ok {
			require.Equal(t, string(body), string(got[0].data), "event %s: the stream's message and the webhook's body differ", e.id)
		}
	}
	others := 0
	for id, ms := range w.msgs {
		if !mine[id] {
			others += len(ms)
		}
	}
	t.Logf("stream %s: %d events, each stored once (sequences %d to %d; %d other messages on the shared server)",
		chaosStreamName, len(all), w.start, w.next-1, others)
}
