package console

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/standing"
)

// standingMeans says, to the seller, what their standing does under the
// policy in force.
func standingMeans(l standing.Level, protected bool) string {
	switch {
	case protected:
		return "Your record earns you protection: when a claim against you is refunded, the platform carries the cost and you are charged only if you do not contest it in time or an agent upholds the charge."
	case l == standing.LevelWatch:
		return "Some claims against you give reason to look closer; claims against you are refunded and charged to you as usual."
	case l == standing.LevelHighRisk:
		return "Counterfeits confirmed against you, or the platform's rating, mean shoppers' claims against you are refunded instantly up to a higher amount."
	}
	return "Claims against you are refunded as the policy says and charged to you; you may contest each charge."
}

// funcs are the helpers every template may use.
var funcs = template.FuncMap{
	"money":    formatMoney,
	"moneys":   formatMoneys,
	"when":     formatWhen,
	"isoTime":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"words":    words,
	"until":    formatUntil,
	"fieldID":  func(form, field string) string { return form + "-" + strings.ReplaceAll(field, "_", "-") },
	"errorFor": func(errs map[string]string, field string) string { return errs[field] },
	"valueOf":  func(vals map[string]string, field string) string { return vals[field] },
	"field":    newField,
	// lineMoney is a counterfeit line's amount as money.
	"lineMoney": lineMoney,
	// formKey is a new idempotency key for a form as it is rendered: a
	// second press sends the same key, and the edge answers it as the
	// first, changing nothing again.
	"formKey": newSessionID,
	// fileList is the argument of the "evidencefiles" template.
	"fileList": func(files []fileView, staff bool) any {
		return struct {
			Files []fileView
			Staff bool
		}{files, staff}
	},
	// policyStatus names a policy version's status.
	"policyStatus": func(s fmt.Stringer) string { return policyStatusLabel(s.String()) },
	// period and filters describe a policy backtest's claims.
	"period":  periodLabel,
	"filters": filtersView,
	"dictHistory": func(h historyView, who string) any {
		return struct {
			H   historyView
			Who string
		}{h, who}
	},
}

// fieldView is one form field as a template renders it: its id, label,
// value as typed, hint and error.
type fieldView struct {
	ID, Name, Label, Hint, Value, Error string
}

// DescribedBy lists the ids of the hint and error that describe the field.
func (f fieldView) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// newField builds a field of form (an id prefix) named name.
func newField(form, name, label, hint string, vals, errs map[string]string) fieldView {
	return fieldView{ID: form + "-" + strings.ReplaceAll(name, "_", "-"), Name: name, Label: label, Hint: hint,
		Value: vals[name], Error: errs[name]}
}

// formatMoney writes an amount with its decimal point and currency, e.g.
// "200.00 EUR", from integer minor units.
func formatMoney(m money.Money) string {
	if m.Currency().IsZero() {
		return "—"
	}
	return m.String()
}

// formatMoneys writes amounts in several currencies, "none" for none.
func formatMoneys(ms []money.Money) string {
	if len(ms) == 0 {
		return "none"
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = formatMoney(m)
	}
	return strings.Join(parts, ", ")
}

// formatWhen writes an instant in UTC, to the minute; "—" for none.
func formatWhen(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// formatUntil says how far d is from now in hours or days, and whether
// it has passed: "in 5 h", "3 d overdue".
func formatUntil(d, now time.Time) string {
	if d.IsZero() {
		return ""
	}
	left := d.Sub(now)
	span := left
	if span < 0 {
		span = -span
	}
	var s string
	switch {
	case span < time.Hour:
		s = fmt.Sprintf("%d min", int(span.Minutes()))
	case span < 48*time.Hour:
		s = fmt.Sprintf("%d h", int(span.Hours()))
	default:
		s = fmt.Sprintf("%d d", int(span.Hours()/24))
	}
	if left < 0 {
		return s + " overdue"
	}
	return "in " + s
}

// words turns a slug into words: "refund_failed" → "refund failed".
func words(slug string) string { return strings.ReplaceAll(slug, "_", " ") }

// fieldLabels are the form fields as their labels name them.
var fieldLabels = map[string]string{
	"action":      "Decision",
	"reason_code": "Reason shown to the shopper",
	"note":        "Note",
	"version":     "Version",
	"outcome":     "Outcome",
	"reason":      "Claim reason",
	"seller_id":   "Seller",
	"currency":    "Currency",
	"min_amount":  "Minimum amount",
	"max_amount":  "Maximum amount",
	"cursor":      "Page",
	"limit":       "Rows per page",
}

func fieldLabel(field string) string {
	if l, ok := fieldLabels[field]; ok {
		return l
	}
	if field == "" {
		return "The request"
	}
	return strings.ToUpper(field[:1]) + words(field[1:])
}
