// Package standing is what the engine has learned about a seller from its
// own outcomes: orders fed, claims by reason, counterfeits confirmed,
// contests won and lost, charges reversed or waived, over rolling
// windows. It rates sellers fairly to small ones (rates carry the
// uncertainty a small sample has), blends in the platform's risk score
// and names a Level every decision reads. Plain Go; the store keeps each
// seller's standing current and the decision reads it in one lookup.
package standing

import "fmt"

// Level is a seller's standing, from best to worst.
type Level string

// The levels.
const (
	// LevelCreditable: a record of clean orders large enough to be sure
	// of; a claim against the seller is refunded as policy says, but the
	// seller is charged only once the charge is confirmed (protection).
	LevelCreditable Level = "creditable"
	// LevelStandard: no reason to think better or worse; every new seller
	// starts here.
	LevelStandard Level = "standard"
	// LevelWatch: signs of trouble not yet certain.
	LevelWatch Level = "watch"
	// LevelHighRisk: the engine's own outcomes (confirmed counterfeits,
	// contests lost), or the platform, say the seller sells fakes.
	LevelHighRisk Level = "high_risk"
)

// Levels lists every level, from best to worst.
var Levels = []Level{LevelCreditable, LevelStandard, LevelWatch, LevelHighRisk}

// ParseLevel returns the level named s.
func ParseLevel(s string) (Level, error) {
	for _, l := range Levels {
		if string(l) == s {
			return l, nil
		}
	}
	return "", fmt.Errorf("unknown standing level %q", s)
}

// String returns the level's name.
func (l Level) String() string { return string(l) }
