package validation_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/validation"
)

func TestCheckTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give     time.Time
		wantSays string // "" when taken
	}{
		{give: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
		{give: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)},
		{give: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{give: time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("E", 3600))},
		{give: time.Time{}, wantSays: "must be on or after 1970-01-01T00:00:00Z"},
		{give: time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), wantSays: "must be on or after 1970-01-01T00:00:00Z"},
		{give: time.Date(1970, 1, 1, 0, 30, 0, 0, time.FixedZone("E", 3600)), wantSays: "must be on or after 1970-01-01T00:00:00Z"},
		{give: time.Date(9999, 12, 31, 23, 59, 59, 1, time.UTC), wantSays: "must be on or before 9999-12-31T23:59:59Z"},
		{give: time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("W", -3600)), wantSays: "must be on or before 9999-12-31T23:59:59Z"},
		{give: time.Date(200000, 1, 1, 0, 0, 0, 0, time.UTC), wantSays: "must be on or before 9999-12-31T23:59:59Z"},
	}
	for _, tt := range tests {
		err := validation.CheckTime("at", tt.give)
		if tt.wantSays == "" {
			require.Nil(t, err, tt.give.String())
			continue
		}
		require.NotNil(t, err, tt.give.String())
		require.Equal(t, "at", err.Field)
		require.Equal(t, "out_of_range", err.Code)
		require.Equal(t, tt.wantSays, err.Message)
	}
}

func TestCheckDate(t *testing.T) {
	t.Parallel()
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		give     time.Time
		through  bool
		wantSays string // "" when taken
	}{
		{give: day(1970, 1, 1)},
		{give: day(1970, 1, 1), through: true},
		{give: day(9999, 12, 31)},
		{give: day(9999, 12, 30), through: true},
		{give: day(1, 1, 1), wantSays: "must be on or after 1970-01-01"},
		{give: day(1969, 12, 31), through: true, wantSays: "must be on or after 1970-01-01"},
		{give: day(9999, 12, 31), through: true, wantSays: "must be on or before 9999-12-30: the period runs to the end of the day named, which must be within the year 9999"},
		{give: day(10000, 1, 1), wantSays: "must be on or before 9999-12-31"},
	}
	for _, tt := range tests {
		err := validation.CheckDate("to", tt.give, tt.through)
		if tt.wantSays == "" {
			require.Nil(t, err, tt.give.String())
			continue
		}
		require.NotNil(t, err, tt.give.String())
		require.Equal(t, "to", err.Field)
		require.Equal(t, "out_of_range", err.Code)
		require.Equal(t, tt.wantSays, err.Message)
	}
}
