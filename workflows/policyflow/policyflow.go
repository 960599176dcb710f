// Package policyflow runs the policy lab: decision policies kept as
// versioned records (drafted, put in shadow, activated, retired, every
// change audited), backtests that replay a candidate over the decisions
// recorded in a period, and shadow decisions made beside the active policy
// on every new claim. Source keeps each engine process's view of the
// active and shadow versions current, so an activation decides the next
// claim everywhere within seconds, without a restart.
//
//	svc := policyflow.New(policyflow.Config{Store: store, Codec: policyfile.Codec{}})
//	v, err := svc.Create(ctx, viewer, body)       // a draft
//	bt, err := svc.StartBacktest(ctx, viewer, v.Version, req)
//	v, err = svc.Activate(ctx, viewer, v.Version)
package policyflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/domain/validation"
)

// Codec reads and writes the policy document (policyfile.Codec).
type Codec interface {
	// Parse reads and validates a document; its error joins every
	// problem, each a *validation.Error naming its field, except for
	// malformed JSON.
	Parse(doc []byte) (decision.Policy, error)
	// Marshal writes p as its file would hold it.
	Marshal(p decision.Policy) ([]byte, error)
}

// Version is one policy version as the lab keeps it.
type Version struct {
	Version  string
	Status   policylab.Status
	Document []byte          // the policy as its file holds it
	Policy   decision.Policy // parsed from Document
	// Who made it and when; who last activated it or put it in shadow,
	// and when it was last retired (zero when never).
	CreatedBy   string
	CreatedAt   time.Time
	ActivatedBy string
	ActivatedAt time.Time
	ShadowBy    string
	ShadowAt    time.Time
	RetiredAt   time.Time
}

// Actions recorded in a version's audit trail.
const (
	ActionCreated       = "created"
	ActionSeeded        = "seeded"
	ActionActivated     = "activated"
	ActionRetired       = "retired"
	ActionShadowStarted = "shadow_started"
	ActionShadowStopped = "shadow_stopped"
)

// Change is one entry of the audit trail: a version's status changed.
type Change struct {
	ID       int64
	Version  string
	Action   string
	From     string // "" when created
	To       string
	Replaced string // the version this one replaced as active or shadow, if any
	Actor    string
	At       time.Time
}

// Filters narrow a backtest to some claims.
type Filters struct {
	Reasons    []claim.Reason
	Currencies []money.Currency
	SellerID   string
	// DecidedBy keeps the claims a given version decided.
	DecidedBy string
}

// BacktestRequest asks for a backtest of the claims decided in [From, To).
type BacktestRequest struct {
	From, To time.Time
	Filters  Filters
}

// Backtest is one run of a candidate over recorded decisions.
type Backtest struct {
	ID          string
	Version     string
	From, To    time.Time
	Filters     Filters
	Status      policylab.BacktestStatus
	RequestedBy string
	CreatedAt   time.Time
	StartedAt   time.Time
	FinishedAt  time.Time
	Replayed    int64
	Changed     int64
	Report      *ReportDoc // once completed
	Error       string     // once failed
}

// ChangedClaim is a claim the candidate decides otherwise.
type ChangedClaim struct {
	ClaimID string
	Change  policylab.Change
	Amount  money.Money
	// Reasons are the candidate's reason codes.
	Reasons []string
}

// ClaimQuery pages through a run's changed claims, by claim id.
type ClaimQuery struct {
	Change *policylab.Change // nil: every change
	After  string            // the last claim id of the previous page
	Limit  int
}

// Limits of a ClaimQuery.
const (
	DefaultClaimLimit = 100
	MaxClaimLimit     = 1000
)

// ShadowDecision is what a version in shadow decided for a claim.
type ShadowDecision struct {
	Outcome decision.Outcome
	Reasons []string
	Tier    string
}

// Store is what the lab needs of the database.
type Store interface {
	// CreatePolicy stores a new version and its "created" (or, with
	// seeded, "seeded" and active when no version exists yet) audit
	// entry. Errors: *ConflictError (code version_exists).
	CreatePolicy(ctx context.Context, v Version, action string) error
	// SeedPolicy stores v as the active version if no version exists;
	// created reports whether it did.
	SeedPolicy(ctx context.Context, v Version) (created bool, err error)
	// Policies lists every version, newest first.
	Policies(ctx context.Context) ([]Version, error)
	// Policy returns one version. Errors: *claimflow.NotFoundError.
	Policy(ctx context.Context, version string) (Version, error)
	// PolicyMark changes whenever any version's status does (the last
	// audit entry's id): engines poll it.
	PolicyMark(ctx context.Context) (int64, error)
	// Transition applies one status change under a lock on the policies,
	// with its audit entries, in one transaction: fn gets the versions as
	// they stand and returns the changes to make.
	Transition(ctx context.Context, fn func(current []Version) ([]Change, error)) error
	// PolicyChanges is a version's audit trail, oldest first.
	PolicyChanges(ctx context.Context, version string) ([]Change, error)

	// PolicyOnce runs fn at most once per (scope, key) in one
	// transaction, fn's store bound to it, and keeps what fn returns: a
	// later call with the key and the same hash returns it with replayed
	// true. Errors: claimflow.ErrIdempotencyKeyReused when the key was
	// used with another hash; fn's.
	PolicyOnce(ctx context.Context, scope, key string, hash []byte, fn func(tx Store) ([]byte, error)) (kept []byte, replayed bool, err error)

	// CreateBacktest stores a queued run and schedules its job in the
	// same transaction.
	CreateBacktest(ctx context.Context, b Backtest) error
	// Backtest returns one run. Errors: *claimflow.NotFoundError.
	Backtest(ctx context.Context, id string) (Backtest, error)
	// Backtests lists a version's runs, newest first.
	Backtests(ctx context.Context, version string, limit int) ([]Backtest, error)
	// StartBacktest marks a run running (unless it is done) and clears
	// what an earlier attempt wrote; it returns the run.
	StartBacktest(ctx context.Context, id string, at time.Time) (Backtest, error)
	// ReplayCases streams the recorded decisions of [from, to) that pass
	// f, oldest first, with what became of each claim.
	ReplayCases(ctx context.Context, from, to time.Time, f Filters, fn func(policylab.Case) error) error
	// AddChangedClaims stores a batch of a run's changed claims.
	AddChangedClaims(ctx context.Context, id string, cs []ChangedClaim) error
	// FinishBacktest stores a completed run's figures.
	FinishBacktest(ctx context.Context, b Backtest) error
	// FailBacktest marks a run failed with the reason.
	FailBacktest(ctx context.Context, id string, at time.Time, reason string) error
	// ChangedClaims pages through a run's changed claims.
	ChangedClaims(ctx context.Context, id string, q ClaimQuery) ([]ChangedClaim, error)

	// ShadowCases streams the claims a version decided in shadow, with
	// the recorded decision and the shadow's.
	ShadowCases(ctx context.Context, version string, fn func(policylab.Case, ShadowDecision) error) error
	// ShadowChangedClaims pages through the claims whose shadow outcome
	// differs from the recorded one.
	ShadowChangedClaims(ctx context.Context, version string, q ClaimQuery) ([]ChangedClaim, error)
}

// ConflictError refuses a request the lab's state does not allow: the
// version exists already, a version that is active cannot go in shadow.
type ConflictError struct {
	Code    string
	Message string
}

func (e *ConflictError) Error() string { return e.Code + ": " + e.Message }

// InvalidPolicyError is a policy document that does not pass: every
// problem at once, each naming its field.
type InvalidPolicyError struct {
	Problems []*validation.Error
}

func (e *InvalidPolicyError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return "invalid policy: " + strings.Join(msgs, "; ")
}

// invalid turns a Codec.Parse error into an *InvalidPolicyError, or
// returns it as it is (malformed JSON).
func invalid(err error) error {
	var problems []*validation.Error
	for _, e := range unjoin(err) {
		var ve *validation.Error
		if !errors.As(e, &ve) {
			return err
		}
		problems = append(problems, ve)
	}
	if len(problems) == 0 {
		return err
	}
	return &InvalidPolicyError{Problems: problems}
}

// invalidDocument is invalid for a document a person sent: what the codec
// could not read at all (not JSON, not an object, a setting it does not
// know) is a problem with the field "document" too, never an error the
// caller cannot tell from the store's.
func invalidDocument(doc []byte, err error) error {
	var ipe *InvalidPolicyError
	if e := invalid(err); errors.As(e, &ipe) {
		return e
	}
	return &InvalidPolicyError{Problems: []*validation.Error{unreadable(doc, err)}}
}

// unreadable says why the codec could not read doc, where in it when the
// JSON is broken.
func unreadable(doc []byte, err error) *validation.Error {
	const field = "document"
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(doc)) == 0:
		return validation.New(field, "required", "is required")
	case errors.As(err, &se):
		line, col := position(doc, se.Offset)
		return validation.Newf(field, "malformed_json", "is not valid JSON at line %d, column %d: %s", line, col, se.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return validation.New(field, "malformed_json", "is not valid JSON: it ends before the policy object does")
	case errors.As(err, &te):
		return validation.New(field, "not_an_object", "must be a JSON object holding the policy's settings")
	}
	msg := err.Error()
	if i := strings.Index(msg, "json: unknown field "); i >= 0 {
		return validation.Newf(field, "unknown_field", "has a setting no policy has: %s (check its spelling and where it is)",
			strings.TrimPrefix(msg[i:], "json: unknown field "))
	}
	return validation.New(field, "unreadable", strings.TrimPrefix(msg, "policy: "))
}

// position is the line and column, from 1, of the byte a
// json.SyntaxError's offset (the bytes read, that one included) points
// at.
func position(doc []byte, offset int64) (line, col int) {
	offset = min(max(offset-1, 0), int64(len(doc)))
	before := doc[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = len(before) - bytes.LastIndexByte(before, '\n')
	return line, col
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

func (v Version) String() string { return fmt.Sprintf("%s (%s)", v.Version, v.Status) }
