package policyflow_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// oneVersion is a store holding one version whose document comes back as
// PostgreSQL's JSONB hands it back: on one line, keys reordered. Any other
// method panics (the embedded interface is nil): the tests call none.
type oneVersion struct {
	policyflow.Store
	v policyflow.Version
	// down fails every read of another version, as a database away does.
	down error
}

func (s oneVersion) Policy(_ context.Context, version string) (policyflow.Version, error) {
	if version != s.v.Version && s.down != nil {
		return policyflow.Version{}, s.down
	}
	if version != s.v.Version {
		return policyflow.Version{}, &claimflow.NotFoundError{Resource: "policy", ID: version}
	}
	return s.v, nil
}

func (s oneVersion) PolicyChanges(context.Context, string) ([]policyflow.Change, error) {
	return nil, nil
}

func (s oneVersion) Policies(context.Context) ([]policyflow.Version, error) {
	return []policyflow.Version{s.v}, nil
}

// TestDocumentAsItsFileHoldsIt: a version read back carries its document
// as the policy file writes it, whatever order the store kept its keys in.
func TestDocumentAsItsFileHoldsIt(t *testing.T) {
	t.Parallel()
	jsonb := `{"tiers": [{"name": "new", "raised_limits": {"EUR": 15000}, "instant_limits": {"EUR": 5000}, "min_account_age_days": 0}], ` +
		`"version": "v1", "claim_window_days": {"damaged": 30, "counterfeit": 180, "not_received": 60, "not_as_described": 30}, ` +
		`"frequent_claims_90d": 3, "recent_refund_limits": {"EUR": 200000}, "high_risk_seller_score": 70, ` +
		`"not_received_min_wait_days": 7, "counterfeit_pattern_claims_90d": 3}`
	svc := policyflow.New(policyflow.Config{Store: oneVersion{v: policyflow.Version{Version: "v1", Status: policylab.StatusActive, Document: []byte(jsonb)}},
		Codec: policyfile.Codec{}})
	v, _, err := svc.Get(context.Background(), "v1")
	require.NoError(t, err)
	want, err := policyfile.Marshal(v.Policy)
	require.NoError(t, err)
	require.Equal(t, string(want), string(v.Document))
	require.Contains(t, string(v.Document), "{\n  \"version\": \"v1\",\n  \"claim_window_days\": {\n")
	vs, err := svc.List(context.Background())
	require.NoError(t, err)
	require.Equal(t, string(want), string(vs[0].Document))
}

// TestCreateNamesWhatIsWrongWithTheDocument: a document that cannot be
// read as a policy is refused with an *InvalidPolicyError, its problem
// on the field "document" and saying where; one that reads, with every
// problem on its own field. Nothing reaches the store.
func TestCreateNamesWhatIsWrongWithTheDocument(t *testing.T) {
	t.Parallel()
	svc := policyflow.New(policyflow.Config{Store: oneVersion{}, Codec: policyfile.Codec{}})
	for _, tt := range []struct {
		give string
		want []string // field: message
	}{
		{give: "", want: []string{"document: is required"}},
		{give: "{\n  \"version\": \"x\",\n  oops\n}", want: []string{`document: is not valid JSON at line 3, column 3: invalid character 'o' looking for beginning of object key string`}},
		{give: `{"version": "x"`, want: []string{"document: is not valid JSON: it ends before the policy object does"}},
		{give: `[1, 2]`, want: []string{"document: must be a JSON object holding the policy's settings"}},
		{give: `{"version": "x", "instant_limit": 1}`, want: []string{"instant_limit: is not a setting of the policy (names are case-sensitive)",
			"not_received_min_wait_days: is required", "frequent_claims_90d: is required", "recent_refund_limits: is required",
			"high_risk_seller_score: is required", "counterfeit_pattern_claims_90d: is required", "claim_window_days.counterfeit: is required",
			"claim_window_days.not_as_described: is required", "claim_window_days.damaged: is required", "claim_window_days.not_received: is required",
			"tiers: must list at least one tier"}},
		{give: `{"version": "x"} {}`, want: []string{"document: unexpected data after the policy object"}},
		{give: `{"version": 7}`, want: []string{"version: has the wrong type: a JSON number"}},
	} {
		_, err := svc.Create(context.Background(), claimflow.Viewer{Role: "risk", Subject: "rita"}, []byte(tt.give))
		var ipe *policyflow.InvalidPolicyError
		require.True(t, errors.As(err, &ipe), "%q: %v", tt.give, err)
		var got []string
		for _, p := range ipe.Problems {
			got = append(got, p.Error())
		}
		require.Equal(t, tt.want, got, tt.give)
	}
}

// TestDiffSaysWhyTheOtherVersionIsMissing: Diff names the field "against"
// when the other version does not exist, and returns the store's own
// error, not "not found", when it could not be read.
func TestDiffSaysWhyTheOtherVersionIsMissing(t *testing.T) {
	t.Parallel()
	doc, err := policyfile.Marshal(policyfile.Default())
	require.NoError(t, err)
	v := policyflow.Version{Version: policyfile.Default().Version, Status: policylab.StatusActive, Document: doc}
	svc := policyflow.New(policyflow.Config{Store: oneVersion{v: v}, Codec: policyfile.Codec{}})
	_, _, _, err = svc.Diff(context.Background(), v.Version, "v_nobody")
	var nf *claimflow.NotFoundError
	require.True(t, errors.As(err, &nf), "%v", err)
	require.Equal(t, "against", nf.Field)

	down := errors.New("database unavailable")
	svc = policyflow.New(policyflow.Config{Store: oneVersion{v: v, down: down}, Codec: policyfile.Codec{}})
	_, _, _, err = svc.Diff(context.Background(), v.Version, "v2")
	require.ErrorIs(t, err, down)
	require.NotErrorIs(t, err, claimflow.ErrNotFound)
}
