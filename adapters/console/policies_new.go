package console

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// problemView is one problem with a policy document: the setting it is
// about, by its path in the document ("tiers[1].instant_limits.EUR"), and
// what is wrong.
type problemView struct {
	Field, Message string
}

type policyNewData struct {
	// Document is the text in the form: the active version's to start
	// from, or what was sent.
	Document string
	// From names the version the form started from, when it did.
	From     string
	Problems []problemView
}

// policyNewPage is the form that drafts a version, holding the active
// version's document to edit.
func (c *console) policyNewPage(ec echo.Context) error {
	vs, err := c.Policies.List(ec.Request().Context())
	if err != nil {
		return err
	}
	d := policyNewData{}
	for _, v := range vs {
		if v.Status == policylab.StatusActive {
			d.Document, d.From = string(v.Document), v.Version
		}
	}
	if d.From == "" && len(vs) > 0 {
		d.Document, d.From = string(vs[0].Document), vs[0].Version
	}
	return c.render(ec, http.StatusOK, "policy_new", pageData{Title: "New policy version", Data: d})
}

// policyNewPost stores the document as a draft and opens its page; a
// document that does not pass comes back in the form with every problem
// named, nothing stored.
func (c *console) policyNewPost(ec echo.Context) error {
	doc := ec.FormValue("document")
	v, err := c.Policies.Create(ec.Request().Context(), viewerOf(ec), []byte(doc))
	if err == nil {
		return ec.Redirect(http.StatusSeeOther, policyPath(v.Version)+"?done=created")
	}
	d := policyNewData{Document: doc}
	var ipe *policyflow.InvalidPolicyError
	var ce *policyflow.ConflictError
	status := http.StatusUnprocessableEntity
	switch {
	case errors.As(err, &ipe):
		for _, p := range ipe.Problems {
			d.Problems = append(d.Problems, problemView{Field: p.Field, Message: p.Message})
		}
	case errors.As(err, &ce):
		if v, ok := c.sentBefore(ec, []byte(doc)); ok {
			// The form pressed twice: the second lands where the first did.
			return ec.Redirect(http.StatusSeeOther, policyPath(v)+"?done=created")
		}
		status = http.StatusConflict
		d.Problems = []problemView{{Field: "version", Message: ce.Message}}
	default:
		return err
	}
	return c.render(ec, status, "policy_new", pageData{Title: "Error: New policy version", Data: d})
}

// sentBefore reports whether doc's version exists because this person
// stored this very document: the same form sent twice.
func (c *console) sentBefore(ec echo.Context, doc []byte) (string, bool) {
	var head struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(doc, &head) != nil || head.Version == "" {
		return "", false
	}
	v, _, err := c.Policies.Get(ec.Request().Context(), head.Version)
	if err != nil || v.CreatedBy != viewerOf(ec).String() || v.Status != policylab.StatusDraft {
		return "", false
	}
	diff, err := policyflow.DiffDocuments(v.Document, doc)
	return v.Version, err == nil && len(diff) == 0
}
