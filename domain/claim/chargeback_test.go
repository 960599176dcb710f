package claim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/validation"
)

var contestEvidence = []claim.Evidence{
	{Kind: "document", URL: "https://brand.test/certificate.pdf"},
	{Kind: "photo", URL: "https://cdn.test/label.jpg"},
}

// chargebackStatuses lists every chargeback status, none first.
var chargebackStatuses = []claim.ChargebackStatus{
	claim.ChargebackNone, claim.ChargebackOpen, claim.ChargebackContested, claim.ChargebackUpheld,
	claim.ChargebackFinal, claim.ChargebackReversed, claim.ChargebackWaived, claim.ChargebackVoided,
}

// chargedWith returns a claim whose chargeback is in status cb, reached
// through the claim's methods, its events popped: none is a refunded claim
// not charged yet, voided a closed claim whose refund bounced, every other
// one a closed claim whose seller was charged at chargedAt, contestable
// until contestBy.
func chargedWith(t *testing.T, cb claim.ChargebackStatus) *claim.Claim {
	t.Helper()
	if cb == claim.ChargebackNone {
		return claimIn(t, claim.StatusRefunded)
	}
	c := claimIn(t, claim.StatusClosed)
	contest := func() error { return c.Contest(sellerActor, "It was genuine.", contestEvidence, contestedAt) }
	paths := map[claim.ChargebackStatus][]func() error{
		claim.ChargebackOpen:      nil,
		claim.ChargebackContested: {contest},
		claim.ChargebackUpheld:    {contest, func() error { return c.ResolveContest(agent, true, "the photos match", settledAt) }},
		claim.ChargebackReversed:  {contest, func() error { return c.ResolveContest(agent, false, "the report convinces", settledAt) }},
		claim.ChargebackWaived:    {func() error { return c.WaiveChargeback(agent, "goodwill", settledAt) }},
		claim.ChargebackVoided: {func() error {
			return c.FailRefund(claim.Failure{Code: "refund_bounced", Reason: "The bank returned it."}, settledAt.Add(24*time.Hour), settledAt)
		}},
		claim.ChargebackFinal: {func() error {
			if !c.FinalizeChargeback(contestBy) {
				return fmt.Errorf("not finalized")
			}
			return nil
		}},
	}
	path, ok := paths[cb]
	require.True(t, ok, "no path to chargeback %s", cb)
	for _, move := range path {
		require.NoError(t, move())
	}
	require.Equal(t, cb, c.Chargeback().Status)
	c.PopEvents()
	return c
}

// chargebackAction is an action on a chargeback, the chargeback statuses
// it is allowed in and the refusal in each other one.
type chargebackAction struct {
	name      string
	do        func(c *claim.Claim) error
	allowed   map[claim.ChargebackStatus]claim.ChargebackStatus // from → to
	refusals  map[claim.ChargebackStatus]string
	wantEvent string
	wantActor claim.Actor
	wantNote  string
	wantData  func(from, to claim.ChargebackStatus) map[string]any
}

func settled(from, to claim.ChargebackStatus) map[string]any {
	return map[string]any{"chargeback_from": from.String(), "chargeback_to": to.String()}
}

func chargebackActions() []chargebackAction {
	return []chargebackAction{
		{
			name:    "contest",
			do:      func(c *claim.Claim) error { return c.Contest(sellerActor, "It was genuine.", contestEvidence, actAt) },
			allowed: map[claim.ChargebackStatus]claim.ChargebackStatus{claim.ChargebackOpen: claim.ChargebackContested},
			refusals: map[claim.ChargebackStatus]string{
				claim.ChargebackNone:      "no_chargeback",
				claim.ChargebackVoided:    "no_chargeback",
				claim.ChargebackContested: "already_contested",
				claim.ChargebackFinal:     "contest_window_closed",
				claim.ChargebackUpheld:    "chargeback_settled",
				claim.ChargebackReversed:  "chargeback_settled",
				claim.ChargebackWaived:    "chargeback_settled",
			},
			wantEvent: "chargeback_contested", wantActor: sellerActor,
			wantData: func(_, _ claim.ChargebackStatus) map[string]any { return map[string]any{"evidence": 2} },
		},
		{
			name:      "uphold contest",
			do:        func(c *claim.Claim) error { return c.ResolveContest(agent, true, "the photos match", actAt) },
			allowed:   map[claim.ChargebackStatus]claim.ChargebackStatus{claim.ChargebackContested: claim.ChargebackUpheld},
			refusals:  allBut(claim.ChargebackContested, "no_open_contest"),
			wantEvent: "contest_upheld", wantActor: agent, wantNote: "the photos match", wantData: settled,
		},
		{
			name:      "reverse contest",
			do:        func(c *claim.Claim) error { return c.ResolveContest(agent, false, "the report convinces", actAt) },
			allowed:   map[claim.ChargebackStatus]claim.ChargebackStatus{claim.ChargebackContested: claim.ChargebackReversed},
			refusals:  allBut(claim.ChargebackContested, "no_open_contest"),
			wantEvent: "contest_reversed", wantActor: agent, wantNote: "the report convinces", wantData: settled,
		},
		{
			name: "waive",
			do:   func(c *claim.Claim) error { return c.WaiveChargeback(agent, "goodwill", actAt) },
			allowed: map[claim.ChargebackStatus]claim.ChargebackStatus{
				claim.ChargebackOpen:      claim.ChargebackWaived,
				claim.ChargebackContested: claim.ChargebackWaived,
				claim.ChargebackUpheld:    claim.ChargebackWaived,
				claim.ChargebackFinal:     claim.ChargebackWaived,
			},
			refusals: map[claim.ChargebackStatus]string{
				claim.ChargebackNone:     "no_chargeback",
				claim.ChargebackVoided:   "no_chargeback",
				claim.ChargebackReversed: "chargeback_released",
				claim.ChargebackWaived:   "chargeback_released",
			},
			wantEvent: "chargeback_waived", wantActor: agent, wantNote: "goodwill", wantData: settled,
		},
	}
}

// cbName names a chargeback status in a subtest's name.
func cbName(s claim.ChargebackStatus) string {
	if s == claim.ChargebackNone {
		return "none"
	}
	return s.String()
}

// allBut refuses every chargeback status but one with code.
func allBut(except claim.ChargebackStatus, code string) map[claim.ChargebackStatus]string {
	m := map[claim.ChargebackStatus]string{}
	for _, s := range chargebackStatuses {
		if s != except {
			m[s] = code
		}
	}
	return m
}

// TestChargebackActionsCoverEveryStatus keeps the tables below honest:
// each action either allows or refuses each chargeback status.
func TestChargebackActionsCoverEveryStatus(t *testing.T) {
	t.Parallel()
	for _, a := range chargebackActions() {
		for _, s := range chargebackStatuses {
			_, ok := a.allowed[s]
			_, refused := a.refusals[s]
			require.True(t, ok != refused, "%s in %q: allowed %v, refused %v", a.name, s, ok, refused)
		}
	}
}

func TestChargebackActionsRefused(t *testing.T) {
	t.Parallel()
	for _, a := range chargebackActions() {
		for give, wantCode := range a.refusals {
			t.Run(a.name+"/"+cbName(give), func(t *testing.T) {
				t.Parallel()
				c, twin := chargedWith(t, give), chargedWith(t, give)

				requireRefused(t, a.do(c), wantCode)

				require.Equal(t, twin, c, "a refused action changes nothing")
				require.Empty(t, c.PopEvents())
			})
		}
	}
}

func TestChargebackActionsAllowed(t *testing.T) {
	t.Parallel()
	for _, a := range chargebackActions() {
		for from, to := range a.allowed {
			t.Run(a.name+"/"+cbName(from), func(t *testing.T) {
				t.Parallel()
				c := chargedWith(t, from)
				version, status := c.Version(), c.Status()

				require.NoError(t, a.do(c))

				require.Equal(t, to, c.Chargeback().Status)
				require.Equal(t, status, c.Status(), "the claim's status stays")
				require.Equal(t, version+1, c.Version())
				require.Equal(t, actAt, c.UpdatedAt())
				requireOneEvent(t, c, claim.Event{
					Type: a.wantEvent, From: status, To: status, Actor: a.wantActor, Note: a.wantNote,
					Data: a.wantData(from, to), At: actAt,
				})
			})
		}
	}
}

func TestContestRecordsTheCase(t *testing.T) {
	t.Parallel()
	c := chargedWith(t, claim.ChargebackOpen)
	evidence := append([]claim.Evidence(nil), contestEvidence...)

	require.NoError(t, c.Contest(sellerActor, "It was genuine.", evidence, actAt))
	evidence[0].URL = "https://evil.test/"

	require.Equal(t, claim.Chargeback{
		Status: claim.ChargebackContested, ChargedAt: chargedAt, ContestBy: contestBy,
		Contest: &claim.Contest{Statement: "It was genuine.", Evidence: contestEvidence, At: actAt},
	}, c.Chargeback(), "the claim keeps its own copy of the evidence")

	got := c.Chargeback()
	got.Contest.Evidence[0].URL = "https://evil.test/"
	got.Contest.Statement = "changed"
	require.Equal(t, contestEvidence, c.Chargeback().Contest.Evidence, "Chargeback returns a copy")
	require.Equal(t, "It was genuine.", c.Chargeback().Contest.Statement)
}

func TestContestWithoutEvidence(t *testing.T) {
	t.Parallel()
	c := chargedWith(t, claim.ChargebackOpen)

	require.NoError(t, c.Contest(sellerActor, "It was genuine.", nil, actAt))

	require.Empty(t, c.Chargeback().Contest.Evidence)
	requireOneEvent(t, c, claim.Event{
		Type: "chargeback_contested", From: claim.StatusClosed, To: claim.StatusClosed, Actor: sellerActor,
		Data: map[string]any{"evidence": 0}, At: actAt,
	})
}

func TestContestJustBeforeWindowCloses(t *testing.T) {
	t.Parallel()
	c := chargedWith(t, claim.ChargebackOpen)

	require.NoError(t, c.Contest(sellerActor, "It was genuine.", nil, contestBy.Add(-time.Nanosecond)))

	require.Equal(t, claim.ChargebackContested, c.Chargeback().Status)
}

func TestContestWindowClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		give   claim.ChargebackStatus
		giveAt time.Time
	}{
		{name: "open, at the end of the window", give: claim.ChargebackOpen, giveAt: contestBy},
		{name: "open, a day later", give: claim.ChargebackOpen, giveAt: contestBy.Add(24 * time.Hour)},
		{name: "open, clock outside UTC", give: claim.ChargebackOpen, giveAt: contestBy.In(time.FixedZone("CET", 3600))},
		{name: "final", give: claim.ChargebackFinal, giveAt: contestBy.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, twin := chargedWith(t, tt.give), chargedWith(t, tt.give)

			re := requireRefused(t, c.Contest(sellerActor, "It was genuine.", nil, tt.giveAt), "contest_window_closed")

			require.Contains(t, re.Message, "2026-11-30T15:00:00Z")
			require.Equal(t, twin, c)
		})
	}
}

func TestContestValidation(t *testing.T) {
	t.Parallel()
	tooMany := make([]claim.Evidence, claim.MaxEvidence+1)
	for i := range tooMany {
		tooMany[i] = claim.Evidence{Kind: "photo", URL: fmt.Sprintf("https://cdn.test/%d.jpg", i)}
	}
	good := claim.Evidence{Kind: "photo", URL: "https://cdn.test/a.jpg"}
	tests := []struct {
		name          string
		giveStatement string
		giveEvidence  []claim.Evidence
		wantField     string
		wantCode      string
	}{
		{name: "no statement", giveStatement: "", wantField: "statement", wantCode: "required"},
		{name: "statement too long", giveStatement: strings.Repeat("a", claim.MaxStatement+1), wantField: "statement", wantCode: "too_long"},
		{name: "statement with NUL", giveStatement: "a\x00", wantField: "statement", wantCode: "invalid_text"},
		{name: "too much evidence", giveStatement: "ok", giveEvidence: tooMany, wantField: "evidence", wantCode: "too_many_evidence"},
		{name: "unknown kind", giveStatement: "ok", giveEvidence: []claim.Evidence{good, {Kind: "smell", URL: "https://cdn.test/b"}},
			wantField: "evidence[1].kind", wantCode: "unknown_evidence_kind"},
		{name: "no url", giveStatement: "ok", giveEvidence: []claim.Evidence{{Kind: "link"}}, wantField: "evidence[0].url", wantCode: "required"},
		{name: "not http", giveStatement: "ok", giveEvidence: []claim.Evidence{{Kind: "link", URL: "javascript:alert(1)"}},
			wantField: "evidence[0].url", wantCode: "invalid_url"},
		{name: "url too long", giveStatement: "ok", giveEvidence: []claim.Evidence{{Kind: "link", URL: "https://cdn.test/" + strings.Repeat("a", claim.MaxURL)}},
			wantField: "evidence[0].url", wantCode: "too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, twin := chargedWith(t, claim.ChargebackOpen), chargedWith(t, claim.ChargebackOpen)

			err := c.Contest(sellerActor, tt.giveStatement, tt.giveEvidence, actAt)

			var ve *validation.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tt.wantField, ve.Field)
			require.Equal(t, tt.wantCode, ve.Code)
			require.Equal(t, twin, c)
		})
	}
}

func TestContestLimits(t *testing.T) {
	t.Parallel()
	most := make([]claim.Evidence, claim.MaxEvidence)
	for i := range most {
		most[i] = claim.Evidence{Kind: "video", URL: fmt.Sprintf("https://cdn.test/%d.mp4", i)}
	}
	c := chargedWith(t, claim.ChargebackOpen)

	require.NoError(t, c.Contest(sellerActor, strings.Repeat("a", claim.MaxStatement), most, actAt))

	require.Len(t, c.Chargeback().Contest.Evidence, claim.MaxEvidence)
}

func TestResolveContest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		giveUphold bool
		want       claim.ChargebackStatus
	}{
		{name: "upheld", giveUphold: true, want: claim.ChargebackUpheld},
		{name: "reversed", giveUphold: false, want: claim.ChargebackReversed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := chargedWith(t, claim.ChargebackContested)
			// Settled after the window closed: a contest made in time is
			// settled whenever an agent gets to it.
			at := contestBy.Add(48 * time.Hour)

			require.NoError(t, c.ResolveContest(agent, tt.giveUphold, "checked with the brand", at))

			require.Equal(t, claim.Chargeback{
				Status: tt.want, ChargedAt: chargedAt, ContestBy: contestBy,
				Contest:    &claim.Contest{Statement: "It was genuine.", Evidence: contestEvidence, At: contestedAt},
				ResolvedBy: agent, ResolvedAt: at, Note: "checked with the brand",
			}, c.Chargeback())
		})
	}
}

func TestResolveContestRefusedSaysWhy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give        claim.ChargebackStatus
		wantMessage string
	}{
		{give: claim.ChargebackNone, wantMessage: "(chargeback: none)"},
		{give: claim.ChargebackOpen, wantMessage: "(chargeback: open)"},
		{give: claim.ChargebackUpheld, wantMessage: "(chargeback: upheld)"},
	}
	for _, tt := range tests {
		t.Run(cbName(tt.give), func(t *testing.T) {
			t.Parallel()
			re := requireRefused(t, chargedWith(t, tt.give).ResolveContest(agent, true, "x", actAt), "no_open_contest")
			require.Contains(t, re.Message, tt.wantMessage)
		})
	}
}

func TestWaiveChargeback(t *testing.T) {
	t.Parallel()
	c := chargedWith(t, claim.ChargebackContested)

	require.NoError(t, c.WaiveChargeback(agent, "goodwill", actAt))

	require.Equal(t, claim.Chargeback{
		Status: claim.ChargebackWaived, ChargedAt: chargedAt, ContestBy: contestBy,
		Contest:    &claim.Contest{Statement: "It was genuine.", Evidence: contestEvidence, At: contestedAt},
		ResolvedBy: agent, ResolvedAt: actAt, Note: "goodwill",
	}, c.Chargeback(), "the contest stays on record")
	require.False(t, c.Chargeback().Status.Charged())
	require.True(t, c.Chargeback().Status.Released())
}

func TestFinalizeChargeback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		giveAt time.Time
	}{
		{name: "at the end of the window", giveAt: contestBy},
		{name: "a day later", giveAt: contestBy.Add(24 * time.Hour)},
		{name: "clock outside UTC", giveAt: contestBy.In(time.FixedZone("CET", 3600))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := chargedWith(t, claim.ChargebackOpen)
			version := c.Version()

			require.True(t, c.FinalizeChargeback(tt.giveAt))

			require.Equal(t, claim.ChargebackFinal, c.Chargeback().Status)
			require.True(t, c.Chargeback().Status.Charged())
			require.Equal(t, claim.StatusClosed, c.Status())
			require.Equal(t, version+1, c.Version())
			requireOneEvent(t, c, claim.Event{
				Type: "chargeback_final", From: claim.StatusClosed, To: claim.StatusClosed, Actor: claim.SystemActor,
				Note: "The seller did not contest within the window.",
				Data: map[string]any{"contest_by": "2026-11-30T15:00:00Z"}, At: tt.giveAt,
			})

			require.False(t, c.FinalizeChargeback(tt.giveAt.Add(time.Hour)), "once")
			require.Equal(t, version+1, c.Version())
			require.Empty(t, c.PopEvents())
		})
	}
}

func TestFinalizeChargebackRefused(t *testing.T) {
	t.Parallel()
	type test struct {
		name   string
		give   claim.ChargebackStatus
		giveAt time.Time
	}
	tests := []test{
		{name: "open, a nanosecond early", give: claim.ChargebackOpen, giveAt: contestBy.Add(-time.Nanosecond)},
		{name: "open, right after the charge", give: claim.ChargebackOpen, giveAt: chargedAt},
	}
	for _, s := range chargebackStatuses {
		if s != claim.ChargebackOpen {
			tests = append(tests, test{name: cbName(s) + ", after the window", give: s, giveAt: contestBy.Add(time.Hour)})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, twin := chargedWith(t, tt.give), chargedWith(t, tt.give)

			require.False(t, c.FinalizeChargeback(tt.giveAt))

			require.Equal(t, twin, c)
		})
	}
}

// TestFailRefundVoidsChargeback: a refund that bounces after the seller
// was charged voids the charge, whatever became of it; a claim never
// charged stays uncharged.
func TestFailRefundVoidsChargeback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give claim.ChargebackStatus
		want claim.ChargebackStatus
	}{
		{give: claim.ChargebackNone, want: claim.ChargebackNone},
		{give: claim.ChargebackOpen, want: claim.ChargebackVoided},
		{give: claim.ChargebackContested, want: claim.ChargebackVoided},
		{give: claim.ChargebackUpheld, want: claim.ChargebackVoided},
		{give: claim.ChargebackFinal, want: claim.ChargebackVoided},
		{give: claim.ChargebackReversed, want: claim.ChargebackVoided},
		{give: claim.ChargebackWaived, want: claim.ChargebackVoided},
	}
	for _, tt := range tests {
		t.Run(cbName(tt.give), func(t *testing.T) {
			t.Parallel()
			c := chargedWith(t, tt.give)
			at := contestBy.Add(time.Hour)
			version := c.Version()

			require.NoError(t, c.FailRefund(claim.Failure{Code: "refund_bounced", Reason: "The bank returned it."}, at.Add(24*time.Hour), at))

			require.Equal(t, claim.StatusRefundFailed, c.Status())
			require.Equal(t, tt.want, c.Chargeback().Status)
			require.False(t, c.Chargeback().Status.Charged())
			require.Equal(t, version+1, c.Version())
			require.Len(t, c.PopEvents(), 1)
		})
	}
}

func TestChargebackStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give         claim.ChargebackStatus
		wantSlug     string
		wantCharged  bool
		wantReleased bool
	}{
		{give: claim.ChargebackNone, wantSlug: ""},
		{give: claim.ChargebackOpen, wantSlug: "open", wantCharged: true},
		{give: claim.ChargebackContested, wantSlug: "contested", wantCharged: true},
		{give: claim.ChargebackUpheld, wantSlug: "upheld", wantCharged: true},
		{give: claim.ChargebackFinal, wantSlug: "final", wantCharged: true},
		{give: claim.ChargebackReversed, wantSlug: "reversed", wantReleased: true},
		{give: claim.ChargebackWaived, wantSlug: "waived", wantReleased: true},
		{give: claim.ChargebackVoided, wantSlug: "voided"},
	}
	for _, tt := range tests {
		t.Run(cbName(tt.give), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.wantSlug, tt.give.String())
			require.Equal(t, tt.wantCharged, tt.give.Charged())
			require.Equal(t, tt.wantReleased, tt.give.Released())
			got, err := claim.ParseChargebackStatus(tt.wantSlug)
			require.NoError(t, err)
			require.Equal(t, tt.give, got)
		})
	}
}

func TestParseChargebackStatusRefuses(t *testing.T) {
	t.Parallel()
	for _, give := range []string{"none", "Open", "settled", " open"} {
		t.Run(give, func(t *testing.T) {
			t.Parallel()
			_, err := claim.ParseChargebackStatus(give)
			require.Error(t, err)
		})
	}
}
