package pgstore

import (
	"bytes"
	"cmp"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// replayRow is a row of the replay's query as streamCases scans it.
type replayRow struct {
	id, got   string
	facts     []byte
	decidedAt time.Time
}

// replayRows draws n recorded decisions of the built-in policy (see
// drawFacts), their facts as PostgreSQL renders a jsonb column as text.
func replayRows(b *testing.B, n int) []replayRow {
	p := policyfile.Default()
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	out := make([]replayRow, n)
	for i := range out {
		at := start.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Microsecond)
		f := drawFacts(r, at)
		_, facts, err := DecisionJSON(decision.Decision{}, f)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = replayRow{id: "clm_bench_" + strconv.Itoa(i), facts: []byte(jsonbText(b, facts)), decidedAt: at,
			got: decision.Decide(p, f, at).Outcome.String()}
	}
	return out
}

// jsonbText renders a JSON object as PostgreSQL's jsonb output does: keys
// by length, then bytes, with a space after each colon and comma.
func jsonbText(tb testing.TB, doc []byte) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		tb.Fatal(err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int { return cmp.Or(cmp.Compare(len(x), len(y)), cmp.Compare(x, y)) })
	var out bytes.Buffer
	out.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			out.WriteString(", ")
		}
		out.WriteString(`"` + k + `": `)
		out.Write(bytes.ReplaceAll(m[k], []byte(`","`), []byte(`", "`)))
	}
	out.WriteByte('}')
	return out.String()
}

// drawFacts draws what a decision weighs: a mix of reasons, currencies,
// amounts, account ages, shopper, linked-account and seller history.
func drawFacts(r *rand.Rand, at time.Time) decision.Facts {
	currencies := []money.Currency{money.MustCurrency("EUR"), money.MustCurrency("USD"), money.MustCurrency("GBP"), money.MustCurrency("JPY")}
	days := func(n int) time.Duration {
		return time.Duration(n)*24*time.Hour + time.Duration(r.IntN(86400))*time.Second
	}
	c := currencies[r.IntN(len(currencies))]
	amount := int64(math.Exp(math.Log(500) + r.Float64()*math.Log(160)))
	f := decision.Facts{
		ClaimReason: claim.Reasons[r.IntN(len(claim.Reasons))],
		Amount:      money.Of(amount, c), OrderAmount: money.Of(amount+r.Int64N(amount), c),
		ItemsAlreadyClaimed: r.IntN(100) == 0,
		SellerRiskScore:     r.IntN(101), SellerVerified: r.IntN(2) == 0, SellerCounterfeitClaims90d: r.IntN(4),
		ShopperFirstOrderAt: at.Add(-days([]int{10, 200, 900}[r.IntN(3)])).Truncate(time.Second),
		ShopperClaims90d:    []int{0, 0, 0, 1, 2, 3}[r.IntN(6)],
		ShopperRefunded90d:  money.Of(r.Int64N(3)*amount, c),
		SellerStanding:      []standing.Level{"", standing.LevelCreditable, standing.LevelStandard, standing.LevelStandard, standing.LevelWatch, standing.LevelHighRisk}[r.IntN(6)],
		SellerStandingScore: r.IntN(101),
	}
	f.PaidAt = at.Add(-days(3 + r.IntN(40))).Truncate(time.Second)
	if r.IntN(5) > 0 {
		delivered := f.PaidAt.Add(days(2))
		f.DeliveredAt = &delivered
	}
	if r.IntN(20) == 0 {
		f.LinkedShoppers, f.LinkedClaims90d, f.LinkedRefunded90d = 1+r.IntN(3), r.IntN(5), money.Of(amount, c)
		f.LinkedSignals = [][]string{{"device"}, {"device", "shipping_address"}, {}}[r.IntN(3)]
	}
	return f
}

// BenchmarkReplay is a backtest's work per claim in the engine, without
// the database: a row's facts decoded into a case (replayCase), the
// candidate's decision and the report's tally (policyflow.Replayer), over
// 4,096 recorded decisions of the built-in policy. "decode" is the row's
// part alone; "self" replays the policy that decided (nothing changes),
// "stricter" one with a fifth of its instant limits (the changed/claim
// metric says how many change, each becoming a changed claim).
//
//	go test -run '^$' -bench Replay -benchmem ./adapters/pgstore/
func BenchmarkReplay(b *testing.B) {
	rows := replayRows(b, 4096)
	stricter := policyfile.Default()
	for _, t := range stricter.Tiers {
		for c, v := range t.InstantLimits {
			t.InstantLimits[c] = v / 5
		}
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			row := rows[i%len(rows)]
			if _, err := replayCase(row.id, row.facts, row.decidedAt, row.got, "closed", "final", false, false); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	for _, run := range []struct {
		name   string
		policy decision.Policy
	}{{"self", policyfile.Default()}, {"stricter", stricter}} {
		b.Run(run.name, func(b *testing.B) {
			rp, err := policyflow.NewReplayer(run.policy)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				row := rows[i%len(rows)]
				c, err := replayCase(row.id, row.facts, row.decidedAt, row.got, "closed", "final", false, false)
				if err != nil {
					b.Fatal(err)
				}
				rp.Add(c)
				i++
			}
			if run.name == "self" && rp.Report().Changed != 0 {
				b.Fatalf("the policy that decided the claims changed %d of them", rp.Report().Changed)
			}
			b.ReportMetric(float64(rp.Report().Changed)/float64(rp.Report().Replayed), "changed/claim")
		})
	}
}
