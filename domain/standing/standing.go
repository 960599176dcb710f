package standing

import (
	"math"
	"time"
)

// The thresholds of the levels. Rates are in per-mille of orders and read
// through their Wilson bounds at Z: credit needs the upper bound below its
// threshold (confidence the rate is low), a rate penalty needs the lower
// bound at or above its threshold (confidence it is high) and at least
// MinPatternClaims claims behind it. Counts of hard evidence need no
// bound. docs/standing.md carries the same table.
const (
	// CreditableMaxClaimRate: creditable needs the upper bound of the
	// 365-day claim rate below 10 %: 25 orders without a claim do it.
	CreditableMaxClaimRate = 100
	// WatchClaimRate: a lower bound of the claim rate (either window) at
	// 20 % or more is watch.
	WatchClaimRate = 200
	// WatchCounterfeitRate and HighRiskCounterfeitRate: a lower bound of
	// the counterfeit-claim rate (either window) at 5 % or more is watch,
	// at 15 % or more high_risk.
	WatchCounterfeitRate    = 50
	HighRiskCounterfeitRate = 150
	// MinPatternClaims: a rate penalises only with at least three claims
	// behind it; one or two are bad luck, not a pattern, however few the
	// orders.
	MinPatternClaims = 3

	// Confirmed counterfeits: one in 90 days (or two in 365) is watch, two
	// in 90 days (or four in 365) high_risk. Any in 365 days rules out
	// creditable.
	WatchConfirmedRecent    = 1
	WatchConfirmedYear      = 2
	HighRiskConfirmedRecent = 2
	HighRiskConfirmedYear   = 4

	// Contests lost (charges the seller contested and an agent upheld):
	// three in 90 days (or six in 365) is watch, six in 90 days (or twelve
	// in 365) high_risk. Any in 90 days rules out creditable.
	WatchContestsLostRecent    = 3
	WatchContestsLostYear      = 6
	HighRiskContestsLostRecent = 6
	HighRiskContestsLostYear   = 12

	// The platform's risk score: 70 or more is at least watch (never
	// creditable), 90 or more high_risk, whatever the engine has seen.
	WatchPlatformRisk    = 70
	HighRiskPlatformRisk = 90
	// QuietPlatformRisk: a platform risk score at or below it does not
	// touch the score; above it, it lowers the prior.
	QuietPlatformRisk = 30
	// PlatformPriorOrders is what the platform's score weighs, in orders:
	// with n orders seen in 365 days its effect on the score is scaled by
	// PlatformPriorOrders/(n+PlatformPriorOrders).
	PlatformPriorOrders = 50

	// The score bands: a level's score always lies in its band, so the
	// score orders sellers within a level and never contradicts it.
	CreditableMinScore = 70
	StandardMinScore   = 40
	WatchMinScore      = 20
	// NoHistoryScore is the score of a seller the engine knows nothing of.
	NoHistoryScore = 50
)

// window is one Counts made consistent, with what the rules read of it.
type window struct {
	days int
	c    Counts
	// problem: claims held against the seller (not released, not won);
	// counterfeit: counterfeit claims among them (at least the confirmed).
	problem, counterfeit int64
	// excused: claims whose charge came off the seller.
	excused int64
	// Bounds of the claim and counterfeit rates over orders, per-mille;
	// each rate's orders are read as at least its claims, since a window
	// can hold claims on orders paid before it.
	claimN, counterfeitN             int64
	claimLow, claimHigh, cfLow, cfHi int
}

// clean returns c with every count at least zero and each set at least
// as large as the subset it holds: counterfeit claims at least the
// confirmed ones, claims at least the counterfeit ones.
func clean(c Counts) Counts {
	c.Orders = max(0, c.Orders)
	c.Claims = max(0, c.Claims)
	c.Counterfeit = max(0, c.Counterfeit)
	c.ConfirmedCounterfeits = max(0, c.ConfirmedCounterfeits)
	c.ContestsWon = max(0, c.ContestsWon)
	c.ContestsLost = max(0, c.ContestsLost)
	c.Released = max(0, c.Released)
	c.Counterfeit = max(c.Counterfeit, c.ConfirmedCounterfeits)
	c.Claims = max(c.Claims, c.Counterfeit)
	return c
}

// atLeast returns y with every count at least r's: the year holds the
// last 90 days.
func atLeast(y, r Counts) Counts {
	return Counts{
		Orders:                max(y.Orders, r.Orders),
		Claims:                max(y.Claims, r.Claims),
		Counterfeit:           max(y.Counterfeit, r.Counterfeit),
		ConfirmedCounterfeits: max(y.ConfirmedCounterfeits, r.ConfirmedCounterfeits),
		ContestsWon:           max(y.ContestsWon, r.ContestsWon),
		ContestsLost:          max(y.ContestsLost, r.ContestsLost),
		Released:              max(y.Released, r.Released),
	}
}

func newWindow(days int, c Counts) window {
	w := window{days: days, c: c}
	// A contest won is a charge reversed, so a store may count it among
	// Released or apart; the larger of the two is excused either way and
	// nothing is excused twice.
	w.excused = min(c.Claims, max(c.Released, c.ContestsWon))
	// A confirmed counterfeit or an upheld contest is a charge that stayed
	// on the seller: it is held against them whatever else was released.
	w.problem = max(c.Claims-w.excused, c.ConfirmedCounterfeits, c.ContestsLost)
	w.counterfeit = max(c.ConfirmedCounterfeits, min(c.Counterfeit, w.problem))
	w.claimN = max(c.Orders, w.problem)
	w.counterfeitN = max(c.Orders, w.counterfeit)
	w.claimLow, w.claimHigh = Bounds(w.problem, w.claimN)
	w.cfLow, w.cfHi = Bounds(w.counterfeit, w.counterfeitN)
	return w
}

// reason is one rule that set a floor under the level.
type reason struct {
	level Level
	// because completes "Your standing is <level> because …".
	because string
	// lapses completes the sentence: what would lift this reason.
	lapses string
}

// evaluation is everything Compute derived, for the score, the
// components and the sentences.
type evaluation struct {
	recent, year window
	risk         int
	reasons      []reason
	// creditBlockers say why a seller with no reason against them is not
	// creditable; empty when they are.
	creditBlockers []string
	level          Level
}

// Compute returns the seller's standing at now from in. It is pure,
// deterministic and never panics: negative counts read as 0, a year count
// below the 90-day one reads as the 90-day one, and the platform's score
// is clamped to 0–100. See docs/standing.md for the rules.
//
//	s := standing.Compute(standing.Inputs{Year: standing.Counts{Orders: 30}, Recent: standing.Counts{Orders: 30}}, now)
//	// s.Level == standing.LevelCreditable
func Compute(in Inputs, now time.Time) Standing {
	e := evaluate(in)
	components := e.components()
	return Standing{
		Level:      e.level,
		Score:      e.score(components),
		Components: components,
		Next:       e.next(),
		ComputedAt: now,
	}
}

func evaluate(in Inputs) evaluation {
	r := clean(in.Recent)
	y := atLeast(clean(in.Year), r)
	e := evaluation{
		recent: newWindow(RecentDays, r),
		year:   newWindow(YearDays, y),
		risk:   max(0, min(100, in.PlatformRiskScore)),
	}
	e.reasons = e.penalties()
	e.level = LevelStandard
	for _, rs := range e.reasons {
		if worse(rs.level, e.level) {
			e.level = rs.level
		}
	}
	if len(e.reasons) == 0 {
		e.creditBlockers = e.blockers()
		if len(e.creditBlockers) == 0 {
			e.level = LevelCreditable
		}
	}
	return e
}

// rank orders the levels, best first.
func rank(l Level) int {
	switch l {
	case LevelCreditable:
		return 0
	case LevelStandard:
		return 1
	case LevelWatch:
		return 2
	default:
		return 3
	}
}

func worse(a, b Level) bool { return rank(a) > rank(b) }

// score is 50 plus the components' points, clamped to 0–100 and then to
// the level's band.
func (e evaluation) score(components []Component) int {
	s := NoHistoryScore
	for _, c := range components {
		s += c.Points
	}
	s = max(0, min(100, s))
	lo, hi := band(e.level)
	return max(lo, min(hi, s))
}

func band(l Level) (lo, hi int) {
	switch l {
	case LevelCreditable:
		return CreditableMinScore, 100
	case LevelStandard:
		return StandardMinScore, CreditableMinScore - 1
	case LevelWatch:
		return WatchMinScore, StandardMinScore - 1
	default:
		return 0, WatchMinScore - 1
	}
}

// claimBonus: up to +40 as the 365-day claim rate's upper bound falls
// from 25 % to 0; nothing above 25 %.
func claimBonus(high int) int { return 40 * max(0, 250-high) / 250 }

// claimPenalty: down to −40 as a claim rate's lower bound rises from 10 %
// to 40 %.
func claimPenalty(low int) int { return -40 * min(300, max(0, low-100)) / 300 }

// counterfeitPenalty: down to −40 as a counterfeit rate's lower bound
// rises from 2 % to 17 %.
func counterfeitPenalty(low int) int { return -40 * min(150, max(0, low-20)) / 150 }

// evidencePoints: −10 for each confirmed event in the year and another
// −10 for each in the last 90 days (recent ones weigh double), down to
// floor; counts are capped first so nothing overflows.
func evidencePoints(recent, year int64, per, floor int) (recentPts, total int) {
	most := int64(-floor / per)
	r, y := int(min(recent, most)), int(min(year, most))
	total = -min(-floor, per*r+per*y)
	recentPts = -min(-floor, 2*per*r)
	return recentPts, total
}

// platformPoints is what the platform's score does to the score: nothing
// at QuietPlatformRisk or below, down to −50 at 100, fading as the
// engine's own orders grow (weight PlatformPriorOrders/(n+PlatformPriorOrders)).
func platformPoints(risk int, orders int64) int {
	if risk <= QuietPlatformRisk {
		return 0
	}
	prior := int64((risk - QuietPlatformRisk) * 50 / (100 - QuietPlatformRisk))
	n := min(orders, math.MaxInt32) // beyond it the weight is 0 anyway
	return -int(prior * PlatformPriorOrders / (n + PlatformPriorOrders))
}

// penalties returns every rule that sets a floor under the level, worst
// first within each kind.
func (e evaluation) penalties() []reason {
	var out []reason
	add := func(l Level, because, lapses string) {
		out = append(out, reason{level: l, because: because, lapses: lapses})
	}
	r, y := e.recent, e.year

	// Hard evidence first: it weighs hardest.
	switch {
	case r.c.ConfirmedCounterfeits >= HighRiskConfirmedRecent:
		add(LevelHighRisk, confirmedBecause(r), confirmedLapses(RecentDays, HighRiskConfirmedRecent))
	case y.c.ConfirmedCounterfeits >= HighRiskConfirmedYear:
		add(LevelHighRisk, confirmedBecause(y), confirmedLapses(YearDays, HighRiskConfirmedYear))
	}
	if r.c.ConfirmedCounterfeits >= WatchConfirmedRecent && r.c.ConfirmedCounterfeits < HighRiskConfirmedRecent {
		add(LevelWatch, confirmedBecause(r), confirmedLapses(RecentDays, WatchConfirmedRecent))
	}
	if y.c.ConfirmedCounterfeits >= WatchConfirmedYear && y.c.ConfirmedCounterfeits < HighRiskConfirmedYear {
		add(LevelWatch, confirmedBecause(y), confirmedLapses(YearDays, WatchConfirmedYear))
	}

	switch {
	case r.c.ContestsLost >= HighRiskContestsLostRecent:
		add(LevelHighRisk, contestsBecause(r), contestsLapses(RecentDays, HighRiskContestsLostRecent))
	case y.c.ContestsLost >= HighRiskContestsLostYear:
		add(LevelHighRisk, contestsBecause(y), contestsLapses(YearDays, HighRiskContestsLostYear))
	case r.c.ContestsLost >= WatchContestsLostRecent:
		add(LevelWatch, contestsBecause(r), contestsLapses(RecentDays, WatchContestsLostRecent))
	case y.c.ContestsLost >= WatchContestsLostYear:
		add(LevelWatch, contestsBecause(y), contestsLapses(YearDays, WatchContestsLostYear))
	}

	for _, w := range []window{r, y} {
		if w.counterfeit < MinPatternClaims {
			continue
		}
		switch {
		case w.cfLow >= HighRiskCounterfeitRate:
			add(LevelHighRisk, counterfeitRateBecause(w, HighRiskCounterfeitRate), rateLapses(w.counterfeit, w.counterfeitN, HighRiskCounterfeitRate))
		case w.cfLow >= WatchCounterfeitRate:
			add(LevelWatch, counterfeitRateBecause(w, WatchCounterfeitRate), rateLapses(w.counterfeit, w.counterfeitN, WatchCounterfeitRate))
		}
	}
	for _, w := range []window{r, y} {
		if w.problem >= MinPatternClaims && w.claimLow >= WatchClaimRate {
			add(LevelWatch, claimRateBecause(w, WatchClaimRate), rateLapses(w.problem, w.claimN, WatchClaimRate))
		}
	}

	switch {
	case e.risk >= HighRiskPlatformRisk:
		add(LevelHighRisk, platformBecause(e.risk, HighRiskPlatformRisk), platformLapses(HighRiskPlatformRisk))
	case e.risk >= WatchPlatformRisk:
		add(LevelWatch, platformBecause(e.risk, WatchPlatformRisk), platformLapses(WatchPlatformRisk))
	}
	return out
}

// blockers says what keeps a seller with no reason against them from
// creditable.
func (e evaluation) blockers() []string {
	var out []string
	if n := e.year.c.ConfirmedCounterfeits; n > 0 {
		out = append(out, confirmedBlocks(n))
	}
	if n := e.recent.c.ContestsLost; n > 0 {
		out = append(out, contestsBlocks(n))
	}
	if e.year.claimHigh >= CreditableMaxClaimRate {
		out = append(out, claimRateBlocks(e.year, len(out) == 0))
	}
	return out
}

// ordersUntil returns the fewest more orders without a claim that bring
// the bound of k problems in n orders below threshold (the lower bound if
// lower, else the upper), and false when no count of orders an int64 holds
// would.
func ordersUntil(k, n int64, threshold int, lower bool) (int64, bool) {
	below := func(m int64) bool {
		total := n + m
		if total < n { // overflow
			total = math.MaxInt64
		}
		low, high := Bounds(k, total)
		if lower {
			return low < threshold
		}
		return high < threshold
	}
	// lo: a count that does not do it (none more does not, or we would
	// not be asked); hi: one that does.
	lo, hi := int64(0), int64(1)
	for !below(hi) {
		lo = hi
		if hi > math.MaxInt64/2 {
			hi = math.MaxInt64 - n
			if hi <= lo || !below(hi) {
				return 0, false
			}
			break
		}
		hi *= 2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if below(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, true
}
