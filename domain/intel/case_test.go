package intel_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/intel"
)

func TestParseStatus(t *testing.T) {
	t.Parallel()
	for _, st := range intel.Statuses {
		got, err := intel.ParseStatus(st.String())
		require.NoError(t, err)
		require.Equal(t, st, got)
	}
	require.Equal(t, []string{"open", "referred", "accepted", "action_taken", "closed"},
		[]string{intel.StatusOpen.String(), intel.StatusReferred.String(), intel.StatusAccepted.String(),
			intel.StatusActionTaken.String(), intel.StatusClosed.String()})
	for _, give := range []string{"", "Open", "done", "action-taken"} {
		_, err := intel.ParseStatus(give)
		require.ErrorIs(t, err, intel.ErrUnknownStatus, give)
	}
}

func TestTransitionMatrix(t *testing.T) {
	t.Parallel()
	type move struct {
		from, to intel.Status
		by       intel.Actor
	}
	allowed := map[move]bool{
		{intel.StatusOpen, intel.StatusReferred, intel.ActorAdmin}:              true,
		{intel.StatusOpen, intel.StatusClosed, intel.ActorAdmin}:                true,
		{intel.StatusReferred, intel.StatusAccepted, intel.ActorEnforcement}:    true,
		{intel.StatusReferred, intel.StatusClosed, intel.ActorEnforcement}:      true,
		{intel.StatusAccepted, intel.StatusActionTaken, intel.ActorEnforcement}: true,
		{intel.StatusAccepted, intel.StatusClosed, intel.ActorEnforcement}:      true,
		{intel.StatusActionTaken, intel.StatusClosed, intel.ActorEnforcement}:   true,
	}
	statuses := append([]intel.Status{{}}, intel.Statuses...)
	actors := []intel.Actor{0, intel.ActorAdmin, intel.ActorEnforcement}
	seen := 0
	for _, from := range statuses {
		for _, to := range statuses {
			for _, by := range actors {
				err := intel.Transition(from, to, by, "what happened")
				name := from.String() + "→" + to.String() + " by " + by.String()
				if allowed[move{from, to, by}] {
					require.Nil(t, err, name)
					seen++
					continue
				}
				require.NotNil(t, err, name)
				require.Equal(t, "status", err.Field, name)
				require.Equal(t, "invalid_transition", err.Code, name)
				require.Contains(t, err.Message, from.String(), name)
				require.Contains(t, err.Message, to.String(), name)
			}
		}
	}
	require.Equal(t, len(allowed), seen)
}

func TestTransitionMessages(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		giveFrom, giveTo intel.Status
		giveBy           intel.Actor
		want             string
	}{
		{
			giveFrom: intel.StatusReferred, giveTo: intel.StatusAccepted, giveBy: intel.ActorAdmin,
			want: "an admin cannot move a case from referred to accepted: only enforcement may",
		},
		{
			giveFrom: intel.StatusOpen, giveTo: intel.StatusReferred, giveBy: intel.ActorEnforcement,
			want: "enforcement cannot move a case from open to referred: only an admin may",
		},
		{
			giveFrom: intel.StatusOpen, giveTo: intel.StatusAccepted, giveBy: intel.ActorAdmin,
			want: "an admin cannot move a case from open to accepted: from open a case may move only to referred (by an admin) or closed (by an admin)",
		},
		{
			giveFrom: intel.StatusClosed, giveTo: intel.StatusOpen, giveBy: intel.ActorAdmin,
			want: "an admin cannot move a case from closed to open: a closed case does not move",
		},
	} {
		err := intel.Transition(tt.giveFrom, tt.giveTo, tt.giveBy, "n")
		require.NotNil(t, err)
		require.Equal(t, tt.want, err.Message)
	}
}

func TestTransitionNote(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		giveTo   intel.Status
		giveBy   intel.Actor
		giveFrom intel.Status
		giveNote string
		wantCode string // "" when taken
	}{
		{name: "closing needs a note", giveFrom: intel.StatusOpen, giveTo: intel.StatusClosed, giveBy: intel.ActorAdmin, wantCode: "required"},
		{name: "a blank note is none", giveFrom: intel.StatusReferred, giveTo: intel.StatusClosed, giveBy: intel.ActorEnforcement, giveNote: " \n\t", wantCode: "required"},
		{name: "closing with a note", giveFrom: intel.StatusActionTaken, giveTo: intel.StatusClosed, giveBy: intel.ActorEnforcement, giveNote: "seized"},
		{name: "referring needs none", giveFrom: intel.StatusOpen, giveTo: intel.StatusReferred, giveBy: intel.ActorAdmin},
		{name: "2000 bytes", giveFrom: intel.StatusOpen, giveTo: intel.StatusReferred, giveBy: intel.ActorAdmin, giveNote: strings.Repeat("n", 2000)},
		{name: "2001 bytes", giveFrom: intel.StatusOpen, giveTo: intel.StatusReferred, giveBy: intel.ActorAdmin, giveNote: strings.Repeat("n", 2001), wantCode: "too_long"},
		{name: "2001 bytes closing", giveFrom: intel.StatusAccepted, giveTo: intel.StatusClosed, giveBy: intel.ActorEnforcement, giveNote: strings.Repeat("n", 2001), wantCode: "too_long"},
		{name: "not text", giveFrom: intel.StatusOpen, giveTo: intel.StatusReferred, giveBy: intel.ActorAdmin, giveNote: "a\x00b", wantCode: "invalid_text"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := intel.Transition(tt.giveFrom, tt.giveTo, tt.giveBy, tt.giveNote)
			if tt.wantCode == "" {
				require.Nil(t, err)
				return
			}
			require.NotNil(t, err)
			require.Equal(t, "note", err.Field)
			require.Equal(t, tt.wantCode, err.Code)
		})
	}
}
