package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/evidence"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// apiError is the one error shape the API answers with:
// {"error":{"code":"snake_case","message":"...","field":"items[0].sku"}}.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Extra carries structured details for some codes (e.g. the current
	// state on a conflict); omitted when empty.
	Extra map[string]any `json:"details,omitempty"`
	// retryAfter, when positive, is sent as the Retry-After header.
	retryAfter int
}

// retryAfterSeconds rounds a wait up to whole seconds, at least one.
func retryAfterSeconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, message, field string) *apiError {
	return &apiError{Status: status, Code: code, Message: message, Field: field}
}

// toAPIError is the single table from every error the API can meet to its
// HTTP status and stable code. Anything not listed is a 500 that reveals
// nothing of its cause.
func toAPIError(err error) *apiError {
	var (
		ae  *apiError
		ve  *validation.Error
		nf  *claimflow.NotFoundError
		ce  *claimflow.ConflictError
		fre *finance.RefusedError
		he  *echo.HTTPError
		mbe *http.MaxBytesError
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		rl  *claimflow.RateLimitedError
		url *evidenceflow.RateLimitedError
		cre *claim.RefusedError
		eue *evidence.UnsupportedError
		ere *evidence.UnreadableError
		ete *evidence.TooLargeError
		eme *evidence.TooManyError
		ipe *policyflow.InvalidPolicyError
		pce *policyflow.ConflictError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &mbe):
		return newError(http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("the request body must be at most %d bytes", mbe.Limit), "")
	case errors.As(err, &ve) && ve.Field == claimflow.KeyField:
		// The key is a header: a bad one is a bad request, as any header.
		return newError(http.StatusBadRequest, ve.Code, ve.Message, HeaderIdempotencyKey)
	case errors.As(err, &ipe):
		return invalidPolicy(ipe)
	case errors.As(err, &ve):
		ae := newError(http.StatusUnprocessableEntity, ve.Code, ve.Message, ve.Field)
		if ps := problemsOf(err); len(ps) > 1 {
			// Several at once (a backtest's request): the first is named
			// above, every one here.
			ae.Extra = map[string]any{"problems": ps}
		}
		return ae
	case errors.As(err, &rl):
		return &apiError{Status: http.StatusTooManyRequests, Code: "rate_limited", retryAfter: retryAfterSeconds(rl.RetryAfter),
			Message: fmt.Sprintf("too many claims from you in a short time; retry in %d s", retryAfterSeconds(rl.RetryAfter))}
	case errors.As(err, &url):
		return &apiError{Status: http.StatusTooManyRequests, Code: "rate_limited", retryAfter: retryAfterSeconds(url.RetryAfter),
			Message: fmt.Sprintf("too many uploads from you in a short time; retry in %d s", retryAfterSeconds(url.RetryAfter))}
	case errors.As(err, &eue):
		return newError(http.StatusUnsupportedMediaType, "unsupported_file_type", eue.Error(), "file")
	case errors.As(err, &ere):
		return newError(http.StatusUnprocessableEntity, "unreadable_file", ere.Error(), "file")
	case errors.As(err, &ete):
		return newError(http.StatusRequestEntityTooLarge, "file_too_large", ete.Error(), "file")
	case errors.As(err, &eme):
		return newError(http.StatusUnprocessableEntity, "too_many_files", eme.Error(), "file")
	case errors.As(err, &cre):
		return newError(http.StatusConflict, cre.Code, cre.Message, "")
	case errors.As(err, &nf):
		return newError(http.StatusNotFound, nf.Resource+"_not_found", nf.Error(), nf.Field)
	case errors.As(err, &ce):
		// The claim as it stands, so the caller can see why and decide again.
		cur := map[string]any{}
		if c := ce.Current.Claim; c != nil {
			cur["status"], cur["version"] = c.Status().String(), c.Version()
			if cb := c.Chargeback().Status.String(); cb != "" {
				cur["chargeback_status"] = cb
			}
		}
		return &apiError{Status: http.StatusConflict, Code: ce.Code, Message: ce.Message, Extra: map[string]any{"current": cur}}
	case errors.As(err, &pce):
		return newError(http.StatusConflict, pce.Code, pce.Message, "")
	case errors.As(err, &fre):
		return newError(http.StatusConflict, fre.Code, fre.Message, "")
	case errors.Is(err, claimflow.ErrIdempotencyKeyReused):
		return newError(http.StatusConflict, "idempotency_key_reused",
			"this Idempotency-Key was already used for a different request; use a new key", "Idempotency-Key")
	case errors.Is(err, claimflow.ErrOrderHasClaims):
		return newError(http.StatusConflict, "order_has_claims",
			"the order has claims, so only paid_at and delivered_at may change", "")
	case errors.As(err, &syn):
		return newError(http.StatusBadRequest, "malformed_json", fmt.Sprintf("the body is not valid JSON (at byte %d)", syn.Offset), "")
	case errors.As(err, &typ):
		return newError(http.StatusBadRequest, "invalid_type",
			fmt.Sprintf("must be %s, got a JSON %s", jsonKind(typ.Type.Kind().String()), typ.Value), typ.Field)
	case errors.As(err, &he):
		return fromEchoError(he)
	case errors.Is(err, money.ErrOverflow):
		// Amounts are bounded (money.MaxAmount), so only data stored
		// before the bound can get here: a total that int64 cannot hold
		// is not shown at all rather than shown wrapped.
		return newError(http.StatusInternalServerError, "total_out_of_range",
			"a total here is larger than the engine can express in minor units, so it is not shown; nothing was changed", "")
	case errors.Is(err, claimflow.ErrUnavailable):
		return newError(http.StatusServiceUnavailable, "unavailable", "the service cannot reach its database; retry shortly with the same Idempotency-Key", "")
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer.
		return newError(499, "client_closed_request", "the client closed the request", "")
	case errors.Is(err, context.DeadlineExceeded):
		return newError(http.StatusServiceUnavailable, "timeout", "the request took too long; retry it with the same Idempotency-Key", "")
	}
	return newError(http.StatusInternalServerError, "internal", "something went wrong on our side; retry later", "")
}

// problem is one problem of a request or document that has several:
// details.problems lists them.
type problem struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// problemsOf lists the validation errors err holds, joined (errors.Join)
// at any depth, in order.
func problemsOf(err error) []problem {
	var out []problem
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				walk(inner)
			}
			return
		}
		if next := errors.Unwrap(e); next != nil {
			walk(next)
			return
		}
		var ve *validation.Error
		if errors.As(e, &ve) {
			out = append(out, problem{Field: ve.Field, Code: ve.Code, Message: ve.Message})
		}
	}
	walk(err)
	return out
}

// invalidPolicy answers a policy document that does not pass: 422
// invalid_policy naming the first problem's field, with every problem in
// details.problems, so a person fixes them all in one go.
func invalidPolicy(e *policyflow.InvalidPolicyError) *apiError {
	ps := make([]problem, len(e.Problems))
	for i, p := range e.Problems {
		ps[i] = problem{Field: p.Field, Code: p.Code, Message: p.Message}
	}
	ae := &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_policy", Extra: map[string]any{"problems": ps},
		Message: "the policy document does not pass"}
	if len(ps) > 0 {
		ae.Field = ps[0].Field
		ae.Message = fmt.Sprintf("the policy document does not pass: %s %s", ps[0].Field, ps[0].Message)
		if len(ps) > 1 {
			ae.Message += fmt.Sprintf(" (and %d more problems; details.problems lists every one)", len(ps)-1)
		}
	}
	return ae
}

func fromEchoError(he *echo.HTTPError) *apiError {
	switch he.Code {
	case http.StatusNotFound:
		return newError(he.Code, "route_not_found", "no such route", "")
	case http.StatusMethodNotAllowed:
		return newError(he.Code, "method_not_allowed", "this route does not accept that method", "")
	case http.StatusRequestEntityTooLarge:
		return newError(he.Code, "body_too_large", "the request body is too large", "")
	case http.StatusUnsupportedMediaType:
		return newError(he.Code, "unsupported_media_type", "send the body as application/json", "")
	}
	code := "http_error"
	if he.Code >= 500 {
		code = "internal"
	}
	return newError(he.Code, code, http.StatusText(he.Code), "")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number within range"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "another type"
}

// errorHandler writes every error in the API's shape and logs the ones
// that are ours (5xx) with the request id.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		ae := toAPIError(err)
		if ae.Status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed",
				"err", err, "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"method", c.Request().Method, "path", c.Path())
		}
		if ae.Status == http.StatusServiceUnavailable {
			c.Response().Header().Set("Retry-After", "2")
		}
		if ae.retryAfter > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
		}
		if ae.Status == http.StatusUnauthorized {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="claimsd"`)
		}
		_ = c.JSON(ae.Status, map[string]*apiError{"error": ae})
	}
}
