package policyflow_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/payments/sandbox"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

var start = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// backtest queues a backtest and works it as its job does.
func (l *lab) backtest(t *testing.T, version string, from, to time.Time) policyflow.Backtest {
	t.Helper()
	ctx := context.Background()
	b, err := l.svc.StartBacktest(ctx, risk, version, policyflow.BacktestRequest{From: from, To: to})
	require.NoError(t, err)
	require.Equal(t, policylab.BacktestQueued, b.Status)
	require.NoError(t, l.svc.RunBacktest(ctx, b.ID, false))
	b, err = l.svc.Backtest(ctx, b.ID)
	require.NoError(t, err)
	require.Equal(t, policylab.BacktestCompleted, b.Status, b.Error)
	return b
}

// allChanged pages through a run's changed claims.
func (l *lab) allChanged(t *testing.T, id string, change *policylab.Change) []policyflow.ChangedClaim {
	t.Helper()
	var out []policyflow.ChangedClaim
	q := policyflow.ClaimQuery{Change: change, Limit: 7}
	for {
		page, err := l.svc.ChangedClaims(context.Background(), id, q)
		require.NoError(t, err)
		out = append(out, page...)
		if len(page) < q.Limit {
			return out
		}
		q.After = page[len(page)-1].ClaimID
	}
}

// outcomes counts the recorded decisions by outcome.
func (l *lab) outcomes(t *testing.T) map[string]int64 {
	t.Helper()
	rows, err := l.store.DB().QueryContext(context.Background(), `SELECT decision_outcome, count(*) FROM claims GROUP BY 1`)
	require.NoError(t, err)
	defer func() { _ = rows.Close() }()
	out := map[string]int64{}
	for rows.Next() {
		var o string
		var n int64
		require.NoError(t, rows.Scan(&o, &n))
		out[o] = n
	}
	require.NoError(t, rows.Err())
	return out
}

func TestSelfBacktestChangesNothing(t *testing.T) {
	t.Parallel()
	l := newLab(t, start)
	ids, from, to := l.history(t, 240, 1)
	got := l.outcomes(t)
	for _, o := range decision.Outcomes {
		require.Positive(t, got[o.String()], "the history has %s decisions, so the replay is put to the test", o)
	}

	b := l.backtest(t, l.seeded.Version, from, to)
	require.EqualValues(t, len(ids), b.Replayed, "every claim of the period is replayed")
	require.Zero(t, b.Changed, "replaying the policy that decided changes nothing")
	require.Empty(t, l.allChanged(t, b.ID, nil))
	for _, o := range decision.Outcomes {
		cell := b.Report.Matrix[o.String()][o.String()]
		require.Equal(t, got[o.String()], cell.Count, "the diagonal holds every %s decision", o)
	}
	// The money on the diagonal is the money claimed, per currency.
	var eur int64
	require.NoError(t, l.store.DB().QueryRowContext(context.Background(),
		`SELECT coalesce(sum(amount), 0)::bigint FROM claims WHERE currency = 'EUR' AND decision_outcome = 'instant_refund'`).Scan(&eur))
	cell := b.Report.Matrix["instant_refund"]["instant_refund"]
	i := slices.IndexFunc(cell.Amounts, func(a policyflow.AmountDoc) bool { return a.Currency == "EUR" })
	require.GreaterOrEqual(t, i, 0)
	require.Equal(t, eur, *cell.Amounts[i].Amount)

	// A period that starts after the history replays nothing.
	empty := l.backtest(t, l.seeded.Version, to, to.Add(time.Hour))
	require.Zero(t, empty.Replayed)
}

func TestStricterCandidateMovesExactlyTheClaimsItsRuleCovers(t *testing.T) {
	t.Parallel()
	l := newLab(t, start)
	_, from, to := l.history(t, 240, 2)
	ctx := context.Background()
	// The new tier's instant limit in EUR drops from 50.00 to 10.00: a
	// claim of a new shopper in EUR above 10.00 refunded instantly under
	// the plain limit goes to a person; raised limits are untouched.
	doc := l.candidate(t, "stricter-new-eur", func(p *decision.Policy) {
		p.Tiers[0].InstantLimits[money.MustCurrency("EUR")] = 1000
	})
	_, err := l.svc.Create(ctx, risk, doc)
	require.NoError(t, err)

	rows, err := l.store.DB().QueryContext(ctx, `SELECT id FROM claims
		WHERE decision_outcome = 'instant_refund' AND decision_tier = 'new' AND currency = 'EUR' AND amount > 1000
		  AND NOT decision_reasons @> '[{"code":"high_risk_seller"}]' AND NOT decision_reasons @> '[{"code":"counterfeit_pattern"}]'
		  AND NOT decision_reasons @> '[{"code":"high_risk_standing"}]'
		ORDER BY id`)
	require.NoError(t, err)
	var want []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		want = append(want, id)
	}
	require.NoError(t, errors.Join(rows.Err(), rows.Close()))
	require.NotEmpty(t, want, "the history has claims the stricter rule covers")

	b := l.backtest(t, "stricter-new-eur", from, to)
	require.EqualValues(t, len(want), b.Changed)
	changed := l.allChanged(t, b.ID, nil)
	var gotIDs []string
	for _, c := range changed {
		gotIDs = append(gotIDs, c.ClaimID)
		require.Equal(t, "instant_refund:manual_review", c.Change.String())
		require.Contains(t, c.Reasons, decision.CodeAboveInstantLimit)
		require.Equal(t, "EUR", c.Amount.Currency().String())
	}
	require.Equal(t, want, gotIDs, "exactly the claims the rule covers move, and no other")
	byChange, err := policylab.ParseChange("instant_refund:manual_review")
	require.NoError(t, err)
	require.Len(t, l.allChanged(t, b.ID, &byChange), len(want))
	other, err := policylab.ParseChange("manual_review:instant_refund")
	require.NoError(t, err)
	require.Empty(t, l.allChanged(t, b.ID, &other))
	require.EqualValues(t, len(want), b.Report.Matrix["instant_refund"]["manual_review"].Count)
	require.EqualValues(t, len(want), b.Report.ByTier["new"].Changed, "every change is in the new tier")
	require.EqualValues(t, len(want), b.Report.Consequences.ManualReview.Claims.Count)
	require.LessOrEqual(t, b.Report.Consequences.ManualReview.SettledWithoutDispute.Count, int64(len(want)))
}

func TestLooserCandidateCountsWhatAgentsRejected(t *testing.T) {
	t.Parallel()
	l := newLab(t, start)
	_, from, to := l.history(t, 200, 3)
	ctx := context.Background()
	// Agents reject half of the claims waiting for them.
	rows, err := l.store.DB().QueryContext(ctx, `SELECT id, version FROM claims WHERE status = 'in_review' ORDER BY id`)
	require.NoError(t, err)
	type pending struct {
		id      string
		version int64
	}
	var waiting []pending
	for rows.Next() {
		var p pending
		require.NoError(t, rows.Scan(&p.id, &p.version))
		waiting = append(waiting, p)
	}
	require.NoError(t, errors.Join(rows.Err(), rows.Close()))
	require.NotEmpty(t, waiting)
	rejected := map[string]bool{}
	for i, p := range waiting {
		if i%2 == 1 {
			continue
		}
		_, err := l.claims.Override(ctx, agent, p.id, claimflow.OverrideRequest{Action: claimflow.ActionReject,
			ReasonCode: claim.RejectInsufficientEvidence.String(), Note: "No proof.", Version: p.version})
		require.NoError(t, err)
		rejected[p.id] = true
	}

	// Every limit so high that every claim the facts allow is refunded.
	doc := l.candidate(t, "loose", func(p *decision.Policy) {
		for c := range p.RecentRefundLimits {
			p.RecentRefundLimits[c] = money.MaxAmount(c)
		}
		for i := range p.Tiers {
			for c := range p.Tiers[i].InstantLimits {
				p.Tiers[i].InstantLimits[c], p.Tiers[i].RaisedLimits[c] = money.MaxAmount(c), money.MaxAmount(c)
			}
		}
		p.FrequentClaims90d = 10000
	})
	_, err = l.svc.Create(ctx, risk, doc)
	require.NoError(t, err)
	b := l.backtest(t, "loose", from, to)
	require.Positive(t, b.Changed)
	toInstant, err := policylab.ParseChange("manual_review:instant_refund")
	require.NoError(t, err)
	var wantRejected int64
	newly := l.allChanged(t, b.ID, &toInstant)
	for _, c := range newly {
		if rejected[c.ClaimID] {
			wantRejected++
		}
	}
	require.Positive(t, wantRejected, "some claims agents rejected would have been refunded at once")
	q := b.Report.Consequences.InstantRefund
	require.EqualValues(t, len(newly), q.Claims.Count)
	require.Equal(t, wantRejected, q.AgentRejected.Count)
	require.Zero(t, b.Report.Matrix["instant_refund"]["manual_review"].Count, "a looser candidate sends nobody new to a person")
}

func TestActivationIsAtomicAndAudited(t *testing.T) {
	t.Parallel()
	l := newLab(t, start)
	ctx := context.Background()
	for _, v := range []string{"a", "b"} {
		_, err := l.svc.Create(ctx, risk, l.candidate(t, v, func(*decision.Policy) {}))
		require.NoError(t, err)
	}
	// Eight people activate versions at once, over and over.
	versions := []string{"a", "b", l.seeded.Version}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 5 {
				_, err := l.svc.Activate(ctx, risk, versions[(i+j)%len(versions)])
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()

	vs, err := l.svc.List(ctx)
	require.NoError(t, err)
	var active []string
	for _, v := range vs {
		if v.Status == policylab.StatusActive {
			active = append(active, v.Version)
		} else {
			require.NotEqual(t, policylab.StatusShadow, v.Status)
		}
	}
	require.Len(t, active, 1, "exactly one version is active")
	require.Equal(t, active[0], l.source.Active().Version, "this process decides with it at once")

	// The audit trail is one unbroken chain: every activation names the
	// version it replaced, which was retired in the same change.
	rows, err := l.store.DB().QueryContext(ctx, `SELECT action, version, coalesce(replaced, ''), actor FROM policy_changes ORDER BY id`)
	require.NoError(t, err)
	current, activations := "", 0
	for rows.Next() {
		var action, version, replaced, actor string
		require.NoError(t, rows.Scan(&action, &version, &replaced, &actor))
		switch action {
		case policyflow.ActionSeeded:
			current = version
		case policyflow.ActionRetired:
			require.Equal(t, current, version, "the active version is the one retired")
			require.Equal(t, risk.String(), actor)
		case policyflow.ActionActivated:
			require.Equal(t, current, replaced)
			current = version
			activations++
		}
	}
	require.NoError(t, errors.Join(rows.Err(), rows.Close()))
	require.Equal(t, active[0], current)
	require.Positive(t, activations)
	var changes, events int
	require.NoError(t, l.store.DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM policy_changes),
		(SELECT count(*) FROM events e JOIN policy_changes c ON e.id LIKE 'evt_pol_' || c.id || '\_%'
		  WHERE e.type = 'policy.changed' AND e.subject_id = c.version AND e.data->>'action' = c.action)`).Scan(&changes, &events))
	require.Equal(t, changes, events, "every change goes out as a policy.changed event")

	// Another process picks the change up on its next refresh, and the
	// next claim is decided by the active version.
	other := policyflow.NewSource(l.store, policyfile.Codec{}, policyfile.Default(), nil)
	require.NoError(t, other.Refresh(ctx))
	require.Equal(t, active[0], other.Active().Version)
	ids, _, _ := l.history(t, 1, 4)
	rec, err := l.claims.Get(ctx, admin, ids[0])
	require.NoError(t, err)
	require.Equal(t, active[0], rec.Decision.PolicyVersion)

	// Activating the active version changes nothing and records nothing.
	before, err := l.store.PolicyMark(ctx)
	require.NoError(t, err)
	_, err = l.svc.Activate(ctx, risk, active[0])
	require.NoError(t, err)
	after, err := l.store.PolicyMark(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after)
}

func TestShadowDecisionsAreRecordedAndNeverMoveMoney(t *testing.T) {
	t.Parallel()
	l := newLab(t, start)
	ctx := context.Background()
	doc := l.candidate(t, "shadow-loose", func(p *decision.Policy) {
		for i := range p.Tiers {
			for c := range p.Tiers[i].InstantLimits {
				p.Tiers[i].InstantLimits[c], p.Tiers[i].RaisedLimits[c] = money.MaxAmount(c), money.MaxAmount(c)
			}
		}
	})
	_, err := l.svc.Create(ctx, risk, doc)
	require.NoError(t, err)
	_, err = l.svc.StartShadow(ctx, risk, l.seeded.Version)
	var ce *policyflow.ConflictError
	require.ErrorAs(t, err, &ce, "the active version cannot go in shadow")
	require.Equal(t, "policy_active", ce.Code)
	v, err := l.svc.StartShadow(ctx, risk, "shadow-loose")
	require.NoError(t, err)
	require.Equal(t, policylab.StatusShadow, v.Status)

	ids, _, _ := l.history(t, 120, 5)
	var shadows, differ int
	require.NoError(t, l.store.DB().QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE sd.outcome <> c.decision_outcome)
		FROM policy_shadow_decisions sd JOIN claims c ON c.id = sd.claim_id WHERE sd.version = 'shadow-loose'`).Scan(&shadows, &differ))
	require.Equal(t, len(ids), shadows, "every claim filed while in shadow has its shadow decision")
	require.Positive(t, differ)

	// Claims the shadow would have refunded at once wait for a person, as
	// the active policy decided, and no money moved for them.
	var moved int
	require.NoError(t, l.store.DB().QueryRowContext(ctx, `SELECT count(*) FROM claims c
		JOIN policy_shadow_decisions sd ON sd.claim_id = c.id AND sd.outcome = 'instant_refund'
		WHERE c.decision_outcome = 'manual_review' AND (c.status <> 'in_review'
		   OR EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.claim_id = c.id))`).Scan(&moved))
	require.Zero(t, moved)
	var reviewed int
	require.NoError(t, l.store.DB().QueryRowContext(ctx, `SELECT count(*) FROM claims c
		JOIN policy_shadow_decisions sd ON sd.claim_id = c.id AND sd.outcome = 'instant_refund'
		WHERE c.decision_outcome = 'manual_review'`).Scan(&reviewed))
	require.Positive(t, reviewed, "the shadow would have refunded claims the active policy sent to a person")
	for _, id := range ids {
		rec, err := l.claims.Get(ctx, admin, id)
		require.NoError(t, err)
		require.Equal(t, l.seeded.Version, rec.Decision.PolicyVersion, "the active version decides")
	}

	sr, err := l.svc.ShadowReport(ctx, "shadow-loose")
	require.NoError(t, err)
	require.EqualValues(t, shadows, sr.Report.Replayed)
	require.EqualValues(t, differ, sr.Report.Changed)
	require.EqualValues(t, reviewed, sr.Report.Matrix["manual_review"]["instant_refund"].Count)
	page, err := l.svc.ShadowClaims(ctx, "shadow-loose", policyflow.ClaimQuery{Limit: policyflow.MaxClaimLimit})
	require.NoError(t, err)
	require.Len(t, page, differ)

	// Out of shadow, new claims have no shadow decision.
	v, err = l.svc.StopShadow(ctx, risk, "shadow-loose")
	require.NoError(t, err)
	require.Equal(t, policylab.StatusDraft, v.Status)
	_, err = l.svc.StopShadow(ctx, risk, "shadow-loose")
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "not_in_shadow", ce.Code)
	more, _, _ := l.history(t, 5, 6)
	var after int
	require.NoError(t, l.store.DB().QueryRowContext(ctx, `SELECT count(*) FROM policy_shadow_decisions WHERE claim_id = ANY($1)`, more).Scan(&after))
	require.Zero(t, after)
}

func TestBadPolicyNamesEveryProblem(t *testing.T) {
	t.Parallel()
	l := newLab(t, start)
	ctx := context.Background()
	doc := l.candidate(t, "bad", func(p *decision.Policy) {
		p.FrequentClaims90d = 0
		p.HighRiskSellerScore = 101
		p.Tiers[1].InstantLimits[money.MustCurrency("EUR")] = -1
	})
	_, err := l.svc.Create(ctx, risk, doc)
	var ip *policyflow.InvalidPolicyError
	require.ErrorAs(t, err, &ip)
	var fields []string
	for _, p := range ip.Problems {
		fields = append(fields, p.Field)
	}
	require.Subset(t, fields, []string{"frequent_claims_90d", "high_risk_seller_score", "tiers[1].instant_limits.EUR"})

	_, err = l.svc.Create(ctx, risk, l.candidate(t, l.seeded.Version, func(*decision.Policy) {}))
	var ce *policyflow.ConflictError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "version_exists", ce.Code)
	_, err = l.svc.Create(ctx, risk, []byte(`{"version": "x",`))
	require.Error(t, err)
	vs, err := l.svc.List(ctx)
	require.NoError(t, err)
	require.Len(t, vs, 1, "nothing was stored")
}

func TestBacktestRequestsOutOfRangeAreRefused(t *testing.T) {
	t.Parallel()
	l := newLab(t, start)
	ctx := context.Background()
	now := l.clock.now()
	for _, tc := range []struct {
		name  string
		req   policyflow.BacktestRequest
		field string
	}{
		{"no from", policyflow.BacktestRequest{To: now}, "from"},
		{"no to", policyflow.BacktestRequest{From: now.Add(-time.Hour)}, "to"},
		{"to before from", policyflow.BacktestRequest{From: now, To: now.Add(-time.Hour)}, "to"},
		{"to equals from", policyflow.BacktestRequest{From: now, To: now}, "to"},
		{"far past", policyflow.BacktestRequest{From: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), To: now}, "from"},
		{"far future", policyflow.BacktestRequest{From: now, To: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}, "to"},
		{"span too long", policyflow.BacktestRequest{From: now.AddDate(-4, 0, 0), To: now}, "to"},
		{"bad seller", policyflow.BacktestRequest{From: now.Add(-time.Hour), To: now, Filters: policyflow.Filters{SellerID: "a b"}}, "filters.seller_id"},
		{"bad decided_by", policyflow.BacktestRequest{From: now.Add(-time.Hour), To: now, Filters: policyflow.Filters{DecidedBy: "no/slash"}}, "filters.decided_by"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.svc.StartBacktest(ctx, risk, l.seeded.Version, tc.req)
			var ve *validation.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.field, ve.Field)
		})
	}
	_, err := l.svc.StartBacktest(ctx, risk, "nope", policyflow.BacktestRequest{From: now.Add(-time.Hour), To: now})
	require.ErrorIs(t, err, claimflow.ErrNotFound)
	bts, err := l.svc.Backtests(ctx, l.seeded.Version, 10)
	require.NoError(t, err)
	require.Empty(t, bts, "no refused request left a run")
	_, err = policyflow.ParseFilters([]string{"counterfeit", "nope"}, []string{"EUR", "XXX"}, "", "")
	require.ErrorContains(t, err, "filters.reasons[1]")
	require.ErrorContains(t, err, "filters.currencies[1]")
}

func TestAChargeKeepsTheContestWindowOfTheVersionThatDecided(t *testing.T) {
	t.Parallel()
	l := newLab(t, start)
	ctx := context.Background()
	_, err := l.svc.Create(ctx, risk, l.candidate(t, "short-contest", func(p *decision.Policy) { p.ContestWindow = 2 * time.Hour }))
	require.NoError(t, err)
	refund := &claimflow.RefundStep{Store: l.store, Now: l.clock.now, Policy: l.seeded, Policies: l.source,
		Providers: claimflow.Providers{order.ProviderSandbox: sandbox.New(l.store.DB(), sandbox.Config{})}}
	charge := &claimflow.ChargeSellerStep{Store: l.store, Now: l.clock.now, Policy: l.seeded, Policies: l.source}
	instant := func(seed uint64) string {
		t.Helper()
		for {
			ids, _, _ := l.history(t, 1, seed)
			rec, err := l.claims.Get(ctx, admin, ids[0])
			require.NoError(t, err)
			if rec.Decision.Outcome == decision.OutcomeInstantRefund {
				return ids[0]
			}
			seed += 100
		}
	}
	before := instant(10) // decided by the seeded version: 72 hours to contest
	_, err = l.svc.Activate(ctx, risk, "short-contest")
	require.NoError(t, err)
	after := instant(11) // decided by the new one: 2 hours
	for id, window := range map[string]time.Duration{before: 72 * time.Hour, after: 2 * time.Hour} {
		require.NoError(t, refund.Run(ctx, id, 1, 5))
		require.NoError(t, charge.Run(ctx, id, 1, 5))
		rec, err := l.claims.Get(ctx, admin, id)
		require.NoError(t, err)
		cb := rec.Claim.Chargeback()
		require.Equal(t, claim.ChargebackOpen, cb.Status)
		require.Equal(t, window, cb.ContestBy.Sub(cb.ChargedAt), "claim %s decided by %s", id, rec.Decision.PolicyVersion)
	}
}
