package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/claimsd/claimsd/workflows/claimflow"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/validation"
)

// SessionRevoker ends sign-ins. pgstore.Store implements it (as part of
// LoginStore).
type SessionRevoker interface {
	// RevokeConsoleSessions ends every sign-in of subject in role (any
	// role when role is "") and returns how many it ended.
	RevokeConsoleSessions(ctx context.Context, role, subject string) (int, error)
}

// RevokeSessions ends every console sign-in of subject, in role or, when
// role is "", in every role: for someone who left, lost a device, or whose
// cookie may have been copied. Their session cookies open nothing from
// then on; a new sign-in link lets them in again. It returns how many
// sign-ins it ended. Errors: *validation.Error (field "role" or "sub"),
// the store's.
//
//	n, err := console.RevokeSessions(ctx, store, "", "ana")
func RevokeSessions(ctx context.Context, store SessionRevoker, role, subject string) (int, error) {
	if role != "" && !allowed(claimflow.Role(role), consoleRoles) {
		return 0, validation.New("role", "invalid_role", "must be one of "+claimflow.JoinRoles(consoleRoles, ", ")+", or empty for every role")
	}
	if err := validation.CheckID("sub", subject); err != nil {
		return 0, err
	}
	n, err := store.RevokeConsoleSessions(ctx, role, subject)
	if err != nil {
		return 0, fmt.Errorf("revoke console sessions of %s: %w", subject, err)
	}
	return n, nil
}

// adminRoutes registers the administrators' page that ends someone's
// sign-ins.
func (c *console) adminRoutes() {
	c.get("/console/admin/sessions", c.adminSessionsPage, RoleAdmin)
	c.post("/console/admin/sessions", c.adminSessionsPost, RoleAdmin)
	c.addNav("Sign-ins", "/console/admin/sessions", RoleAdmin)
}

type adminSessionsData struct {
	Form  formState
	Roles []option
	Done  string
}

func (c *console) adminSessionsData(form formState) *adminSessionsData {
	d := &adminSessionsData{Form: form, Roles: []option{{Value: "", Label: "Every role"}}}
	for _, r := range consoleRoles {
		d.Roles = append(d.Roles, option{Value: string(r), Label: string(r)})
	}
	return d
}

// adminSessionsPage is the form to end a person's sign-ins; after it was
// sent, it says how many were ended.
func (c *console) adminSessionsPage(ec echo.Context) error {
	d := c.adminSessionsData(newFormState())
	q := ec.QueryParams()
	if n, err := strconv.Atoi(q.Get("ended")); err == nil && n >= 0 && validation.CheckID("sub", q.Get("sub")) == nil {
		who := q.Get("sub")
		if r := q.Get("role"); allowed(claimflow.Role(r), consoleRoles) {
			who += " (" + r + ")"
		}
		switch n {
		case 0:
			d.Done = who + " had no sign-in open; nothing was ended."
		case 1:
			d.Done = "Ended 1 sign-in of " + who + "."
		default:
			d.Done = fmt.Sprintf("Ended %d sign-ins of %s.", n, who)
		}
	}
	return c.render(ec, http.StatusOK, "admin_sessions", pageData{Title: "Sign-ins", Data: d})
}

// adminSessionsPost ends every sign-in of the person named, then shows
// how many (post, redirect, get); a bad name or role is shown on the form.
func (c *console) adminSessionsPost(ec echo.Context) error {
	form := newFormState()
	form.Values["sub"] = strings.TrimSpace(ec.FormValue("sub"))
	form.Values["role"] = ec.FormValue("role")
	n, err := RevokeSessions(ec.Request().Context(), c.Logins, form.Values["role"], form.Values["sub"])
	var ve *validation.Error
	switch {
	case err == nil:
		by := ec.Get(sessionKey).(*session)
		c.Logger.InfoContext(ec.Request().Context(), "console sessions revoked", "sub", form.Values["sub"], "role", form.Values["role"],
			"ended", n, "by", by.Subject)
		q := url.Values{"ended": {strconv.Itoa(n)}, "sub": {form.Values["sub"]}}
		if form.Values["role"] != "" {
			q.Set("role", form.Values["role"])
		}
		return ec.Redirect(http.StatusSeeOther, "/console/admin/sessions?"+q.Encode())
	case errors.As(err, &ve):
		label := map[string]string{"sub": "Person", "role": "Role"}[ve.Field]
		if label == "" {
			label = fieldLabel(ve.Field)
		}
		form.Errors[ve.Field] = label + " " + ve.Message
		return c.render(ec, http.StatusUnprocessableEntity, "admin_sessions", pageData{Title: "Error: Sign-ins", Data: c.adminSessionsData(form)})
	}
	return err
}
