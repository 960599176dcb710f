package export

import (
	"strings"

	"github.com/claimsd/claimsd/workflows/policyflow"
)

// ChangedClaimHeader heads the CSV of the claims a policy backtest (or a
// version in shadow) decides otherwise: one record a claim, the outcome
// it got and the candidate's, its amount, and the candidate's reason
// codes separated by spaces.
var ChangedClaimHeader = []string{"claim_id", "got", "candidate", "currency", "amount_minor", "amount", "candidate_reasons"}

// ChangedClaimRow writes one changed claim: v as JSON, or its record as
// CSV.
func (s *Stream) ChangedClaimRow(v any, c policyflow.ChangedClaim) error {
	return s.fill(v, func(r []string) []string {
		return append(r, Cell(c.ClaimID), c.Change.Got.String(), c.Change.Candidate.String(),
			c.Amount.Currency().String(), Minor(c.Amount), c.Amount.Decimal(), Cell(strings.Join(c.Reasons, " ")))
	})
}
