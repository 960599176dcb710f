// Package standingflow keeps every seller's standing current and shows it:
// a durable job drains the changes the store noted (an order paid, a claim
// filed, decided or settled, the platform's risk score changed),
// recomputes each seller once with standing.Compute and records a change
// of level in the seller's timeline; a claim's intake then reads the
// standing in one indexed lookup.
//
//	svc := standingflow.NewService(store, time.Now)
//	n, err := svc.RefreshChanged(ctx)         // the job, every few seconds
//	view, err := svc.Get(ctx, viewer, "s_1")  // GET /v1/sellers/s_1/standing
package standingflow

import (
	"context"
	"fmt"
	"time"

	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// The refresh works in batches with a pause between them, so recomputing
// many sellers never takes a core from intake in one burst (sellers
// computed together come due together a minute later): Batch sellers,
// then Pause, at most MaxBatches batches a run (the rest wait for the
// next run, a few seconds later). That is up to 1,000 sellers a run, and
// as many stale standings besides.
const (
	Batch      = 50
	Pause      = 100 * time.Millisecond
	MaxBatches = 20
)

// MinInterval is how often, at most, one seller's standing is recomputed:
// a seller with a claim a second is counted once a minute, not sixty
// times. Changes noted meanwhile wait for the next run.
const MinInterval = time.Minute

// StaleAfter is how old a standing may grow before the refresh recomputes
// it with nothing noted: the windows roll on every day, so a seller with
// no new orders or claims still moves as old ones leave the window.
const StaleAfter = 24 * time.Hour

// Stored is a seller's standing as the store keeps it: the level and
// score a claim's intake reads, and the inputs and time they were
// computed from (standing.Compute gives the rest back from them).
type Stored struct {
	Level      standing.Level
	Score      int
	Inputs     standing.Inputs
	ComputedAt time.Time
}

// Change is one entry of a seller's standing timeline.
type Change struct {
	From, To standing.Level
	Score    int
	Why      string
	At       time.Time
}

// Store is the persistence standing needs. Each method runs in its own
// transaction.
type Store interface {
	// StandingInputs counts what the engine saw of the seller over the
	// windows that end at now and reads the platform's score. Errors:
	// *claimflow.NotFoundError for an unknown seller.
	StandingInputs(ctx context.Context, sellerID string, now time.Time) (standing.Inputs, error)
	// SaveStanding keeps st as the seller's standing and, when its level
	// differs from the one kept before (standing.LevelStandard when none
	// was), appends change to the seller's timeline; it returns the level
	// kept before.
	SaveStanding(ctx context.Context, sellerID string, st Stored, change Change) (standing.Level, error)
	// GetStanding returns the seller's kept standing; ok is false when it
	// was never computed.
	GetStanding(ctx context.Context, sellerID string) (s Stored, ok bool, err error)
	// StandingChanges returns the seller's timeline, newest first, at most
	// limit entries.
	StandingChanges(ctx context.Context, sellerID string, limit int) ([]Change, error)
	// NotedChanges returns up to limit sellers with changes noted for
	// recomputation whose standing was never computed or computed before
	// before, each with the ids of its notes. ClearNotes removes exactly
	// those notes.
	NotedChanges(ctx context.Context, before time.Time, limit int) ([]Noted, error)
	ClearNotes(ctx context.Context, ids []int64) error
	// StaleStandings returns sellers whose standing was computed before
	// before, stalest first, at most limit.
	StaleStandings(ctx context.Context, before time.Time, limit int) ([]string, error)
}

// Noted is a seller with changes noted since its standing was computed.
type Noted struct {
	SellerID string
	IDs      []int64
}

// Service keeps and shows sellers' standing.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service on store; now is the clock.
func NewService(store Store, now func() time.Time) *Service {
	return &Service{store: store, now: now}
}

// Refresh recomputes one seller's standing now and keeps it.
func (s *Service) Refresh(ctx context.Context, sellerID string) (standing.Standing, error) {
	now := s.now().UTC()
	in, err := s.store.StandingInputs(ctx, sellerID, now)
	if err != nil {
		return standing.Standing{}, err
	}
	st := standing.Compute(in, now)
	change := Change{To: st.Level, Score: st.Score, Why: Why(st), At: now}
	kept := Stored{Level: st.Level, Score: st.Score, Inputs: in, ComputedAt: now}
	if _, err := s.store.SaveStanding(ctx, sellerID, kept, change); err != nil {
		return standing.Standing{}, fmt.Errorf("save standing of %s: %w", sellerID, err)
	}
	return st, nil
}

// RefreshChanged is the durable job's work: it recomputes every seller
// with changes noted (each once, however many changes it had) unless it
// was recomputed less than MinInterval ago, then up to Batch standings
// older than StaleAfter, and returns how many it recomputed. A run that
// fails part-way leaves the notes it did not clear for the next.
func (s *Service) RefreshChanged(ctx context.Context) (int, error) {
	n := 0
	for range MaxBatches {
		noted, err := s.store.NotedChanges(ctx, s.now().UTC().Add(-MinInterval), Batch)
		if err != nil {
			return n, fmt.Errorf("noted standing changes: %w", err)
		}
		for _, nt := range noted {
			if _, err := s.Refresh(ctx, nt.SellerID); err != nil {
				return n, err
			}
			n++
			if err := s.store.ClearNotes(ctx, nt.IDs); err != nil {
				return n, fmt.Errorf("clear standing notes: %w", err)
			}
		}
		if len(noted) < Batch || !s.pause(ctx) {
			break
		}
	}
	for range MaxBatches {
		stale, err := s.store.StaleStandings(ctx, s.now().UTC().Add(-StaleAfter), Batch)
		if err != nil {
			return n, fmt.Errorf("stale standings: %w", err)
		}
		for _, id := range stale {
			if _, err := s.Refresh(ctx, id); err != nil {
				return n, err
			}
			n++
		}
		if len(stale) < Batch || !s.pause(ctx) {
			break
		}
	}
	return n, nil
}

// pause waits Pause between batches; false when ctx ended.
func (s *Service) pause(ctx context.Context) bool {
	t := time.NewTimer(Pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// View is a seller's standing as the API and the console show it.
type View struct {
	SellerID string
	Standing standing.Standing
	Inputs   standing.Inputs
	// Computed is false when the job has not yet kept a standing for the
	// seller: Standing is then computed for this answer, as the next run
	// will.
	Computed bool
	History  []Change
}

// HistoryLimit is how many timeline entries a View carries.
const HistoryLimit = 20

// Get returns the standing of sellerID for the seller themself or staff
// (agents, finance, admin). Errors: *claimflow.NotFoundError, also for a
// seller asking about another seller, or a shopper.
func (s *Service) Get(ctx context.Context, v claimflow.Viewer, sellerID string) (View, error) {
	notFound := &claimflow.NotFoundError{Resource: "seller", ID: sellerID}
	switch {
	case validation.CheckID("id", sellerID) != nil:
		return View{}, notFound
	case v.IsSeller() && v.Subject != sellerID:
		return View{}, notFound
	case !v.IsSeller() && !v.IsStaff():
		return View{}, notFound
	}
	stored, ok, err := s.store.GetStanding(ctx, sellerID)
	if err != nil {
		return View{}, err
	}
	view := View{SellerID: sellerID, Inputs: stored.Inputs, Computed: ok}
	at := stored.ComputedAt
	if !ok {
		at = s.now().UTC()
		if view.Inputs, err = s.store.StandingInputs(ctx, sellerID, at); err != nil {
			return View{}, err
		}
	}
	// Compute is a pure function: the inputs and time kept give back the
	// components and sentences of the standing the intake reads.
	view.Standing = standing.Compute(view.Inputs, at)
	if view.History, err = s.store.StandingChanges(ctx, sellerID, HistoryLimit); err != nil {
		return View{}, err
	}
	return view, nil
}

// Why is the sentence a change of level is recorded with: the component
// that moved the score most, or what would move it when none did.
func Why(st standing.Standing) string {
	best, weight := "", 0
	for _, c := range st.Components {
		w := c.Points
		if w < 0 {
			w = -w
		}
		if w > weight && c.Sentence != "" {
			best, weight = c.Sentence, w
		}
	}
	if best == "" && len(st.Next) > 0 {
		best = st.Next[0]
	}
	return best
}
