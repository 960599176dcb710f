package policyflow

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// Source is an engine process's view of the policy versions: the active
// one, the one in shadow and every version by name, swapped atomically,
// so a claim is decided wholly by one version. Run keeps it current by
// polling the audit trail's mark (one indexed read a second); an
// activation made in this process refreshes it at once.
type Source struct {
	store    Store
	codec    Codec
	fallback decision.Policy
	log      *slog.Logger
	snap     atomic.Pointer[snapshot]
	mu       sync.Mutex // one refresh at a time, so an older read never replaces a newer
}

type snapshot struct {
	mark     int64
	active   decision.Policy
	shadow   *decision.Policy
	versions map[string]decision.Policy
}

var _ claimflow.Policies = (*Source)(nil)

// NewSource returns a Source that answers fallback until its first
// Refresh finds an active version.
func NewSource(store Store, codec Codec, fallback decision.Policy, log *slog.Logger) *Source {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Source{store: store, codec: codec, fallback: fallback, log: log}
	s.snap.Store(&snapshot{mark: -1, active: fallback, versions: map[string]decision.Policy{fallback.Version: fallback}})
	return s
}

// Active implements claimflow.Policies.
func (s *Source) Active() decision.Policy { return s.snap.Load().active }

// Shadow implements claimflow.Policies.
func (s *Source) Shadow() (decision.Policy, bool) {
	sp := s.snap.Load().shadow
	if sp == nil {
		return decision.Policy{}, false
	}
	return *sp, true
}

// Version implements claimflow.Policies.
func (s *Source) Version(v string) (decision.Policy, bool) {
	p, ok := s.snap.Load().versions[v]
	return p, ok
}

// Refresh reloads the versions if any changed since the last load.
func (s *Source) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mark, err := s.store.PolicyMark(ctx)
	if err != nil {
		return err
	}
	if mark == s.snap.Load().mark {
		return nil
	}
	vs, err := s.store.Policies(ctx)
	if err != nil {
		return err
	}
	next := &snapshot{mark: mark, active: s.fallback, versions: make(map[string]decision.Policy, len(vs))}
	found := false
	for _, v := range vs {
		p, err := s.codec.Parse(v.Document)
		if err != nil {
			return fmt.Errorf("stored policy %s: %w", v.Version, err)
		}
		next.versions[v.Version] = p
		switch v.Status {
		case policylab.StatusActive:
			next.active, found = p, true
		case policylab.StatusShadow:
			next.shadow = &p
		}
	}
	if !found {
		next.versions[s.fallback.Version] = s.fallback
	}
	prev := s.snap.Swap(next)
	if prev.active.Version != next.active.Version {
		s.log.InfoContext(ctx, "policy in force", "version", next.active.Version, "previous", prev.active.Version)
	}
	return nil
}

// Run refreshes every interval until ctx ends; a failed refresh keeps the
// versions as they were and is logged.
func (s *Source) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "policy refresh failed; deciding with the versions last read", "error", err)
			}
		}
	}
}
