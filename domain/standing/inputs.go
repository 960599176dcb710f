package standing

import "time"

// The rolling windows a standing is computed over, in days.
const (
	RecentDays = 90
	YearDays   = 365
)

// Counts is what the engine saw of a seller within one window. A claim
// counts in the window it was filed in; an order in the window it was paid
// in. Every count is at least zero.
type Counts struct {
	// Orders fed for the seller (paid orders).
	Orders int64
	// Claims filed against the seller that were not rejected, by reason:
	// Counterfeit of them were counterfeit claims.
	Claims      int64
	Counterfeit int64
	// ConfirmedCounterfeits: counterfeit claims refunded and charged to
	// the seller with the charge final (no contest within the window) or
	// upheld (contested, and an agent confirmed it).
	ConfirmedCounterfeits int64
	// ContestsWon: charges the seller contested and an agent reversed;
	// ContestsLost: contested and upheld.
	ContestsWon  int64
	ContestsLost int64
	// Released: charges taken off the seller (reversed or waived); such a
	// claim is not held against the seller. A contest won may be counted
	// here too or not: the larger of Released and ContestsWon is excused.
	Released int64
}

// Inputs are what a seller's standing is computed from: the engine's own
// counts over two windows and what the platform says of the seller.
type Inputs struct {
	Recent Counts // the last RecentDays days
	Year   Counts // the last YearDays days (Recent is part of it)
	// PlatformRiskScore is the platform's own risk score, 0–100, higher
	// is riskier.
	PlatformRiskScore int
	// Verified: the platform verified the seller. It does not change the
	// standing (see docs/standing.md).
	Verified bool
}

// Component is one input of a standing, as a seller reads it.
type Component struct {
	// Name is stable and snake_case: "claim_rate", "counterfeit_rate",
	// "confirmed_counterfeits", "contests", "released", "platform_risk".
	// The counted ones come once per window (90 days, then 365).
	Name string
	// WindowDays is the window it was counted over; 0 for the platform's
	// score, which has none.
	WindowDays int
	// Count and Of: e.g. 2 claims (Count) in 5 orders (Of).
	Count int64
	Of    int64
	// Low and High bound the underlying rate, in per-mille (0–1000), with
	// the uncertainty a sample of Of carries; both 0 for a component that
	// is not a rate.
	Low, High int
	// Points is what the component did to the score (negative: lowered it).
	Points int
	// Sentence says it in words a seller can act on.
	Sentence string
}

// Standing is a seller's standing at a time.
type Standing struct {
	Level Level
	// Score is 0–100, higher is better; 50 is a seller with no history.
	Score      int
	Components []Component
	// Next says, in sentences a seller can act on, what would move the
	// standing up (or keep it from moving down).
	Next       []string
	ComputedAt time.Time
}
