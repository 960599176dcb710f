package claimflow

import (
	"strconv"
	"strings"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
)

// Page sizes of lists: DefaultPageSize when none is asked for, at most
// MaxPageSize.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// QueueQuery is the review queue's filter as a front door received it:
// text, parsed once here for every door.
type QueueQuery struct {
	Reason, SellerID, Currency string
	// MinAmount and MaxAmount bound the claim's amount, in Currency, in
	// minor units ("1250").
	MinAmount, MaxAmount string
	Limit, Cursor        string
	// Typed says a person typed the query into a form: amounts are in
	// major units ("12.50") and the currency's case does not matter.
	Typed bool
}

// Parse returns the filter the query asks for, or every problem it has,
// each a *validation.Error naming the query's field.
func (q QueueQuery) Parse() (QueueFilter, []*validation.Error) {
	var errs []*validation.Error
	fail := func(field, code, msg string) {
		for _, e := range errs {
			if e.Field == field {
				return // one problem a field
			}
		}
		errs = append(errs, validation.New(field, code, msg))
	}
	f := QueueFilter{SellerID: strings.TrimSpace(q.SellerID), Limit: DefaultPageSize}
	if s := strings.TrimSpace(q.Reason); s != "" {
		r, err := claim.ParseReason(s)
		if err != nil {
			fail("reason", "invalid_reason", "must be counterfeit, not_as_described, damaged or not_received")
		} else {
			f.Reason = &r
		}
	}
	if f.SellerID != "" {
		if err := validation.CheckID("seller_id", f.SellerID); err != nil {
			fail("seller_id", err.Code, err.Message)
		}
	}
	if s := strings.TrimSpace(q.Currency); s != "" {
		if q.Typed {
			s = strings.ToUpper(s)
		}
		cur, err := money.ParseCurrency(s)
		if err != nil {
			fail("currency", "invalid_currency", "must be an ISO 4217 currency code such as EUR")
		}
		f.Currency = cur
	}
	for _, b := range []struct {
		field string
		text  string
		dst   **int64
	}{{"min_amount", q.MinAmount, &f.MinAmount}, {"max_amount", q.MaxAmount, &f.MaxAmount}} {
		s := strings.TrimSpace(b.text)
		if s == "" {
			continue
		}
		if f.Currency.IsZero() {
			fail("currency", "currency_required", "is needed to filter by amount: amounts are in a currency")
			continue
		}
		n, ok := q.amount(s, f.Currency)
		if !ok {
			msg := "must be a whole, non-negative number of minor units"
			if q.Typed {
				msg = "must be an amount in " + f.Currency.String() + " such as " + money.Example(f.Currency)
			}
			fail(b.field, "invalid_amount", msg)
			continue
		}
		if err := validation.CheckMaxAmount(b.field, n, f.Currency); err != nil {
			fail(b.field, err.Code, err.Message)
			continue
		}
		*b.dst = &n
	}
	if f.MinAmount != nil && f.MaxAmount != nil && *f.MinAmount > *f.MaxAmount {
		fail("min_amount", "invalid_range", "must not be more than max_amount")
	}
	if s := strings.TrimSpace(q.Limit); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			fail("limit", "invalid_limit", "must be a whole number from 1 to "+strconv.Itoa(MaxPageSize))
		}
		f.Limit = n
	}
	if s := strings.TrimSpace(q.Cursor); s != "" {
		cur, ok := ParseQueueCursor(s)
		if !ok {
			fail("cursor", "invalid_cursor", "is not a page this engine made; start from the first page")
		}
		f.After = &cur
	}
	if len(errs) > 0 {
		return QueueFilter{}, errs
	}
	return f, nil
}

// amount reads one bound in the query's units.
func (q QueueQuery) amount(s string, cur money.Currency) (int64, bool) {
	if q.Typed {
		return money.ParseMajor(s, cur)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}
