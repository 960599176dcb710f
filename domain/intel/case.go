package intel

import (
	"errors"
	"fmt"
	"strings"

	"github.com/claimsd/claimsd/domain/validation"
)

// Status is where a case stands in the funnel from lead to enforcement.
// Only the package's variables and ParseStatus produce one; the zero value
// is no status and every transition from or to it is refused.
type Status struct{ slug string }

// The statuses of a case.
var (
	// StatusOpen: found by clustering, not yet acted on.
	StatusOpen = Status{"open"}
	// StatusReferred: an admin has sent it to enforcement.
	StatusReferred = Status{"referred"}
	// StatusAccepted: enforcement has taken it up.
	StatusAccepted = Status{"accepted"}
	// StatusActionTaken: enforcement has acted (a takedown, a seizure, a
	// proceeding).
	StatusActionTaken = Status{"action_taken"}
	// StatusClosed: over, whatever became of it; the note says what.
	StatusClosed = Status{"closed"}
)

// Statuses lists every status in funnel order.
var Statuses = []Status{StatusOpen, StatusReferred, StatusAccepted, StatusActionTaken, StatusClosed}

// ErrUnknownStatus is returned by ParseStatus for a slug it does not know.
var ErrUnknownStatus = errors.New("unknown case status")

// ParseStatus returns the Status for its slug, e.g. "action_taken".
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses {
		if st.slug == s {
			return st, nil
		}
	}
	return Status{}, fmt.Errorf("%w: %q", ErrUnknownStatus, s)
}

// String returns the status's slug.
func (s Status) String() string { return s.slug }

// Actor is who moves a case. The zero value is no one and may move
// nothing.
type Actor int

// The actors.
const (
	// ActorAdmin runs the platform's side: refers a case, or dismisses a
	// lead that is still open.
	ActorAdmin Actor = iota + 1
	// ActorEnforcement records what became of a referred case.
	ActorEnforcement
)

// String names the actor: "admin" or "enforcement".
func (a Actor) String() string {
	switch a {
	case ActorAdmin:
		return "admin"
	case ActorEnforcement:
		return "enforcement"
	}
	return fmt.Sprintf("actor(%d)", int(a))
}

// phrase names the actor as a sentence would: "an admin", "enforcement".
func (a Actor) phrase() string {
	if a == ActorAdmin {
		return "an admin"
	}
	return a.String()
}

// transitions is the whole funnel: from → to → who may.
var transitions = map[Status]map[Status]Actor{
	StatusOpen: {
		StatusReferred: ActorAdmin,
		StatusClosed:   ActorAdmin, // a lead dismissed
	},
	StatusReferred: {
		StatusAccepted: ActorEnforcement,
		StatusClosed:   ActorEnforcement, // declined
	},
	StatusAccepted: {
		StatusActionTaken: ActorEnforcement,
		StatusClosed:      ActorEnforcement,
	},
	StatusActionTaken: {
		StatusClosed: ActorEnforcement,
	},
}

// MaxNoteLen is the longest note a transition or a verdict takes, in
// bytes.
const MaxNoteLen = 2000

// Transition checks that by may move a case from → to with note. It
// returns nil when allowed; otherwise a *validation.Error on field
// "status" with code "invalid_transition" whose message names from, to
// and who may make the move, or on field "note": at most MaxNoteLen
// bytes, and required when the case closes (why it closed is the record).
//
// An admin refers (open → referred) and may dismiss an open lead
// (open → closed); enforcement records what became of a referred case:
// referred → accepted or closed (declined), accepted → action_taken or
// closed, action_taken → closed.
//
//	if err := intel.Transition(c.Status, intel.StatusReferred, intel.ActorAdmin, note); err != nil {
//		return err
//	}
func Transition(from, to Status, by Actor, note string) *validation.Error {
	if who, ok := transitions[from][to]; !ok || who != by {
		return validation.New("status", "invalid_transition", transitionRefusal(from, to, by))
	}
	minLen := 0
	if to == StatusClosed {
		minLen = 1
	}
	return validation.CheckText("note", note, minLen, MaxNoteLen)
}

// transitionRefusal says why by may not move a case from → to, and who
// may do what instead.
func transitionRefusal(from, to Status, by Actor) string {
	if from == (Status{}) || to == (Status{}) {
		return fmt.Sprintf("cannot move a case from %q to %q: both must be one of %s", from, to, statusList())
	}
	head := fmt.Sprintf("%s cannot move a case from %s to %s", by.phrase(), from, to)
	if who, ok := transitions[from][to]; ok {
		return fmt.Sprintf("%s: only %s may", head, who.phrase())
	}
	moves := transitions[from]
	if len(moves) == 0 {
		return fmt.Sprintf("%s: a %s case does not move", head, from)
	}
	var may []string
	for _, st := range Statuses { // in funnel order, so the sentence is stable
		if who, ok := moves[st]; ok {
			may = append(may, fmt.Sprintf("%s (by %s)", st, who.phrase()))
		}
	}
	return fmt.Sprintf("%s: from %s a case may move only to %s", head, from, strings.Join(may, " or "))
}

func statusList() string {
	s := make([]string, len(Statuses))
	for i, st := range Statuses {
		s[i] = st.slug
	}
	return strings.Join(s, ", ")
}
