package httpapi

import (
	"context"
	"encoding/json"

	"github.com/claimsd/claimsd/workflows/claimflow"
)

// platformViewer is who outbound events are written for: the
// marketplace's platform, which reads a claim as the service role would
// (the shopper's id and evidence, the charge, the decision's reasons
// without staff notes or the facts).
var platformViewer = claimflow.Viewer{Role: claimflow.RoleService, Subject: "events"}

// ClaimDocuments renders claims for outbound events exactly as this API
// shows them (eventflow.Renderer).
type ClaimDocuments struct{ Service *claimflow.Service }

// Claims implements eventflow.Renderer.
func (d ClaimDocuments) Claims(ctx context.Context, ids []string) (map[string]json.RawMessage, error) {
	recs, err := d.Service.Records(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(recs))
	for id, r := range recs {
		b, err := json.Marshal(newClaimResponse(r, platformViewer, d.Service.Now()))
		if err != nil {
			return nil, err
		}
		out[id] = b
	}
	return out, nil
}
