package standing

import (
	"fmt"
	"math"
)

// components lists what the score is made of, in a stable order: each
// rate and count for the last 90 days, then for the last 365, then the
// released charges and the platform's score. Their points add up to the
// score less NoHistoryScore before the level's band clamps it.
func (e evaluation) components() []Component {
	r, y := e.recent, e.year
	claimR, claimY := claimPenalty(r.claimLow), claimPenalty(y.claimLow)
	cfR, cfY := counterfeitPenalty(r.cfLow), counterfeitPenalty(y.cfLow)
	confRecent, confTotal := evidencePoints(r.c.ConfirmedCounterfeits, y.c.ConfirmedCounterfeits, 10, -60)
	lostRecent, lostTotal := evidencePoints(r.c.ContestsLost, y.c.ContestsLost, 4, -40)
	return []Component{
		claimRate(r, min(0, claimR-claimY)),
		claimRate(y, claimBonus(y.claimHigh)+claimY),
		counterfeitRate(r, min(0, cfR-cfY)),
		counterfeitRate(y, cfY),
		confirmed(r, confRecent),
		confirmed(y, confTotal-confRecent),
		contests(r, lostRecent),
		contests(y, lostTotal-lostRecent),
		released(y),
		{
			Name: "platform_risk", Count: int64(e.risk), Of: 100,
			Points:   platformPoints(e.risk, y.c.Orders),
			Sentence: platformSentence(e.risk, y.c.Orders),
		},
	}
}

func claimRate(w window, points int) Component {
	s := fmt.Sprintf("No orders in the last %d days: nothing yet to read a claim rate from.", w.days)
	if w.claimN > 0 {
		s = fmt.Sprintf("%s of your %s in the last %d days drew a claim held against you; from that many orders the claim rate is between %s and %s.",
			num(w.problem), count(w.claimN, "order", "orders"), w.days, pct(w.claimLow), pct(w.claimHigh))
	}
	return Component{
		Name: "claim_rate", WindowDays: w.days, Count: w.problem, Of: w.claimN,
		Low: w.claimLow, High: w.claimHigh, Points: points, Sentence: s,
	}
}

func counterfeitRate(w window, points int) Component {
	s := fmt.Sprintf("No orders in the last %d days: nothing yet to read a counterfeit rate from.", w.days)
	if w.counterfeitN > 0 {
		s = fmt.Sprintf("%s of your %s in the last %d days drew a counterfeit claim held against you; from that many orders the counterfeit rate is between %s and %s.",
			num(w.counterfeit), count(w.counterfeitN, "order", "orders"), w.days, pct(w.cfLow), pct(w.cfHi))
	}
	return Component{
		Name: "counterfeit_rate", WindowDays: w.days, Count: w.counterfeit, Of: w.counterfeitN,
		Low: w.cfLow, High: w.cfHi, Points: points, Sentence: s,
	}
}

func confirmed(w window, points int) Component {
	n := w.c.ConfirmedCounterfeits
	s := fmt.Sprintf("No counterfeit claim against you was confirmed in the last %d days.", w.days)
	if n > 0 {
		s = fmt.Sprintf("%s against you %s confirmed in the last %d days.", count(n, "counterfeit claim", "counterfeit claims"), wasWere(n), w.days)
	}
	return Component{Name: "confirmed_counterfeits", WindowDays: w.days, Count: n, Points: points, Sentence: s}
}

func contests(w window, points int) Component {
	lost, won := w.c.ContestsLost, w.c.ContestsWon
	of := satAdd(lost, won)
	s := fmt.Sprintf("You contested no charge that was decided in the last %d days.", w.days)
	if of > 0 {
		s = fmt.Sprintf("Of the charges you contested in the last %d days, %s reversed in your favour and %s upheld.",
			w.days, num(won), num(lost))
	}
	return Component{Name: "contests", WindowDays: w.days, Count: lost, Of: of, Points: points, Sentence: s}
}

func released(w window) Component {
	s := fmt.Sprintf("No charge was taken off you in the last %d days.", w.days)
	if w.excused > 0 {
		s = fmt.Sprintf("%s of your %s in the last %d days had the charge reversed or waived; they are not held against you.",
			num(w.excused), count(w.c.Claims, "claim", "claims"), w.days)
	}
	return Component{Name: "released", WindowDays: w.days, Count: w.excused, Of: w.c.Claims, Sentence: s}
}

func platformSentence(risk int, orders int64) string {
	if risk <= QuietPlatformRisk {
		return fmt.Sprintf("The platform rates your risk %d of 100; at %d or below it does not touch your score.", risk, QuietPlatformRisk)
	}
	return fmt.Sprintf("The platform rates your risk %d of 100; it lowers your score by %d points now, less as you fill more orders.",
		risk, -platformPoints(risk, orders))
}

// next says what would move the standing: for a penalised seller each
// reason and what lifts it, for a standard one what stands between them
// and creditable, for a creditable one what keeps them there.
func (e evaluation) next() []string {
	switch e.level {
	case LevelCreditable:
		return []string{
			"You are creditable: a claim against you is refunded to the shopper, but you are charged only once the charge is confirmed.",
			fmt.Sprintf("You stay creditable while your claim rate over %d days stays below %s with confidence and no counterfeit claim against you is confirmed.",
				YearDays, pct(CreditableMaxClaimRate)),
		}
	case LevelStandard:
		if len(e.creditBlockers) == 0 { // cannot happen: kept so Next is never empty
			return []string{"Orders without a claim would make you creditable."}
		}
		return e.creditBlockers
	}
	var out []string
	for _, rs := range e.reasons {
		if rs.level == e.level {
			out = append(out, fmt.Sprintf("Your standing is %s because %s; %s.", rs.level, rs.because, rs.lapses))
		}
	}
	for _, rs := range e.reasons {
		if rs.level != e.level {
			out = append(out, fmt.Sprintf("Besides, your standing would be at least %s because %s; %s.", rs.level, rs.because, rs.lapses))
		}
	}
	return out
}

func confirmedBecause(w window) string {
	n := w.c.ConfirmedCounterfeits
	return fmt.Sprintf("%s against you %s confirmed in the last %d days", count(n, "counterfeit claim", "counterfeit claims"), wasWere(n), w.days)
}

func confirmedLapses(days int, threshold int64) string {
	if threshold == 1 {
		return fmt.Sprintf("this lifts once no confirmed counterfeit is within the last %d days", days)
	}
	return fmt.Sprintf("this lifts once fewer than %d confirmed counterfeits are within the last %d days", threshold, days)
}

func contestsBecause(w window) string {
	n := w.c.ContestsLost
	return fmt.Sprintf("%s you contested %s upheld in the last %d days", count(n, "charge", "charges"), wasWere(n), w.days)
}

func contestsLapses(days int, threshold int64) string {
	return fmt.Sprintf("this lifts once fewer than %d upheld contests are within the last %d days; contest a charge only when you can show the claim is wrong", threshold, days)
}

func counterfeitRateBecause(w window, threshold int) string {
	return fmt.Sprintf("%s of your %s in the last %d days drew a counterfeit claim held against you, a rate of at least %s with confidence (the line is %s)",
		num(w.counterfeit), count(w.counterfeitN, "order", "orders"), w.days, pct(w.cfLow), pct(threshold))
}

func claimRateBecause(w window, threshold int) string {
	return fmt.Sprintf("%s of your %s in the last %d days drew a claim held against you, a rate of at least %s with confidence (the line is %s)",
		num(w.problem), count(w.claimN, "order", "orders"), w.days, pct(w.claimLow), pct(threshold))
}

func rateLapses(k, n int64, threshold int) string {
	if m, ok := ordersUntil(k, n, threshold, true); ok {
		return fmt.Sprintf("%s without a claim would lift this, as would charges reversed on review", count(m, "more order", "more orders"))
	}
	return "this lifts as those claims leave the window or their charges are reversed on review"
}

func platformBecause(risk, threshold int) string {
	return fmt.Sprintf("the platform rates your risk %d of 100 (%d or more)", risk, threshold)
}

func platformLapses(threshold int) string {
	return fmt.Sprintf("this lifts only when the platform's score falls below %d, whatever your claims record; ask the platform to review it", threshold)
}

func confirmedBlocks(n int64) string {
	return fmt.Sprintf("%s against you %s confirmed in the last %d days; creditable needs a year without one, so it comes within reach once %s more than %d days old.",
		count(n, "counterfeit claim", "counterfeit claims"), wasWere(n), YearDays, itThey(n), YearDays)
}

func contestsBlocks(n int64) string {
	return fmt.Sprintf("%s you contested %s upheld in the last %d days; creditable needs %d days without one.",
		count(n, "charge", "charges"), wasWere(n), RecentDays, RecentDays)
}

func claimRateBlocks(w window, only bool) string {
	m, ok := ordersUntil(w.problem, w.claimN, CreditableMaxClaimRate, false)
	switch {
	case !ok:
		return fmt.Sprintf("Your claim rate over the last %d days is too high for creditable, which needs it below %s with confidence.", w.days, pct(CreditableMaxClaimRate))
	case only:
		return fmt.Sprintf("%s without a claim would make you creditable.", capital(count(m, "more order", "more orders")))
	default:
		return fmt.Sprintf("%s without a claim would bring your claim rate low enough for creditable.", capital(count(m, "more order", "more orders")))
	}
}

// pct writes a per-mille figure as a percentage with one decimal: 83 is
// "8.3%".
func pct(pm int) string { return fmt.Sprintf("%d.%d%%", pm/10, pm%10) }

func num(n int64) string { return fmt.Sprintf("%d", n) }

func count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func wasWere(n int64) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

func itThey(n int64) string {
	if n == 1 {
		return "it is"
	}
	return "they are"
}

// capital capitalises a sentence that starts with a digit or an ASCII
// letter; only the latter changes.
func capital(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
