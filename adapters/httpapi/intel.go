package httpapi

// Shapes the intelligence routes share: a counterfeit line, a case, a
// rights holder's rating.

import (
	"github.com/claimsd/claimsd/domain/intel"
)

var settledNames = map[intel.Settled]string{intel.SettledPending: "pending", intel.SettledConfirmed: "confirmed", intel.SettledCleared: "cleared"}

type ratingDTO struct {
	Verdicts  int64 `json:"verdicts"`
	Decided   int64 `json:"decided"`
	BorneOut  int64 `json:"borne_out"`
	PerMille  int   `json:"borne_out_per_mille"`
	GoodFaith bool  `json:"good_faith"`
}

func newRatingDTO(r intel.Rating) ratingDTO {
	return ratingDTO{Verdicts: r.Verdicts, Decided: r.Decided, BorneOut: r.BorneOut, PerMille: r.PerMille, GoodFaith: r.GoodFaith}
}
