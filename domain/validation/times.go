package validation

import "time"

// The span of time the engine takes in: from the Unix epoch (nothing it
// keeps is older, and payment providers count time from it) to the last
// second a four-digit year can write (RFC 3339, and so every answer of the
// API, has no other). Instants and dates read from a request are checked
// against it, so whatever is stored or asked about can be written back.
const (
	earliestUnix = 0
	latestUnix   = 253402300799 // 9999-12-31T23:59:59Z
)

// EarliestTime is the first instant the engine takes: 1970-01-01T00:00:00Z.
func EarliestTime() time.Time { return time.Unix(earliestUnix, 0).UTC() }

// LatestTime is the last instant the engine takes: 9999-12-31T23:59:59Z.
func LatestTime() time.Time { return time.Unix(latestUnix, 0).UTC() }

// CheckTime refuses an instant outside [EarliestTime, LatestTime] with
// code out_of_range and a message that gives the bound.
//
//	if err := validation.CheckTime("paid_at", paidAt); err != nil { ... }
func CheckTime(field string, t time.Time) *Error {
	switch {
	case t.Before(EarliestTime()):
		return Newf(field, "out_of_range", "must be on or after %s", EarliestTime().Format(time.RFC3339))
	case t.After(LatestTime()):
		return Newf(field, "out_of_range", "must be on or before %s", LatestTime().Format(time.RFC3339))
	}
	return nil
}

// CheckDate refuses a calendar date (its midnight UTC, as time.DateOnly
// parses it) whose day is not within the span. through marks a date that
// names the last day of a period, which runs to that day's end: the span's
// own last day is refused too, since its end is past the span.
//
//	if err := validation.CheckDate("to", day, true); err != nil { ... }
func CheckDate(field string, day time.Time, through bool) *Error {
	first := EarliestTime()
	y, m, d := LatestTime().Date()
	last := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if through {
		last = last.AddDate(0, 0, -1)
	}
	switch {
	case day.Before(first):
		return Newf(field, "out_of_range", "must be on or after %s", first.Format(time.DateOnly))
	case day.After(last) && through:
		return Newf(field, "out_of_range", "must be on or before %s: the period runs to the end of the day named, which must be within the year %d",
			last.Format(time.DateOnly), y)
	case day.After(last):
		return Newf(field, "out_of_range", "must be on or before %s", last.Format(time.DateOnly))
	}
	return nil
}
