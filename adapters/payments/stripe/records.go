package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// listPageSize is the most refunds Stripe returns on one page.
const listPageSize = 100

// ListRefunds returns the refunds created on the account in [from, to),
// each with the balance transaction it moved (expanded), newest first as
// Stripe lists them. Stripe records creation times in whole seconds, so a
// bound with a fraction of a second is rounded up: a refund is in the
// range when its created second is, and adjacent ranges never share or
// drop a refund. A zero from lists from the account's first refund.
//
// Errors are *claimflow.PaymentError values classified as Refund's are;
// a refund in a currency this engine does not handle fails the whole
// listing (permanent CodeCurrencyMismatch naming the refund), since a
// reconciliation that silently skipped it would report it missing.
func (p *Provider) ListRefunds(ctx context.Context, from, to time.Time) ([]finance.ProviderRefund, error) {
	if to.Before(from) {
		return nil, &claimflow.PaymentError{Code: CodeInvalidRequest, Permanent: true,
			Message: fmt.Sprintf("The range [%s, %s) ends before it starts.", from.Format(time.RFC3339), to.Format(time.RFC3339))}
	}
	// Stripe takes no negative timestamps; 0 leaves the lower bound out
	// (the form encoder drops zero values), which is the same range.
	gte, lt := max(ceilUnix(from), 0), ceilUnix(to)
	if lt <= gte {
		return nil, nil
	}

	// One p.do per page rather than one around the SDK's auto-paging
	// iterator: that iterator reuses the first call's context for every
	// page, so p.do's per-call timeout would bound the whole listing and
	// cut a long one off, and the rate limiter would pace one call where
	// Stripe sees many. Paging by hand (starting_after) gives each page
	// its own limiter token, timeout and 429 retry.
	var out []finance.ProviderRefund
	cursor := ""
	for {
		var page []*stripego.Refund
		hasMore := false
		err := p.do(ctx, func(ctx context.Context) error {
			params := &stripego.RefundListParams{
				CreatedRange: &stripego.RangeQueryParams{GreaterThanOrEqual: gte, LesserThan: lt},
			}
			params.Context = ctx
			params.Limit = stripego.Int64(listPageSize)
			params.Single = true // this page only; the loop pages
			if cursor != "" {
				params.StartingAfter = stripego.String(cursor)
			}
			params.AddExpand("data.balance_transaction")
			it := p.api.Refunds.List(params) // fetches the page
			if err := it.Err(); err != nil {
				return err
			}
			list := it.RefundList()
			page, hasMore = list.Data, list.HasMore
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, re := range page {
			r, err := providerRefund(re)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		if !hasMore {
			return out, nil
		}
		// A page that says there is more but gives nothing to start after
		// (or only the cursor again) would loop forever; an incomplete list
		// would make the reconciliation report refunds missing.
		if len(page) == 0 || page[len(page)-1].ID == cursor {
			return nil, &claimflow.PaymentError{Code: CodeUnavailable,
				Message: fmt.Sprintf("Stripe's refund list has more after %q but its page gives no next cursor.", cursor)}
		}
		cursor = page[len(page)-1].ID
	}
}

// GetRefund returns one refund by id, with its balance transaction
// expanded; found is false (and the error nil) when Stripe answers 404
// resource_missing. Other errors are classified as Refund's are.
func (p *Provider) GetRefund(ctx context.Context, id string) (finance.ProviderRefund, bool, error) {
	if id == "" {
		// An empty id would make the path /v1/refunds/, Stripe's list.
		return finance.ProviderRefund{}, false, &claimflow.PaymentError{Code: CodeInvalidRequest, Permanent: true,
			Message: "A refund id is required."}
	}
	var re *stripego.Refund
	missing := false
	err := p.do(ctx, func(ctx context.Context) error {
		re, missing = nil, false
		params := &stripego.RefundParams{}
		params.Context = ctx
		params.AddExpand("balance_transaction")
		var err error
		re, err = p.api.Refunds.Get(id, params)
		// Checked here, before p.do classifies: classify folds every 4xx
		// into a permanent CodeInvalidRequest, but "no such refund" is an
		// answer, not a failure.
		var se *stripego.Error
		if errors.As(err, &se) && se.HTTPStatusCode == http.StatusNotFound && se.Code == stripego.ErrorCodeResourceMissing {
			missing = true
			return nil
		}
		return err
	})
	if err != nil {
		return finance.ProviderRefund{}, false, err
	}
	if missing {
		return finance.ProviderRefund{}, false, nil
	}
	r, err := providerRefund(re)
	if err != nil {
		return finance.ProviderRefund{}, false, err
	}
	return r, true, nil
}

// providerRefund maps a Stripe refund to the reconciliation's record. An
// unexpanded balance transaction (only its id), or one that is not a
// refund's (a fixture of stripe-mock's is a charge), leaves Balance
// zero-valued: there is nothing to compare.
func providerRefund(re *stripego.Refund) (finance.ProviderRefund, error) {
	amount, err := money.New(re.Amount, strings.ToUpper(string(re.Currency)))
	if err != nil {
		return finance.ProviderRefund{}, unknownCurrency(re.ID, "is", re.Currency, err)
	}
	r := finance.ProviderRefund{
		Provider: ProviderName,
		ID:       re.ID,
		ClaimID:  re.Metadata[MetadataClaimID],
		Status:   string(re.Status),
		Amount:   amount,
		Created:  time.Unix(re.Created, 0).UTC(),
	}
	if bt := re.BalanceTransaction; bt != nil && bt.Currency != "" &&
		(bt.Type == stripego.BalanceTransactionTypeRefund || bt.Type == stripego.BalanceTransactionTypePaymentRefund) {
		// A refund's balance transaction is a debit (negative); the
		// reconciliation wants what left the balance as a positive amount.
		r.Balance, err = money.New(-bt.Amount, strings.ToUpper(string(bt.Currency)))
		if err != nil {
			return finance.ProviderRefund{}, unknownCurrency(re.ID, "moved its balance transaction", bt.Currency, err)
		}
	}
	return r, nil
}

func unknownCurrency(refundID, what string, currency stripego.Currency, err error) error {
	return &claimflow.PaymentError{
		Code:      CodeCurrencyMismatch,
		Message:   fmt.Sprintf("Stripe refund %s %s in %q, a currency this engine does not handle.", refundID, what, currency),
		Permanent: true,
		Err:       err,
	}
}

// ceilUnix is t in Unix seconds, rounded up.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}
