package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/standing"
)

// A year of decided claims for the backtests: each claim decided by the
// policy the engine starts with, at its moment, on facts drawn from a
// realistic mix (reasons, currencies, amounts, account ages, shopper and
// linked-account history, seller risk and standing), with what became of
// it afterwards (refunds, some failed; charges made final, contested,
// reversed, upheld or waived; reviews approved or rejected by a person).
// Each decision is decision.Decide's (a Decider's: the policy validated
// once) and is written as the engine writes it (pgstore.DecisionJSON), so
// replaying that policy must change none.

// historySellers is how many sellers the history's claims are spread
// over, apart from the sellers the open loop files against.
const historySellers = 1000

// historyBatch is how many claims are generated and copied at a time.
const historyBatch = 10_000

// historyEnd is how long before now the history's last decision was made:
// every claim in it has settled (no contest window open, no review
// waiting), so the engine's sweeps find nothing of it to do.
const historyEnd = 4 * 24 * time.Hour

// historySpan is how long the history's decisions are spread over.
const historySpan = 365 * 24 * time.Hour

// history generates the claims; it is deterministic for a given seed.
type history struct {
	prefix  string
	n       int
	start   time.Time // the first decision
	decider *decision.Decider
	window  map[claim.Reason]int // the policy's claim windows
	rng     *rand.Rand
}

// rows are one batch of rows for COPY, per table.
type rows struct {
	orders, claims, events [][]any
}

var (
	orderColumns = []string{"id", "buyer_id", "seller_id", "currency", "amount", "items", "payment_provider",
		"payment_reference", "paid_at", "delivered_at", "created_at", "updated_at"}
	claimColumns = []string{"id", "order_id", "shopper_id", "seller_id", "reason", "status", "amount", "currency",
		"items", "description", "evidence", "decision_outcome", "decision_reasons", "decision_policy_version",
		"decision_tier", "decision_facts", "decided_at", "version", "created_at", "updated_at", "refund_id",
		"refund_provider", "refunded_at", "failure_code", "failure_reason", "charged_at", "refund_attempt",
		"review_deadline", "escalated_at", "rejection_code", "chargeback_status", "contest_by", "chargeback"}
	eventColumns = []string{"claim_id", "seq", "type", "from_status", "to_status", "actor_kind", "actor_id",
		"note", "data", "created_at"}
)

// historyCounts tallies what the history holds, for the report.
type historyCounts struct {
	Outcomes         map[string]int `json:"outcomes"`
	RefundFailed     int            `json:"refund_failed"`
	AgentRejected    int            `json:"rejected_after_review"`
	Chargebacks      map[string]int `json:"chargebacks"`
	Events           int            `json:"events"`
	DecidedFrom      time.Time      `json:"decided_from"`
	DecidedTo        time.Time      `json:"decided_to"`
	PolicyVersion    string         `json:"policy_version"`
	Sellers          int            `json:"sellers"`
	LoadSeconds      float64        `json:"load_seconds"`
	SettleSeconds    float64        `json:"vacuum_seconds"`
	ClaimsTableBytes int64          `json:"claims_table_bytes"`
}

// loadHistory writes n decided claims, their orders, timelines and
// sellers through COPY, as a restore would (triggers and foreign-key
// checks off for the loading session, which needs a superuser): a year of
// events already delivered does not belong in the outbox, nor a year of
// claims in the standing job's notes. Then it vacuums and checkpoints, so
// what follows measures the engine with a history, not the load's
// aftermath.
func loadHistory(ctx context.Context, url, prefix string, n int, policy decision.Policy, now time.Time, logf func(string, ...any)) (historyCounts, error) {
	counts := historyCounts{Outcomes: map[string]int{}, Chargebacks: map[string]int{}, PolicyVersion: policy.Version, Sellers: historySellers}
	fail := func(err error) (historyCounts, error) { return historyCounts{}, err }
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fail(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		return fail(fmt.Errorf("loading the history needs a superuser (triggers off, as a restore): %w", err))
	}
	started := time.Now()
	sellers := make([][]any, historySellers)
	for s := range sellers {
		risk, verified := sellerRisk(s)
		sellers[s] = []any{historySeller(prefix, s), fmt.Sprintf("History seller %d", s), risk, verified, now.Add(-2 * historySpan), now.Add(-2 * historySpan)}
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"sellers"}, []string{"id", "name", "risk_score", "verified", "created_at", "updated_at"},
		pgx.CopyFromRows(sellers)); err != nil {
		return fail(fmt.Errorf("copy history sellers: %w", err))
	}

	dc, err := decision.NewDecider(policy)
	if err != nil {
		return fail(err)
	}
	h := &history{prefix: prefix, n: n, start: now.Add(-historyEnd - historySpan), decider: dc,
		window: policy.ClaimWindowDays, rng: rand.New(rand.NewPCG(uint64(n), 23))}
	// One goroutine generates batches; each table's rows are copied on a
	// connection of its own, so the three tables load at once. counts is
	// the generator's until the group is done.
	tables := []struct {
		name string
		cols []string
		rows chan [][]any
	}{{"orders", orderColumns, make(chan [][]any, 1)}, {"claims", claimColumns, make(chan [][]any, 1)},
		{"claim_events", eventColumns, make(chan [][]any, 1)}}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer func() {
			for _, t := range tables {
				close(t.rows)
			}
		}()
		for from := 0; from < n; from += historyBatch {
			var b rows
			for i := from; i < min(from+historyBatch, n); i++ {
				if err := h.claim(i, &b, &counts); err != nil {
					return err
				}
			}
			for i, r := range [][][]any{b.orders, b.claims, b.events} {
				select {
				case tables[i].rows <- r:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			if to := from + historyBatch; to%100_000 < historyBatch || to >= n {
				logf("history: %d of %d claims generated (%s)", min(to, n), n, time.Since(started).Round(time.Second))
			}
		}
		return nil
	})
	for _, t := range tables {
		g.Go(func() error {
			c, err := pgx.Connect(gctx, url)
			if err != nil {
				return err
			}
			defer func() { _ = c.Close(ctx) }()
			if _, err := c.Exec(gctx, `SET session_replication_role = replica`); err != nil {
				return err
			}
			for rows := range t.rows {
				if _, err := c.CopyFrom(gctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromRows(rows)); err != nil {
					return fmt.Errorf("copy history %s: %w", t.name, err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fail(err)
	}
	counts.LoadSeconds = time.Since(started).Seconds()
	counts.DecidedFrom, counts.DecidedTo = h.start, h.start.Add(historySpan)

	settle := time.Now()
	logf("vacuuming and checkpointing after the history's load")
	if _, err := conn.Exec(ctx, `VACUUM (ANALYZE) sellers, orders, claims, claim_events`); err != nil {
		return fail(fmt.Errorf("vacuum after the history: %w", err))
	}
	if _, err := conn.Exec(ctx, `CHECKPOINT`); err != nil {
		logf("no checkpoint after the history (%v); the first runs may pay for it", err)
	}
	counts.SettleSeconds = time.Since(settle).Seconds()
	if err := conn.QueryRow(ctx, `SELECT pg_total_relation_size('claims')`).Scan(&counts.ClaimsTableBytes); err != nil {
		return fail(err)
	}
	return counts, nil
}

func historySeller(prefix string, s int) string { return prefix + "_hsel_" + strconv.Itoa(s) }

// sellerRisk is the platform's rating of history seller s: a spread of
// scores, every other seller verified.
func sellerRisk(s int) (int, bool) { return (s * 37) % 101, s%2 == 0 }

// sellerStanding is what the engine had learned of seller s: most
// standard, some creditable, a few watched or high risk.
func sellerStanding(s int) (standing.Level, int) {
	switch k := (s * 13) % 100; {
	case k < 20:
		return standing.LevelCreditable, 80 + k
	case k < 85:
		return standing.LevelStandard, 50 + k%30
	case k < 95:
		return standing.LevelWatch, 25 + k%25
	default:
		return standing.LevelHighRisk, k % 25
	}
}

var historyCurrencies = struct {
	codes  []money.Currency
	weight []int // cumulative, of 100
	scale  []float64
}{
	codes:  []money.Currency{mustCurrency("EUR"), mustCurrency("USD"), mustCurrency("GBP"), mustCurrency("JPY"), mustCurrency("CHF")},
	weight: []int{45, 75, 90, 98, 100},
	// minor units per unit of value: yen have none and a unit is worth
	// less; the policy has no limit for CHF, whose claims go to a person.
	scale: []float64{100, 100, 100, 150, 100},
}

func mustCurrency(code string) money.Currency {
	c, err := money.ParseCurrency(code)
	if err != nil {
		panic(err)
	}
	return c
}

// amount draws a claim's value: log-uniform from 5 to 800 (euros or the
// like), so most are small and a few large.
func (h *history) amount(scale float64) int64 {
	return int64(math.Exp(math.Log(5)+h.rng.Float64()*math.Log(800.0/5)) * scale)
}

func (h *history) days(n int) time.Duration {
	return time.Duration(n)*24*time.Hour + time.Duration(h.rng.IntN(86400))*time.Second
}

// facts draws what the engine would have gathered when claim i was filed.
func (h *history) facts(seller int, decidedAt time.Time) decision.Facts {
	r := h.rng
	var f decision.Facts
	switch k := r.IntN(100); {
	case k < 40:
		f.ClaimReason = claim.ReasonDamaged
	case k < 65:
		f.ClaimReason = claim.ReasonNotAsDescribed
	case k < 85:
		f.ClaimReason = claim.ReasonNotReceived
	default:
		f.ClaimReason = claim.ReasonCounterfeit
	}
	k := r.IntN(100)
	cur := slices.IndexFunc(historyCurrencies.weight, func(w int) bool { return k < w })
	c, scale := historyCurrencies.codes[cur], historyCurrencies.scale[cur]
	amount := h.amount(scale)
	order := amount
	if r.IntN(4) == 0 { // part of a larger order
		order += 1 + r.Int64N(amount)
	}
	f.Amount, f.OrderAmount = money.Of(amount, c), money.Of(order, c)

	window := h.window[f.ClaimReason]
	switch {
	case f.ClaimReason == claim.ReasonNotReceived && r.IntN(10) < 7: // never delivered
		waited := 7 + r.IntN(45)
		if r.IntN(10) == 0 { // too early, or too late
			waited = r.IntN(90)
		}
		f.PaidAt = decidedAt.Add(-h.days(waited))
	default:
		since := r.IntN(window)
		if f.ClaimReason == claim.ReasonNotReceived {
			since = r.IntN(40)
		}
		if r.IntN(100) < 6 { // past the window
			since = window + 1 + r.IntN(60)
		}
		delivered := decidedAt.Add(-h.days(since)).Truncate(time.Second)
		f.DeliveredAt = &delivered
		f.PaidAt = delivered.Add(-h.days(2 + r.IntN(8)))
	}
	f.PaidAt = f.PaidAt.Truncate(time.Second)
	f.ItemsAlreadyClaimed = r.IntN(100) == 0

	f.SellerRiskScore, f.SellerVerified = sellerRisk(seller)
	f.SellerStanding, f.SellerStandingScore = sellerStanding(seller)
	switch {
	case f.SellerRiskScore >= 70:
		f.SellerCounterfeitClaims90d = r.IntN(10)
	case r.IntN(10) == 0:
		f.SellerCounterfeitClaims90d = r.IntN(4)
	}

	var age int
	switch k := r.IntN(100); {
	case k < 20:
		age = r.IntN(30)
	case k < 65:
		age = 30 + r.IntN(336)
	default:
		age = 366 + r.IntN(2500)
	}
	f.ShopperFirstOrderAt = decidedAt.Add(-h.days(age)).Truncate(time.Second)
	if f.ShopperFirstOrderAt.After(f.PaidAt) { // this order was their first
		f.ShopperFirstOrderAt = f.PaidAt
	}
	switch k := r.IntN(100); {
	case k < 72:
	case k < 90:
		f.ShopperClaims90d = 1
	case k < 96:
		f.ShopperClaims90d = 2
	default:
		f.ShopperClaims90d = 3 + r.IntN(4)
	}
	var refunded int64
	for range f.ShopperClaims90d {
		if r.IntN(5) > 0 { // one in five was rejected
			refunded += h.amount(scale)
		}
	}
	f.ShopperRefunded90d = money.Of(refunded, c)
	if r.IntN(100) < 5 {
		f.LinkedShoppers = 1 + r.IntN(3)
		f.LinkedClaims90d = r.IntN(7)
		var linked int64
		for range f.LinkedClaims90d {
			linked += h.amount(scale)
		}
		f.LinkedRefunded90d = money.Of(linked, c)
		f.LinkedSignals = [][]string{{"device"}, {"payment_fingerprint"}, {"shipping_address"}, {"device", "shipping_address"}}[r.IntN(4)]
	}
	return f
}

// timeline builds a claim's events.
type timeline struct {
	id     string
	events [][]any
}

func (t *timeline) add(typ string, from, to claim.Status, actorKind, actorID, note string, data map[string]any, at time.Time) {
	var fromS any
	if from != (claim.Status{}) {
		fromS = from.String()
	}
	var d any
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			panic(err) // maps of strings and numbers
		}
		d = string(b)
	}
	t.events = append(t.events, []any{t.id, len(t.events) + 1, typ, fromS, to.String(), actorKind, actorID, note, d, at})
}

// claim generates claim i and appends its rows to b.
func (h *history) claim(i int, b *rows, counts *historyCounts) error {
	r := h.rng
	// Spread evenly over the span, in order, so the table's physical order
	// follows the decisions' as it does when claims are filed over time.
	decidedAt := h.start.Add(time.Duration(float64(historySpan) * (float64(i) + r.Float64()) / float64(h.n))).UTC().Truncate(time.Microsecond)
	seller := r.IntN(historySellers)
	f := h.facts(seller, decidedAt)
	d := h.decider.Decide(f, decidedAt)
	reasons, facts, err := pgstore.DecisionJSON(d, f)
	if err != nil {
		return err
	}
	id := "clm_" + h.prefix + "_h" + strconv.Itoa(i)
	orderID := h.prefix + "_hord_" + strconv.Itoa(i)
	shopper := h.prefix + "_hshp_" + strconv.Itoa(r.IntN(h.n/3+1))
	sellerID := historySeller(h.prefix, seller)
	cur := f.Amount.Currency().String()
	items := fmt.Sprintf(`[{"sku":"sku_h%d","name":"Item","quantity":1,"unit_amount":%d}]`, i%500, f.OrderAmount.Amount())
	b.orders = append(b.orders, []any{orderID, shopper, sellerID, cur, f.OrderAmount.Amount(), items, "sandbox", "pay_" + orderID,
		f.PaidAt, f.DeliveredAt, f.PaidAt, f.PaidAt})

	t := &timeline{id: id}
	sys, agent := claim.SystemActor, "agent_h"+strconv.Itoa(r.IntN(40))
	t.add("submitted", claim.Status{}, claim.StatusSubmitted, "shopper", shopper, "",
		map[string]any{"reason": f.ClaimReason.String(), "amount": f.Amount.Amount(), "currency": cur}, decidedAt)
	var (
		status                                 claim.Status
		refundID, refundProvider, failureCode  any
		failureReason, rejection, chargeStatus any
		refundedAt, chargedAt, reviewDeadline  any
		escalatedAt, contestBy, chargeback     any
		at                                     = decidedAt
		refundAttempt                          = 1
		version                                = int64(2)
	)
	// pay refunds and charges the seller; a refund fails for one claim in
	// fifty, and an agent retries three of five of those.
	var pay func()
	pay = func() {
		at = at.Add(time.Duration(1+r.IntN(5)) * time.Second)
		if r.IntN(50) == 0 && refundAttempt == 1 {
			counts.RefundFailed++
			status, failureCode, failureReason = claim.StatusRefundFailed, "card_declined", "The card was declined."
			t.add("refund_failed", claim.StatusApproved, status, sys.Kind, sys.ID, "The card was declined.", map[string]any{"code": "card_declined"}, at)
			deadline := at.Add(24 * time.Hour)
			reviewDeadline = deadline
			if r.IntN(5) < 3 {
				at = at.Add(time.Duration(1+r.IntN(20)) * time.Hour)
				refundAttempt = 2
				reviewDeadline = nil
				t.add("override", claim.StatusRefundFailed, claim.StatusApproved, "agent", agent, "Asked the shopper for another card.",
					map[string]any{"action": "retry_refund", "refund_attempt": 2, "failure_code": "card_declined"}, at)
				pay()
				return
			}
			escalatedAt = deadline
			t.add("escalated", status, status, sys.Kind, sys.ID, "", map[string]any{"deadline": deadline.Format(time.RFC3339)}, deadline)
			version += 2
			return
		}
		refundID, refundProvider, refundedAt = "re_"+id+"_"+strconv.Itoa(refundAttempt), "sandbox", at
		t.add("refunded", claim.StatusApproved, claim.StatusRefunded, sys.Kind, sys.ID, "", map[string]any{"provider": "sandbox", "refund_id": refundID}, at)
		at = at.Add(time.Duration(1+r.IntN(3)) * time.Second)
		chargedAt = at
		t.add("seller_charged", claim.StatusRefunded, claim.StatusSellerCharged, sys.Kind, sys.ID, "",
			map[string]any{"seller_id": sellerID, "amount": f.Amount.Amount(), "currency": cur}, at)
		t.add("closed", claim.StatusSellerCharged, claim.StatusClosed, sys.Kind, sys.ID, "", nil, at)
		status = claim.StatusClosed
		version += 3
		window := at.Add(72 * time.Hour)
		contestBy = window
		cb := map[string]any{"charged_at": at}
		var st claim.ChargebackStatus
		switch k := r.IntN(100); {
		case k < 4: // contested, the agent sides with the seller
			st = claim.ChargebackReversed
			t.add("chargeback_contested", status, status, "seller", sellerID, "The item was genuine.", map[string]any{"evidence": 1}, at.Add(24*time.Hour))
			t.add("contest_reversed", status, status, "agent", agent, "The seller's evidence holds.",
				map[string]any{"chargeback_from": "contested", "chargeback_to": "reversed"}, at.Add(48*time.Hour))
		case k < 7: // contested, upheld
			st = claim.ChargebackUpheld
			t.add("chargeback_contested", status, status, "seller", sellerID, "The item was genuine.", map[string]any{"evidence": 1}, at.Add(24*time.Hour))
			t.add("contest_upheld", status, status, "agent", agent, "The shopper's evidence holds.",
				map[string]any{"chargeback_from": "contested", "chargeback_to": "upheld"}, at.Add(48*time.Hour))
		case k < 9: // the platform waives it
			st = claim.ChargebackWaived
			t.add("chargeback_waived", status, status, "agent", agent, "Goodwill.",
				map[string]any{"chargeback_from": "open", "chargeback_to": "waived"}, at.Add(12*time.Hour))
		default:
			st = claim.ChargebackFinal
			t.add("chargeback_final", status, status, sys.Kind, sys.ID, "The seller did not contest within the window.",
				map[string]any{"contest_by": window.Format(time.RFC3339)}, window)
		}
		counts.Chargebacks[st.String()]++
		chargeStatus = st.String()
		raw, err := json.Marshal(cb)
		if err != nil {
			panic(err)
		}
		chargeback = string(raw)
		version++
	}
	switch d.Outcome {
	case decision.OutcomeRejected:
		status = claim.StatusRejected
		t.add("decided", claim.StatusSubmitted, status, sys.Kind, sys.ID, "", map[string]any{"outcome": d.Outcome.String()}, decidedAt)
	case decision.OutcomeInstantRefund:
		t.add("decided", claim.StatusSubmitted, claim.StatusApproved, sys.Kind, sys.ID, "", map[string]any{"outcome": d.Outcome.String()}, decidedAt)
		pay()
	case decision.OutcomeManualReview:
		t.add("decided", claim.StatusSubmitted, claim.StatusInReview, sys.Kind, sys.ID, "", map[string]any{"outcome": d.Outcome.String()}, decidedAt)
		at = at.Add(time.Duration(10+r.IntN(20*60)) * time.Minute)
		if r.IntN(4) == 0 { // a person rejects it
			counts.AgentRejected++
			status, rejection = claim.StatusRejected, "insufficient_evidence"
			t.add("override", claim.StatusInReview, status, "agent", agent, "The photos do not show the problem.",
				map[string]any{"action": "reject", "reason_code": "insufficient_evidence"}, at)
			version++
			break
		}
		t.add("override", claim.StatusInReview, claim.StatusApproved, "agent", agent, "Looks right.",
			map[string]any{"action": "approve", "from": "in_review"}, at)
		version++
		pay()
	}
	counts.Outcomes[d.Outcome.String()]++
	counts.Events += len(t.events)
	updated := t.events[len(t.events)-1][9].(time.Time)
	b.claims = append(b.claims, []any{id, orderID, shopper, sellerID, f.ClaimReason.String(), status.String(), f.Amount.Amount(), cur,
		`[{"sku":"sku_h` + strconv.Itoa(i%500) + `","quantity":1}]`, "Filed in the history.", "[]",
		d.Outcome.String(), string(reasons), d.PolicyVersion, d.Tier, string(facts), decidedAt, version, decidedAt, updated,
		refundID, refundProvider, refundedAt, failureCode, failureReason, chargedAt, refundAttempt,
		reviewDeadline, escalatedAt, rejection, chargeStatus, contestBy, chargeback})
	b.events = append(b.events, t.events...)
	return nil
}
