package standing_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/standing"
)

// count draws a count: mostly small, sometimes large, negative or extreme.
func randCount(r *rand.Rand) int64 {
	switch r.IntN(10) {
	case 0:
		return []int64{math.MaxInt64, math.MinInt64, -1, math.MaxInt64 - 1, 1 << 53, math.MaxInt32}[r.IntN(6)]
	case 1:
		return r.Int64N(1_000_000)
	case 2:
		return r.Int64N(2000)
	default:
		return r.Int64N(40)
	}
}

func randCounts(r *rand.Rand) standing.Counts {
	c := standing.Counts{Orders: randCount(r)}
	if r.IntN(3) > 0 { // mostly a plausible record: problems rarer than orders
		c.Orders = r.Int64N(500)
	}
	for _, f := range []*int64{&c.Claims, &c.Counterfeit, &c.ConfirmedCounterfeits, &c.ContestsWon, &c.ContestsLost, &c.Released} {
		if r.IntN(2) == 0 {
			*f = randCount(r) % 12
		} else {
			*f = randCount(r)
		}
	}
	return c
}

func randInputs(r *rand.Rand) standing.Inputs {
	in := standing.Inputs{Recent: randCounts(r), Year: randCounts(r), Verified: r.IntN(2) == 0}
	switch r.IntN(8) {
	case 0:
		in.PlatformRiskScore = []int{math.MinInt, math.MaxInt, -1, 101}[r.IntN(4)]
	default:
		in.PlatformRiskScore = r.IntN(101)
	}
	return in
}

// field is one input and whether more of it is good for the seller.
type field struct {
	name string
	good bool
	get  func(*standing.Inputs) *int64
}

func countFields() []field {
	var out []field
	for _, w := range []struct {
		name string
		get  func(*standing.Inputs) *standing.Counts
	}{
		{"Recent", func(in *standing.Inputs) *standing.Counts { return &in.Recent }},
		{"Year", func(in *standing.Inputs) *standing.Counts { return &in.Year }},
	} {
		for _, f := range []struct {
			name string
			good bool
			get  func(*standing.Counts) *int64
		}{
			{"Orders", true, func(c *standing.Counts) *int64 { return &c.Orders }},
			{"Claims", false, func(c *standing.Counts) *int64 { return &c.Claims }},
			{"Counterfeit", false, func(c *standing.Counts) *int64 { return &c.Counterfeit }},
			{"ConfirmedCounterfeits", false, func(c *standing.Counts) *int64 { return &c.ConfirmedCounterfeits }},
			{"ContestsLost", false, func(c *standing.Counts) *int64 { return &c.ContestsLost }},
			{"ContestsWon", true, func(c *standing.Counts) *int64 { return &c.ContestsWon }},
			{"Released", true, func(c *standing.Counts) *int64 { return &c.Released }},
		} {
			out = append(out, field{
				name: w.name + "." + f.name, good: f.good,
				get: func(in *standing.Inputs) *int64 { return f.get(w.get(in)) },
			})
		}
	}
	return out
}

func rank(l standing.Level) int { return slices.Index(standing.Levels, l) }

// TestMonotone: more of a good input never makes a standing worse, more of
// a bad one never makes it better, in level or in score.
func TestMonotone(t *testing.T) {
	t.Parallel()
	fields := countFields()
	for _, f := range fields {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(20261201, uint64(len(f.name))*7919+uint64(f.name[0])))
			for range 1500 {
				in := randInputs(r)
				more := in
				p := f.get(&more)
				step := []int64{1, 1, 2, 5, r.Int64N(100) + 1, r.Int64N(1 << 40)}[r.IntN(6)]
				if *p > math.MaxInt64-step {
					continue
				}
				*p += step
				before, after := standing.Compute(in, now), standing.Compute(more, now)
				// Checked by hand and reported once: require's bookkeeping
				// would cost more than Compute over thousands of cases.
				better := rank(after.Level) < rank(before.Level) || after.Score > before.Score
				worse := rank(after.Level) > rank(before.Level) || after.Score < before.Score
				if f.good && worse || !f.good && better {
					t.Fatalf("%+v: %s %d\n→ %+v: %s %d", in, before.Level, before.Score, more, after.Level, after.Score)
				}
			}
		})
	}
	t.Run("PlatformRiskScore", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(20261201, 1))
		for range 3000 {
			in := randInputs(r)
			in.PlatformRiskScore = r.IntN(101)
			more := in
			more.PlatformRiskScore += r.IntN(101-in.PlatformRiskScore) + 1
			before, after := standing.Compute(in, now), standing.Compute(more, now)
			if rank(after.Level) < rank(before.Level) || after.Score > before.Score {
				t.Fatalf("%+v: %s %d\n→ %+v: %s %d", in, before.Level, before.Score, more, after.Level, after.Score)
			}
		}
	})
	t.Run("Verified", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(20261201, 2))
		for range 1000 {
			in := randInputs(r)
			other := in
			other.Verified = !in.Verified
			require.Equal(t, standing.Compute(in, now), standing.Compute(other, now))
		}
	})
}

// TestWellFormed: whatever the input, Compute does not panic and returns
// a level, a score in the level's band, bounds in order, and sentences
// that read.
func TestWellFormed(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(20261201, 3))
	for range 3000 {
		checkWellFormed(t, randInputs(r))
	}
}

func checkWellFormed(t *testing.T, in standing.Inputs) {
	t.Helper()
	got := standing.Compute(in, now)
	// Checked by hand and reported once: require's bookkeeping would cost
	// more than Compute over thousands of cases.
	if problem := wellFormed(got); problem != "" {
		t.Fatalf("%+v: %s\n%+v", in, problem, got)
	}
}

var bands = map[standing.Level][2]int{
	standing.LevelCreditable: {standing.CreditableMinScore, 100},
	standing.LevelStandard:   {standing.StandardMinScore, standing.CreditableMinScore - 1},
	standing.LevelWatch:      {standing.WatchMinScore, standing.StandardMinScore - 1},
	standing.LevelHighRisk:   {0, standing.WatchMinScore - 1},
}

func wellFormed(got standing.Standing) string {
	band, ok := bands[got.Level]
	switch {
	case !ok:
		return "unknown level"
	case got.Score < band[0] || got.Score > band[1]:
		return "score outside its level's band"
	case got.Level != standing.LevelCreditable && len(got.Next) == 0:
		return "no next step"
	case !got.ComputedAt.Equal(now):
		return "computed at another time"
	}
	sentences := slices.Clone(got.Next)
	for _, c := range got.Components {
		if c.Low < 0 || c.Low > c.High || c.High > 1000 || c.Count < 0 || c.Of < 0 {
			return "component out of range: " + c.Name
		}
		sentences = append(sentences, c.Sentence)
	}
	for _, s := range sentences {
		if !strings.HasSuffix(s, ".") {
			return "sentence without a full stop: " + s
		}
		for _, bad := range []string{"NaN", "%!", "Inf", "-1", "  "} {
			if strings.Contains(s, bad) {
				return "sentence holds " + bad + ": " + s
			}
		}
	}
	return ""
}

func TestExtremes(t *testing.T) {
	t.Parallel()
	values := []int64{math.MinInt64, -1, 0, 1, 2, 3, 1 << 53, math.MaxInt64 - 1, math.MaxInt64}
	r := rand.New(rand.NewPCG(20261201, 4))
	for range 2000 {
		pick := func() int64 { return values[r.IntN(len(values))] }
		c := func() standing.Counts {
			return standing.Counts{
				Orders: pick(), Claims: pick(), Counterfeit: pick(), ConfirmedCounterfeits: pick(),
				ContestsWon: pick(), ContestsLost: pick(), Released: pick(),
			}
		}
		checkWellFormed(t, standing.Inputs{
			Recent: c(), Year: c(),
			PlatformRiskScore: []int{math.MinInt, -1, 0, 50, 70, 90, 100, math.MaxInt}[r.IntN(8)],
		})
	}
}
