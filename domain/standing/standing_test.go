package standing_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/standing"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// both gives the same counts for the last 90 days and the year: a seller
// whose history is all recent.
func both(c standing.Counts) standing.Inputs { return standing.Inputs{Recent: c, Year: c} }

func TestCompute(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		give      standing.Inputs
		wantLevel standing.Level
		wantScore int
		// wantNext is a phrase one of the Next sentences holds.
		wantNext string
	}{
		{
			name: "no history is standard at 50", give: standing.Inputs{},
			wantLevel: standing.LevelStandard, wantScore: 50,
			wantNext: "25 more orders without a claim would make you creditable.",
		},
		{
			name: "no history with a quiet platform score is standard at 50", give: standing.Inputs{PlatformRiskScore: 5},
			wantLevel: standing.LevelStandard, wantScore: 50,
		},
		{
			name: "verified changes nothing", give: standing.Inputs{Verified: true},
			wantLevel: standing.LevelStandard, wantScore: 50,
		},
		{
			name: "30 clean orders are creditable", give: both(standing.Counts{Orders: 30}),
			wantLevel: standing.LevelCreditable, wantScore: 76,
			wantNext: "you are charged only once the charge is confirmed",
		},
		{
			name: "25 clean orders are creditable", give: both(standing.Counts{Orders: 25}),
			wantLevel: standing.LevelCreditable, wantScore: 74,
		},
		{
			name: "24 clean orders are one short", give: both(standing.Counts{Orders: 24}),
			wantLevel: standing.LevelStandard, wantScore: 69,
			wantNext: "1 more order without a claim would make you creditable.",
		},
		{
			name: "2 claims in 5 orders are not read as 40 %", give: both(standing.Counts{Orders: 5, Claims: 2}),
			wantLevel: standing.LevelStandard, wantScore: 45,
			wantNext: "more orders without a claim would make you creditable.",
		},
		{
			name: "a claim on a first order is bad luck", give: both(standing.Counts{Orders: 1, Claims: 1}),
			wantLevel: standing.LevelStandard, wantScore: 40,
		},
		{
			name: "200 orders and 3 claims are creditable", give: both(standing.Counts{Orders: 200, Claims: 3}),
			wantLevel: standing.LevelCreditable, wantScore: 84,
		},
		{
			name: "released charges are not held against the seller", give: both(standing.Counts{Orders: 30, Claims: 10, Released: 10}),
			wantLevel: standing.LevelCreditable, wantScore: 76,
		},
		{
			name: "contests won are not held against the seller", give: both(standing.Counts{Orders: 30, Claims: 10, ContestsWon: 10}),
			wantLevel: standing.LevelCreditable, wantScore: 76,
		},
		{
			name: "a confident high claim rate is watch", give: both(standing.Counts{Orders: 40, Claims: 16}),
			wantLevel: standing.LevelWatch, wantScore: 26,
			wantNext: "Your standing is watch because 16 of your 40 orders in the last 90 days drew a claim held against you",
		},
		{
			name: "one confirmed counterfeit is watch", give: both(standing.Counts{Orders: 300, Claims: 1, Counterfeit: 1, ConfirmedCounterfeits: 1}),
			wantLevel: standing.LevelWatch, wantScore: 39,
			wantNext: "Your standing is watch because 1 counterfeit claim against you was confirmed in the last 90 days; this lifts once no confirmed counterfeit is within the last 90 days.",
		},
		{
			name:      "one confirmed counterfeit older than 90 days rules out creditable",
			give:      standing.Inputs{Recent: standing.Counts{Orders: 100}, Year: standing.Counts{Orders: 300, Claims: 1, Counterfeit: 1, ConfirmedCounterfeits: 1}},
			wantLevel: standing.LevelStandard, wantScore: 69,
			wantNext: "1 counterfeit claim against you was confirmed in the last 365 days; creditable needs a year without one",
		},
		{
			name: "confirmed counterfeits are high_risk whatever the platform says", give: standing.Inputs{
				Recent:            standing.Counts{Orders: 40, Claims: 2, Counterfeit: 2, ConfirmedCounterfeits: 2},
				Year:              standing.Counts{Orders: 40, Claims: 2, Counterfeit: 2, ConfirmedCounterfeits: 2},
				PlatformRiskScore: 5,
			},
			wantLevel: standing.LevelHighRisk, wantScore: 19,
			wantNext: "Your standing is high_risk because 2 counterfeit claims against you were confirmed in the last 90 days",
		},
		{
			name: "a counterfeit pattern is high_risk", give: both(standing.Counts{Orders: 12, Claims: 5, Counterfeit: 5}),
			wantLevel: standing.LevelHighRisk, wantScore: 0,
			wantNext: "more orders without a claim would lift this",
		},
		{
			name: "three upheld contests are watch", give: both(standing.Counts{Orders: 200, Claims: 3, ContestsLost: 3}),
			wantLevel: standing.LevelWatch, wantScore: 39,
			wantNext: "3 charges you contested were upheld in the last 90 days",
		},
		{
			name: "a high platform score is watch for a clean seller", give: standing.Inputs{Recent: standing.Counts{Orders: 500}, Year: standing.Counts{Orders: 500}, PlatformRiskScore: 75},
			wantLevel: standing.LevelWatch, wantScore: 39,
			wantNext: "ask the platform to review it",
		},
		{
			name: "a very high platform score is high_risk", give: standing.Inputs{PlatformRiskScore: 95},
			wantLevel: standing.LevelHighRisk, wantScore: 4,
		},
		{
			name: "a middling platform score lowers a newcomer's score only", give: standing.Inputs{PlatformRiskScore: 60},
			wantLevel: standing.LevelStandard, wantScore: 40,
		},
		{
			name: "negative counts read as none", give: both(standing.Counts{Orders: -5, Claims: -1, ConfirmedCounterfeits: -3}),
			wantLevel: standing.LevelStandard, wantScore: 50,
		},
		{
			name:      "a year below the last 90 days reads as them",
			give:      standing.Inputs{Recent: standing.Counts{Orders: 30}},
			wantLevel: standing.LevelCreditable, wantScore: 76,
		},
		{
			name: "the largest clean record is creditable", give: both(standing.Counts{Orders: math.MaxInt64}),
			wantLevel: standing.LevelCreditable, wantScore: 89,
		},
		{
			name: "every order a claim at the largest count", give: both(standing.Counts{Orders: math.MaxInt64, Claims: math.MaxInt64}),
			wantLevel: standing.LevelWatch, wantScore: 20,
			wantNext: "this lifts as those claims leave the window",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := standing.Compute(tt.give, now)
			require.Equal(t, tt.wantLevel, got.Level, "next: %q", got.Next)
			require.Equal(t, tt.wantScore, got.Score, "components: %+v", got.Components)
			require.Equal(t, now, got.ComputedAt)
			require.NotEmpty(t, got.Next)
			if tt.wantNext != "" {
				require.Contains(t, strings.Join(got.Next, "\n"), tt.wantNext)
			}
		})
	}
}

func TestComputeComponents(t *testing.T) {
	t.Parallel()
	got := standing.Compute(both(standing.Counts{Orders: 5, Claims: 2}), now)
	var names []string
	for _, c := range got.Components {
		names = append(names, c.Name)
	}
	require.Equal(t, []string{
		"claim_rate", "claim_rate", "counterfeit_rate", "counterfeit_rate",
		"confirmed_counterfeits", "confirmed_counterfeits", "contests", "contests",
		"released", "platform_risk",
	}, names)
	claimRate := got.Components[1]
	require.Equal(t, standing.Component{
		Name: "claim_rate", WindowDays: 365, Count: 2, Of: 5, Low: 142, High: 728, Points: -5,
		Sentence: "2 of your 5 orders in the last 365 days drew a claim held against you; from that many orders the claim rate is between 14.2% and 72.8%.",
	}, claimRate)
}

func TestComputeDeterministic(t *testing.T) {
	t.Parallel()
	give := both(standing.Counts{Orders: 77, Claims: 9, Counterfeit: 3, ConfirmedCounterfeits: 1, ContestsLost: 1, ContestsWon: 2, Released: 2})
	give.PlatformRiskScore = 45
	require.Equal(t, standing.Compute(give, now), standing.Compute(give, now))
}
