package validation

import "github.com/claimsd/claimsd/domain/money"

// CheckMaxAmount refuses an amount of minor units of cur above
// money.MaxAmount(cur), the largest single amount the engine accepts, with
// code "amount_too_large" on field. Whether zero or a negative amount is
// allowed is the caller's rule.
//
//	if err := validation.CheckMaxAmount("amount", p.Amount, cur); err != nil {
//		return nil, err
//	}
func CheckMaxAmount(field string, amount int64, cur money.Currency) *Error {
	if amount <= money.MaxAmount(cur) {
		return nil
	}
	return Newf(field, "amount_too_large", "must be at most %s (%d minor units), the largest amount the engine accepts",
		money.Max(cur), money.MaxAmount(cur))
}
