package policyflow

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// Config sets up a Service.
type Config struct {
	Store Store
	Codec Codec
	// Source, if set, is refreshed after every change of status, so this
	// process decides with the change at once (others within their poll).
	Source *Source
	Now    func() time.Time
	Rand   io.Reader
	Log    *slog.Logger
	// ReplayRate is the most recorded decisions a backtest replays a
	// second: 0 is DefaultReplayRate, a negative rate no limit.
	ReplayRate int
}

// DefaultReplayRate paces a backtest at 25,000 claims a second: a year
// of a million claims in 40 s, within the minute a backtest of that size
// may take, leaving most of the machine's CPU to the claims filed
// meanwhile. Unpaced, the engine and its database replay a million claims
// in 4-6 s on a two-core machine and take both cores: decisions on claims
// filed at 100 a second meanwhile took 3.5 times as long at the median
// and 6 times at p99; paced, 1.2-1.4 times and 1.2-2.4 times
// (docs/benchmarks.md, "Policy backtests").
const DefaultReplayRate = 25_000

// Service runs the policy lab's use cases.
type Service struct {
	store      Store
	codec      Codec
	source     *Source
	now        func() time.Time
	rand       io.Reader
	log        *slog.Logger
	replayRate int
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.ReplayRate == 0 {
		cfg.ReplayRate = DefaultReplayRate
	}
	return &Service{store: cfg.Store, codec: cfg.Codec, source: cfg.Source, now: cfg.Now, rand: cfg.Rand, log: cfg.Log,
		replayRate: cfg.ReplayRate}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Create stores the policy document doc as a new draft version. Errors:
// *InvalidPolicyError (every problem; a document that is not JSON, or not
// a policy object, is one problem with the field "document"),
// *ConflictError (version_exists).
func (s *Service) Create(ctx context.Context, v claimflow.Viewer, doc []byte) (Version, error) {
	p, err := s.codec.Parse(doc)
	if err != nil {
		return Version{}, invalidDocument(doc, err)
	}
	canon, err := s.codec.Marshal(p)
	if err != nil {
		return Version{}, err
	}
	ver := Version{Version: p.Version, Status: policylab.StatusDraft, Document: canon, Policy: p, CreatedBy: v.String(), CreatedAt: s.clock()}
	if err := s.store.CreatePolicy(ctx, ver, ActionCreated); err != nil {
		return Version{}, err
	}
	s.log.InfoContext(ctx, "policy version created", "version", ver.Version, "by", ver.CreatedBy)
	return ver, nil
}

// Seed makes p the active version when the engine keeps none yet (a new
// database): the policy file or the built-in policy decides the first
// claims. Once versions exist, a p whose version is new is kept as a
// draft, to be backtested and activated by a person; seeded reports
// whether p became active.
func (s *Service) Seed(ctx context.Context, p decision.Policy) (seeded bool, err error) {
	canon, err := s.codec.Marshal(p)
	if err != nil {
		return false, err
	}
	v := Version{Version: p.Version, Status: policylab.StatusActive, Document: canon, Policy: p,
		CreatedBy: SystemActor, CreatedAt: s.clock(), ActivatedBy: SystemActor}
	v.ActivatedAt = v.CreatedAt
	if seeded, err = s.store.SeedPolicy(ctx, v); err != nil || seeded {
		return seeded, err
	}
	if _, err := s.store.Policy(ctx, p.Version); err == nil {
		return false, nil
	} else if !errors.Is(err, claimflow.ErrNotFound) {
		return false, err
	}
	v.Status, v.ActivatedBy, v.ActivatedAt = policylab.StatusDraft, "", time.Time{}
	err = s.store.CreatePolicy(ctx, v, ActionCreated)
	var ce *ConflictError
	if errors.As(err, &ce) {
		return false, nil // another process added it first
	}
	return false, err
}

// SystemActor is who seeds the first version.
const SystemActor = "system"

// List returns every version, newest first.
func (s *Service) List(ctx context.Context) ([]Version, error) {
	vs, err := s.store.Policies(ctx)
	if err != nil {
		return nil, err
	}
	for i := range vs {
		if err := s.read(&vs[i]); err != nil {
			return nil, err
		}
	}
	return vs, nil
}

// read parses v's stored document into v.Policy and writes it back as its
// file holds it: the store keeps the document as JSONB, which hands it
// back on one line with its keys reordered.
func (s *Service) read(v *Version) error {
	p, err := s.codec.Parse(v.Document)
	if err != nil {
		return fmt.Errorf("stored policy %s: %w", v.Version, err)
	}
	doc, err := s.codec.Marshal(p)
	if err != nil {
		return fmt.Errorf("stored policy %s: %w", v.Version, err)
	}
	v.Policy, v.Document = p, doc
	return nil
}

// Get returns a version and its audit trail. Errors: *claimflow.NotFoundError.
func (s *Service) Get(ctx context.Context, version string) (Version, []Change, error) {
	v, err := s.get(ctx, version)
	if err != nil {
		return Version{}, nil, err
	}
	changes, err := s.store.PolicyChanges(ctx, version)
	return v, changes, err
}

func (s *Service) get(ctx context.Context, version string) (Version, error) {
	if !validVersion(version) {
		return Version{}, &claimflow.NotFoundError{Resource: "policy", ID: version}
	}
	v, err := s.store.Policy(ctx, version)
	if err != nil {
		return Version{}, err
	}
	if err := s.read(&v); err != nil {
		return Version{}, err
	}
	return v, nil
}

func validVersion(v string) bool { return len(v) <= decision.MaxVersionLength && versionChars(v) }

func versionChars(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' && r != '_' && r != '.' {
			return false
		}
	}
	return s != ""
}

// Diff compares version with against ("" for the active one): every
// setting version changes, by its path in the document, From as against
// has it and To as version does. It returns against's version as base.
func (s *Service) Diff(ctx context.Context, version, against string) (base, v Version, d []DiffEntry, err error) {
	if v, err = s.get(ctx, version); err != nil {
		return
	}
	if against == "" {
		vs, lerr := s.store.Policies(ctx)
		if lerr != nil {
			return base, v, nil, lerr
		}
		i := slices.IndexFunc(vs, func(c Version) bool { return c.Status == policylab.StatusActive })
		if i < 0 {
			return base, v, nil, &claimflow.NotFoundError{Resource: "policy", ID: "active", Field: "against"}
		}
		against = vs[i].Version
	}
	if base, err = s.get(ctx, against); err != nil {
		// Only a version not found is the caller's "against"; any other
		// failure (the database away) stays what it is.
		if errors.Is(err, claimflow.ErrNotFound) {
			err = &claimflow.NotFoundError{Resource: "policy", ID: against, Field: "against"}
		}
		return
	}
	d, err = DiffDocuments(base.Document, v.Document)
	return
}

// Activate makes version decide new claims from now on: the active one is
// retired, both in one transaction with their audit entries. Activating
// the active version changes nothing. Errors: *claimflow.NotFoundError.
func (s *Service) Activate(ctx context.Context, v claimflow.Viewer, version string) (Version, error) {
	return s.transition(ctx, v, version, func(target Version, current []Version, actor string, at time.Time) ([]Change, error) {
		if target.Status == policylab.StatusActive {
			return nil, nil
		}
		var out []Change
		replaced := ""
		if i := slices.IndexFunc(current, func(c Version) bool { return c.Status == policylab.StatusActive }); i >= 0 {
			replaced = current[i].Version
			out = append(out, Change{Version: replaced, Action: ActionRetired, From: policylab.StatusActive.String(), To: policylab.StatusRetired.String(), Actor: actor, At: at})
		}
		return append(out, Change{Version: target.Version, Action: ActionActivated, From: target.Status.String(), To: policylab.StatusActive.String(), Replaced: replaced, Actor: actor, At: at}), nil
	})
}

// StartShadow puts version in shadow: from now on it decides every new
// claim beside the active one, recorded and never acted on. A version in
// shadow before is taken out. Errors: *claimflow.NotFoundError,
// *ConflictError (policy_active).
func (s *Service) StartShadow(ctx context.Context, v claimflow.Viewer, version string) (Version, error) {
	return s.transition(ctx, v, version, func(target Version, current []Version, actor string, at time.Time) ([]Change, error) {
		switch target.Status {
		case policylab.StatusShadow:
			return nil, nil
		case policylab.StatusActive:
			return nil, &ConflictError{Code: "policy_active", Message: fmt.Sprintf("%s is the active version: it decides every claim already", target.Version)}
		}
		var out []Change
		replaced := ""
		if i := slices.IndexFunc(current, func(c Version) bool { return c.Status == policylab.StatusShadow }); i >= 0 {
			replaced = current[i].Version
			out = append(out, Change{Version: replaced, Action: ActionShadowStopped, From: policylab.StatusShadow.String(), To: restingStatus(current[i]).String(), Actor: actor, At: at})
		}
		return append(out, Change{Version: target.Version, Action: ActionShadowStarted, From: target.Status.String(), To: policylab.StatusShadow.String(), Replaced: replaced, Actor: actor, At: at}), nil
	})
}

// StopShadow takes version out of shadow. Errors: *claimflow.NotFoundError,
// *ConflictError (not_in_shadow).
func (s *Service) StopShadow(ctx context.Context, v claimflow.Viewer, version string) (Version, error) {
	return s.transition(ctx, v, version, func(target Version, _ []Version, actor string, at time.Time) ([]Change, error) {
		if target.Status != policylab.StatusShadow {
			return nil, &ConflictError{Code: "not_in_shadow", Message: fmt.Sprintf("%s is %s, not in shadow", target.Version, target.Status)}
		}
		return []Change{{Version: target.Version, Action: ActionShadowStopped, From: policylab.StatusShadow.String(), To: restingStatus(target).String(), Actor: actor, At: at}}, nil
	})
}

// restingStatus is where a version out of shadow goes: retired if it was
// ever active, else back to draft.
func restingStatus(v Version) policylab.Status {
	if !v.ActivatedAt.IsZero() {
		return policylab.StatusRetired
	}
	return policylab.StatusDraft
}

type planner func(target Version, current []Version, actor string, at time.Time) ([]Change, error)

func (s *Service) transition(ctx context.Context, v claimflow.Viewer, version string, plan planner) (Version, error) {
	if !validVersion(version) {
		return Version{}, &claimflow.NotFoundError{Resource: "policy", ID: version}
	}
	var changes []Change
	err := s.store.Transition(ctx, func(current []Version) ([]Change, error) {
		i := slices.IndexFunc(current, func(c Version) bool { return c.Version == version })
		if i < 0 {
			return nil, &claimflow.NotFoundError{Resource: "policy", ID: version}
		}
		var err error
		changes, err = plan(current[i], current, v.String(), s.clock())
		return changes, err
	})
	if err != nil {
		return Version{}, err
	}
	for _, c := range changes {
		s.log.InfoContext(ctx, "policy version "+c.Action, "version", c.Version, "from", c.From, "to", c.To, "replaced", c.Replaced, "by", c.Actor)
	}
	if s.source != nil && len(changes) > 0 {
		if err := s.source.Refresh(ctx); err != nil {
			s.log.WarnContext(ctx, "policy source refresh after a change failed; the next poll picks it up", "error", err)
		}
	}
	return s.get(ctx, version)
}
