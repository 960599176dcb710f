package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

type overrideRequest struct {
	Action     string `json:"action"`
	ReasonCode string `json:"reason_code,omitempty"`
	Note       string `json:"note"`
	Version    *int64 `json:"version"`
}

// versionOf reads the claim version an agent acted on. Absent is 0, which
// the use case refuses as required; a version given is never taken for an
// absent one, and must be 1 or more.
func versionOf(v *int64) (int64, error) {
	if v == nil {
		return 0, nil
	}
	if *v < 1 {
		return 0, validation.New("version", "out_of_range", "must be 1 or more: the claim's version you acted on, as the claim shows it")
	}
	return *v, nil
}

// postOverride applies an agent's action to a claim. The version the agent
// acted on is required: if the claim moved since, the answer is 409 with
// its current state.
func (a *api) postOverride(c echo.Context) error {
	var req overrideRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	version, err := versionOf(req.Version)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	v := viewer(c)
	changed, err := a.Claims.OverrideOnce(c.Request().Context(), v, c.Param("id"), claimflow.OverrideRequest{
		Action: req.Action, ReasonCode: req.ReasonCode, Note: req.Note, Version: version,
	}, key)
	return a.answerChanged(c, v, changed, err)
}

// answerChanged answers a claim a keyed change left, or its error.
func (a *api) answerChanged(c echo.Context, v claimflow.Viewer, changed claimflow.Changed, err error) error {
	if err != nil {
		return err
	}
	replayed(c, changed.Replayed)
	return c.JSON(http.StatusOK, newClaimResponse(changed.Record, v, a.Claims.Now()))
}

type contestRequest struct {
	Statement string        `json:"statement"`
	Evidence  []evidenceDTO `json:"evidence,omitempty"`
}

// postContest records a seller's contest of the charge of their claim.
func (a *api) postContest(c echo.Context) error {
	var req contestRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	v := viewer(c)
	cr := claimflow.ContestRequest{Statement: req.Statement}
	for _, ev := range req.Evidence {
		cr.Evidence = append(cr.Evidence, claim.Evidence{Kind: ev.Kind, URL: ev.URL})
	}
	changed, err := a.Claims.ContestOnce(c.Request().Context(), v, c.Param("id"), cr, key)
	return a.answerChanged(c, v, changed, err)
}

type resolutionRequest struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
	Version *int64 `json:"version"`
}

// postContestResolution settles a seller's contest: uphold or reverse.
func (a *api) postContestResolution(c echo.Context) error {
	var req resolutionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	version, err := versionOf(req.Version)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	v := viewer(c)
	changed, err := a.Claims.ResolveContestOnce(c.Request().Context(), v, c.Param("id"),
		claimflow.ResolutionRequest{Outcome: req.Outcome, Note: req.Note, Version: version}, key)
	return a.answerChanged(c, v, changed, err)
}
