package export

// The policy lab's changed claims as both doors write them: a claim a
// candidate policy decides otherwise than it was decided, in JSON and as a
// CSV record.

import (
	"strings"

	"github.com/claimsd/claimsd/workflows/policyflow"
)

// ChangedClaim is a claim a candidate decides otherwise: the outcome it
// got, the candidate's, its amount and the candidate's reason codes.
type ChangedClaim struct {
	ClaimID   string   `json:"claim_id"`
	Got       string   `json:"got"`
	Candidate string   `json:"candidate"`
	Amount    Amount   `json:"amount"`
	Reasons   []string `json:"reasons"`
}

// NewChangedClaim returns c as JSON shows it.
func NewChangedClaim(c policyflow.ChangedClaim) ChangedClaim {
	reasons := c.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	return ChangedClaim{ClaimID: c.ClaimID, Got: c.Change.Got.String(), Candidate: c.Change.Candidate.String(),
		Amount: Amount{Currency: c.Amount.Currency().String(), Amount: c.Amount.Amount()}, Reasons: reasons}
}

// ChangedClaimHeader is the header record of a changed-claims CSV.
var ChangedClaimHeader = []string{"claim_id", "got", "candidate", "currency", "amount_minor", "amount", "reasons"}

// ChangedClaimRecord writes c as a CSV record; its reason codes are
// space-separated.
func ChangedClaimRecord(c policyflow.ChangedClaim) []string {
	return []string{Cell(c.ClaimID), c.Change.Got.String(), c.Change.Candidate.String(),
		c.Amount.Currency().String(), Minor(c.Amount), c.Amount.Decimal(), Cell(strings.Join(c.Reasons, " "))}
}

// ChangedClaimRow writes one changed claim: v as JSON, or its record as
// CSV (ChangedClaimRecord).
func (s *Stream) ChangedClaimRow(v any, c policyflow.ChangedClaim) error {
	return s.fill(v, func(r []string) []string { return append(r, ChangedClaimRecord(c)...) })
}
