package export

import (
	"strconv"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
)

// Cell makes text from outside (people's notes and names, ids the
// platform or a provider chose, statuses read back from the database) safe
// to open in a spreadsheet: text that starts with a character a
// spreadsheet reads as the start of a formula (= + - @, tab, carriage
// return) gets a leading apostrophe, which the spreadsheet shows as text
// (OWASP's advice on CSV injection). Numbers and times the engine formats
// itself are written as they are. Quoting a field that holds a comma, a
// quote or a line break is the CSV writer's (RFC 4180).
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// Time writes an instant in UTC as RFC 3339; "" for none.
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Minor writes an amount's minor units: 1999 for 19.99 EUR.
func Minor(m money.Money) string { return strconv.FormatInt(m.Amount(), 10) }

// Filename keeps a download's name to letters, digits and - _ . (any
// other character becomes _), so it is safe in a Content-Disposition
// header and on any file system.
func Filename(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// FileDate names a download after its period: 2026-11-01_2026-11-30 for
// whole UTC days (the last day included), 20261101T120000Z_20261102T000000Z
// otherwise.
func FileDate(p finance.Period) string {
	from, to := p.From.UTC(), p.To.UTC()
	if finance.Day(from).From.Equal(from) && finance.Day(to).From.Equal(to) {
		return from.Format(time.DateOnly) + "_" + to.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	return from.Format("20060102T150405Z") + "_" + to.Format("20060102T150405Z")
}
