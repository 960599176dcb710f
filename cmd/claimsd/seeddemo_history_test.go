package main

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/adapters/queue"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// TestSeedDemoHistory makes a version other than the built-in policy the
// policy lab's active one, runs seed-demo twice and reads the history it
// left: every claim decided by that version, none filed twice, every
// outcome there and everything agents and sellers do, nothing left
// half-way. Replaying the active version over it changes nothing; a
// looser and a stricter candidate move claims, with consequences to weigh.
func TestSeedDemoHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, cleanup, err := pgtest.Database(ctx, "seedhistory")
	require.NoError(t, err)
	t.Cleanup(cleanup)
	env := envOf(map[string]string{"DATABASE_URL": url, "CLAIMSD_DATA_DIR": t.TempDir()})
	require.NoError(t, run(ctx, []string{"migrate"}, io.Discard, io.Discard, env))

	st, err := pgstore.Open(ctx, url, pgstore.PoolConfig{})
	require.NoError(t, err)
	t.Cleanup(st.Close)
	jobs, err := queue.NewInserter(st.DB(), queue.Config{})
	require.NoError(t, err)
	st.SetEnqueuer(jobs) // backtests are queued as jobs
	lab := policyflow.New(policyflow.Config{Store: st, Codec: policyfile.Codec{}})
	risk := claimflow.Viewer{Role: claimflow.RoleRisk, Subject: "rita"}
	seeded, err := lab.Seed(ctx, policyfile.Default())
	require.NoError(t, err)
	require.True(t, seeded)
	const house = "demo-house.1" // the built-in rules under another name
	createVersion(ctx, t, lab, house, func(*decision.Policy) {})
	_, err = lab.Activate(ctx, risk, house)
	require.NoError(t, err)

	var summaries []string
	for range 2 {
		var out bytes.Buffer
		require.NoError(t, run(ctx, []string{"seed-demo"}, &out, io.Discard, env))
		summaries = append(summaries, historyLine(t, out.String()))
	}
	require.Equal(t, summaries[0], summaries[1], "the second run files and changes nothing")
	require.Contains(t, summaries[0], " against 6 sellers over 52 days, decided by policy "+house+": ")

	// Every claim seed-demo filed, the ring's and the history's, was
	// decided by the active version, once per order.
	var claims, orders int
	require.NoError(t, st.DB().QueryRowContext(ctx, `SELECT count(*), count(DISTINCT order_id) FROM claims`).Scan(&claims, &orders))
	require.Equal(t, orders, claims)
	var versions []string
	rows, err := st.DB().QueryContext(ctx, `SELECT DISTINCT decision_policy_version FROM claims`)
	require.NoError(t, err)
	for rows.Next() {
		var v string
		require.NoError(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Equal(t, []string{house}, versions)

	// The history: the count the line gives, at least 200 claims, every
	// outcome, agents approving and rejecting, contests reversed and
	// upheld, refunds declined; no claim still waiting for a step, a
	// person or the end of its contest window.
	n := count(ctx, t, st, `order_id LIKE 'ord_hist_%'`)
	require.GreaterOrEqual(t, n, 200)
	require.True(t, strings.HasPrefix(summaries[0], "history "+strconv.Itoa(n)+" claims by 80 shoppers"), summaries[0])
	for what, where := range map[string]string{
		"refunded at once":         `decision_outcome = 'instant_refund'`,
		"sent to agents":           `decision_outcome = 'manual_review'`,
		"rejected by the policy":   `decision_outcome = 'rejected'`,
		"approved by agents":       `decision_outcome = 'manual_review' AND status = 'closed'`,
		"rejected by agents":       `decision_outcome = 'manual_review' AND status = 'rejected' AND failure_code IS NULL`,
		"contests reversed":        `chargeback_status = 'reversed'`,
		"contests upheld":          `chargeback_status = 'upheld'`,
		"charges final":            `chargeback_status = 'final'`,
		"refunds declined":         `failure_code = 'card_declined' AND status = 'rejected'`,
		"in EUR":                   `currency = 'EUR'`,
		"in USD":                   `currency = 'USD'`,
		"in GBP":                   `currency = 'GBP'`,
		"for goods not received":   `reason = 'not_received'`,
		"for goods not described":  `reason = 'not_as_described'`,
		"for damaged goods":        `reason = 'damaged'`,
		"for counterfeit goods":    `reason = 'counterfeit'`,
		"by new accounts":          `decision_tier = 'new'`,
		"by established accounts":  `decision_tier = 'established'`,
		"by trusted accounts":      `decision_tier = 'trusted'`,
		"against high-risk seller": `seller_id = 'sel_fastbuy'`,
	} {
		require.Positive(t, count(ctx, t, st, `order_id LIKE 'ord_hist_%' AND `+where), what)
	}
	require.Zero(t, count(ctx, t, st, `order_id LIKE 'ord_hist_%' AND (status NOT IN ('closed', 'rejected') OR chargeback_status IN ('open', 'contested'))`))

	// The history replays exactly: the active version decides it as it was
	// decided.
	self := backtest(ctx, t, lab, house)
	require.Equal(t, int64(claims), self.Replayed)
	require.Zero(t, self.Changed)

	// A looser candidate refunds at once claims agents rejected, charges
	// sellers won back on contest and refunds that failed; a stricter one
	// sends to agents, or rejects, claims that were refunded and settled
	// without dispute.
	createVersion(ctx, t, lab, "demo-looser.1", looser)
	loose := backtest(ctx, t, lab, "demo-looser.1").Report
	moved := loose.Consequences.InstantRefund
	require.Positive(t, moved.Claims.Count)
	require.Positive(t, moved.AgentRejected.Count)
	require.Positive(t, moved.ChargeReleased.Count)
	require.Positive(t, moved.RefundFailed.Count)
	createVersion(ctx, t, lab, "demo-stricter.1", stricter)
	strict := backtest(ctx, t, lab, "demo-stricter.1").Report
	require.Positive(t, strict.Matrix[decision.OutcomeInstantRefund.String()][decision.OutcomeManualReview.String()].Count)
	require.Positive(t, strict.Consequences.ManualReview.SettledWithoutDispute.Count)
	require.Positive(t, strict.Consequences.Rejected.SettledWithoutDispute.Count)
}

// historyLine is seed-demo's line on the history.
func historyLine(t *testing.T, out string) string {
	t.Helper()
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "history ") {
			return strings.TrimSpace(line)
		}
	}
	t.Fatalf("no history line in:\n%s", out)
	return ""
}

func count(ctx context.Context, t *testing.T, st *pgstore.Store, where string) int {
	t.Helper()
	var n int
	require.NoError(t, st.DB().QueryRowContext(ctx, `SELECT count(*) FROM claims WHERE `+where).Scan(&n))
	return n
}

// createVersion stores the built-in policy, changed by edit, as version.
func createVersion(ctx context.Context, t *testing.T, lab *policyflow.Service, version string, edit func(*decision.Policy)) {
	t.Helper()
	p := policyfile.Default()
	p.Version = version
	edit(&p)
	doc, err := policyfile.Marshal(p)
	require.NoError(t, err)
	_, err = lab.Create(ctx, claimflow.Viewer{Role: claimflow.RoleRisk, Subject: "rita"}, doc)
	require.NoError(t, err)
}

// backtest replays version over every claim of the last 70 days, as the
// backtest job does, and returns the completed run.
func backtest(ctx context.Context, t *testing.T, lab *policyflow.Service, version string) policyflow.Backtest {
	t.Helper()
	now := time.Now()
	b, err := lab.StartBacktest(ctx, claimflow.Viewer{Role: claimflow.RoleRisk, Subject: "rita"}, version,
		policyflow.BacktestRequest{From: now.Add(-70 * day), To: now.Add(time.Hour)})
	require.NoError(t, err)
	require.NoError(t, lab.RunBacktest(ctx, b.ID, true))
	b, err = lab.Backtest(ctx, b.ID)
	require.NoError(t, err)
	require.Equal(t, policylab.BacktestCompleted, b.Status, b.Error)
	return b
}

// looser refunds more at once: established accounts up to 250, trusted
// ones up to 750, and a person looks from a shopper's sixth claim in 90
// days, not their fourth.
func looser(p *decision.Policy) {
	setLimits(p.Tiers[1].InstantLimits, 25000)
	setLimits(p.Tiers[2].InstantLimits, 75000)
	p.FrequentClaims90d = 5
}

// stricter refunds less at once (new accounts up to 30, established 100,
// trusted 300) and takes claims for damaged goods and goods not as
// described for three weeks after delivery, not thirty days.
func stricter(p *decision.Policy) {
	setLimits(p.Tiers[0].InstantLimits, 3000)
	setLimits(p.Tiers[1].InstantLimits, 10000)
	setLimits(p.Tiers[2].InstantLimits, 30000)
	p.ClaimWindowDays[claim.ReasonDamaged] = 21
	p.ClaimWindowDays[claim.ReasonNotAsDescribed] = 21
}

// setLimits sets the EUR, GBP and USD limits of m to v.
func setLimits(m map[money.Currency]int64, v int64) {
	for _, c := range []string{"EUR", "GBP", "USD"} {
		m[money.MustCurrency(c)] = v
	}
}
