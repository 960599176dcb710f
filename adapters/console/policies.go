package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// policiesRoutes registers the policy lab, for risk and admins: the
// versions, a new version's form, each version with its document, audit
// trail, diff, backtests and the forms that put it in shadow or activate
// it (through a confirmation that shows its last backtest), a backtest's
// report with the claims it changes, and the live report of the version
// in shadow. Everything goes through policyflow.Service.
func (c *console) policiesRoutes() {
	if c.Policies == nil {
		return
	}
	lab := []claimflow.Role{RoleRisk, RoleAdmin}
	c.get("/console/policies", c.policiesPage, lab...)
	c.get("/console/policies/new", c.policyNewPage, lab...)
	c.post("/console/policies/new", c.policyNewPost, lab...)
	c.get("/console/policies/versions/:version", c.policyPage, lab...)
	c.post("/console/policies/versions/:version/backtests", c.policyBacktestPost, lab...)
	c.get("/console/policies/versions/:version/shadow", c.policyShadowPage, lab...)
	c.post("/console/policies/versions/:version/shadow", c.policyShadowStartPost, lab...)
	c.post("/console/policies/versions/:version/shadow/stop", c.policyShadowStopPost, lab...)
	c.get("/console/policies/versions/:version/activate", c.policyActivatePage, lab...)
	c.post("/console/policies/versions/:version/activate", c.policyActivatePost, lab...)
	c.get("/console/policies/backtests/:id", c.backtestPage, lab...)
	c.download(pathBacktestCSV, c.backtestCSV, lab...)
	c.addNav("Policy lab", "/console/policies", lab...)
	c.home[RoleRisk] = "/console/policies"
}

// policyPath is a version's page.
func policyPath(version string) string {
	return "/console/policies/versions/" + url.PathEscape(version)
}

// backtestPath is a backtest's page.
func backtestPath(id string) string { return "/console/policies/backtests/" + url.PathEscape(id) }

// policyStatusLabels name the statuses as the pages do.
var policyStatusLabels = map[string]string{
	policylab.StatusDraft.String():   "Draft",
	policylab.StatusShadow.String():  "In shadow",
	policylab.StatusActive.String():  "Active",
	policylab.StatusRetired.String(): "Retired",
}

// policyStatusLabel names a status; one the console does not know is
// shown as its slug.
func policyStatusLabel(s string) string {
	if l, ok := policyStatusLabels[s]; ok {
		return l
	}
	return words(s)
}

// outcomeLabels name the decision's outcomes as the lab's pages do.
var outcomeLabels = map[decision.Outcome]string{
	decision.OutcomeInstantRefund: "Refunded at once",
	decision.OutcomeManualReview:  "Sent to a person",
	decision.OutcomeRejected:      "Rejected",
}

func outcomeLabel(o decision.Outcome) string {
	if l, ok := outcomeLabels[o]; ok {
		return l
	}
	return words(o.String())
}

// changeLabel names a move from one outcome to another: "Refunded at
// once → Sent to a person".
func changeLabel(ch policylab.Change) string {
	return outcomeLabel(ch.Got) + " → " + outcomeLabel(ch.Candidate)
}

// changeOptions are the moves a changed claim may make, for the filter
// of a changed-claims list; the first is every move.
func changeOptions() []option {
	out := []option{{Value: "", Label: "Every change"}}
	for _, got := range decision.Outcomes {
		for _, cand := range decision.Outcomes {
			if got == cand {
				continue
			}
			ch := policylab.Change{Got: got, Candidate: cand}
			out = append(out, option{Value: ch.String(), Label: changeLabel(ch)})
		}
	}
	return out
}

type policiesData struct {
	Versions []policyflow.Version
	Done     string
}

// policiesPage lists every version, newest first, with who made,
// activated and shadowed each, and when.
func (c *console) policiesPage(ec echo.Context) error {
	vs, err := c.Policies.List(ec.Request().Context())
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "policies", pageData{Title: "Policy lab", Data: policiesData{Versions: vs}})
}

// validationProblems lists the validation errors err joins, and reports
// whether err is made of nothing else: a use case's request check joins
// every problem it finds.
func validationProblems(err error) ([]*validation.Error, bool) {
	if err == nil {
		return nil, false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*validation.Error
		for _, e := range j.Unwrap() {
			ps, ok := validationProblems(e)
			if !ok {
				return nil, false
			}
			out = append(out, ps...)
		}
		return out, len(out) > 0
	}
	var ve *validation.Error
	if errors.As(err, &ve) {
		return []*validation.Error{ve}, true
	}
	return nil, false
}
