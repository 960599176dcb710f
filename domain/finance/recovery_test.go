package finance_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
)

var recordedAt = time.Date(2025, 3, 10, 9, 30, 0, 0, time.FixedZone("CET", 3600))

func TestParseRecoveryMethod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give string
		want finance.RecoveryMethod
	}{
		{give: "payout_netting", want: finance.RecoveryPayoutNetting},
		{give: "transfer_reversal", want: finance.RecoveryTransferReversal},
		{give: "payment_received", want: finance.RecoveryPaymentReceived},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			t.Parallel()
			got, err := finance.ParseRecoveryMethod(tt.give)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.give, got.String())
		})
	}
	require.Len(t, finance.RecoveryMethods, len(tests))
}

func TestParseRecoveryMethodRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give string
		want string // the error's code; the field is always "method"
	}{
		{give: "", want: "required"},
		{give: "unknown", want: "invalid_method"},
		{give: "PAYOUT_NETTING", want: "invalid_method"},
		{give: " payout_netting", want: "invalid_method"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			t.Parallel()
			got, err := finance.ParseRecoveryMethod(tt.give)
			var ve *validation.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "method", ve.Field)
			require.Equal(t, tt.want, ve.Code)
			require.Equal(t, finance.RecoveryMethod{}, got)
		})
	}
}

func TestRecoveryMethodAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give finance.RecoveryMethod
		want ledger.Account
	}{
		{give: finance.RecoveryPayoutNetting, want: ledger.PayoutsNetted},
		{give: finance.RecoveryTransferReversal, want: ledger.ProviderCash("stripe")},
		{give: finance.RecoveryPaymentReceived, want: ledger.PaymentsReceived},
	}
	for _, tt := range tests {
		t.Run(tt.give.String(), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.give.Account())
		})
	}
}

// recoveryArgs are NewRecovery's arguments; valid() gives a valid set.
type recoveryArgs struct {
	id, sellerID    string
	amount          money.Money
	method          finance.RecoveryMethod
	reference, note string
	by              string
	at              time.Time
}

func valid() recoveryArgs {
	return recoveryArgs{id: "rec_1", sellerID: "sel_1", amount: euros(5000), method: finance.RecoveryPayoutNetting,
		reference: "po_123", note: "netted from the March payout", by: "agt_ana", at: recordedAt}
}

func (a recoveryArgs) recovery() (finance.Recovery, error) {
	return finance.NewRecovery(a.id, a.sellerID, a.amount, a.method, a.reference, a.note, a.by, a.at)
}

func newRecovery(t *testing.T, a recoveryArgs) finance.Recovery {
	t.Helper()
	r, err := a.recovery()
	require.NoError(t, err)
	return r
}

func TestNewRecovery(t *testing.T) {
	t.Parallel()
	got := newRecovery(t, valid())
	require.Equal(t, finance.Recovery{ID: "rec_1", SellerID: "sel_1", Amount: euros(5000), Method: finance.RecoveryPayoutNetting,
		Reference: "po_123", Note: "netted from the March payout", RecordedBy: "agt_ana",
		RecordedAt: time.Date(2025, 3, 10, 8, 30, 0, 0, time.UTC)}, got)
	require.Equal(t, time.UTC, got.RecordedAt.Location())
	require.Equal(t, "recovery/rec_1", got.LedgerKey())
	require.Equal(t, "payout_netting po_123: netted from the March payout", got.Description())
}

func TestNewRecoveryAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give func(*recoveryArgs)
	}{
		{name: "no note", give: func(a *recoveryArgs) { a.note = "" }},
		{name: "reference at the limit", give: func(a *recoveryArgs) { a.reference = strings.Repeat("r", finance.MaxReference) }},
		{name: "note at the limit", give: func(a *recoveryArgs) { a.note = strings.Repeat("n", finance.MaxNote) }},
		{name: "one minor unit", give: func(a *recoveryArgs) { a.amount = euros(1) }},
		{name: "the largest amount", give: func(a *recoveryArgs) { a.amount = money.Max(a.amount.Currency()) }},
		{name: "seller id of every allowed character", give: func(a *recoveryArgs) { a.sellerID = "Sel-1_a.b:c" }},
		{name: "each method", give: func(a *recoveryArgs) { a.method = finance.RecoveryPaymentReceived }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := valid()
			tt.give(&a)
			got := newRecovery(t, a)
			require.Equal(t, a.reference, got.Reference)
			require.Equal(t, a.note, got.Note)
			require.Equal(t, a.amount, got.Amount)
			require.Equal(t, a.method, got.Method)
		})
	}

	noNote := valid()
	noNote.note = ""
	require.Equal(t, "payout_netting po_123", newRecovery(t, noNote).Description())
}

func TestNewRecoveryRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give func(*recoveryArgs)
		want string // the field named
	}{
		{name: "seller id missing", give: func(a *recoveryArgs) { a.sellerID = "" }, want: "seller_id"},
		{name: "seller id with a space", give: func(a *recoveryArgs) { a.sellerID = "sel 1" }, want: "seller_id"},
		{name: "seller id too long", give: func(a *recoveryArgs) { a.sellerID = strings.Repeat("s", 65) }, want: "seller_id"},
		{name: "currency missing", give: func(a *recoveryArgs) { a.amount = money.Money{} }, want: "currency"},
		{name: "amount zero", give: func(a *recoveryArgs) { a.amount = euros(0) }, want: "amount"},
		{name: "amount negative", give: func(a *recoveryArgs) { a.amount = euros(-1) }, want: "amount"},
		{name: "amount above the maximum", give: func(a *recoveryArgs) { a.amount = euros(money.Max(a.amount.Currency()).Amount() + 1) }, want: "amount"},
		{name: "largest int64 amount", give: func(a *recoveryArgs) { a.amount = euros(math.MaxInt64) }, want: "amount"},
		{name: "method missing", give: func(a *recoveryArgs) { a.method = finance.RecoveryMethod{} }, want: "method"},
		{name: "reference missing", give: func(a *recoveryArgs) { a.reference = "" }, want: "reference"},
		{name: "reference blank", give: func(a *recoveryArgs) { a.reference = " \t\n" }, want: "reference"},
		{name: "reference too long", give: func(a *recoveryArgs) { a.reference = strings.Repeat("r", finance.MaxReference+1) }, want: "reference"},
		{name: "reference with NUL", give: func(a *recoveryArgs) { a.reference = "po\x00123" }, want: "reference"},
		{name: "note too long", give: func(a *recoveryArgs) { a.note = strings.Repeat("n", finance.MaxNote+1) }, want: "note"},
		{name: "note with NUL", give: func(a *recoveryArgs) { a.note = "netted\x00" }, want: "note"},
		{name: "note not UTF-8", give: func(a *recoveryArgs) { a.note = "netted \xff" }, want: "note"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := valid()
			tt.give(&a)
			got, err := a.recovery()
			var ve *validation.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tt.want, ve.Field)
			require.NotEmpty(t, ve.Code)
			require.Equal(t, finance.Recovery{}, got)
		})
	}
}

func TestRecoveryCheck(t *testing.T) {
	t.Parallel()
	owed := []money.Money{money.Of(1_000_000, usd), euros(5000), money.Of(-300, gbp)}
	tests := []struct {
		name string
		give money.Money // the recovery's amount
	}{
		{name: "all that is owed", give: euros(5000)},
		{name: "less than is owed", give: euros(1)},
		{name: "all that is owed in another currency", give: money.Of(1_000_000, usd)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := valid()
			a.amount = tt.give
			require.NoError(t, newRecovery(t, a).Check(owed))
		})
	}
}

func TestRecoveryCheckRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give money.Money   // the recovery's amount
		owed []money.Money // the seller's receivable balances
	}{
		{name: "one minor unit more than owed", give: euros(5001), owed: []money.Money{euros(5000)}},
		{name: "other currencies' balances do not count", give: euros(5001), owed: []money.Money{money.Of(1_000_000, usd), euros(5000), money.Of(9_000_000, jpy)}},
		{name: "owes nothing in the currency", give: money.Of(1, gbp), owed: []money.Money{euros(5000)}},
		{name: "owes nothing at all", give: euros(1), owed: nil},
		{name: "balance zero", give: euros(1), owed: []money.Money{euros(0)}},
		{name: "seller is owed money", give: money.Of(1, gbp), owed: []money.Money{money.Of(-300, gbp)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := valid()
			a.amount = tt.give
			err := newRecovery(t, a).Check(tt.owed)
			var re *finance.RefusedError
			require.ErrorAs(t, err, &re)
			require.Equal(t, "over_recovery", re.Code)
			require.NotEmpty(t, re.Message)
			require.Equal(t, "over_recovery: "+re.Message, err.Error())
		})
	}
}

func TestRecoveryTransaction(t *testing.T) {
	t.Parallel()
	for _, method := range finance.RecoveryMethods {
		t.Run(method.String(), func(t *testing.T) {
			t.Parallel()
			a := valid()
			a.method = method
			a.amount = money.Of(1234, usd)
			tx, err := newRecovery(t, a).Transaction()
			require.NoError(t, err)
			require.Equal(t, "recovery/rec_1", tx.Key())
			require.Equal(t, ledger.KindSellerRecovery, tx.Kind())

			postings := tx.Postings()
			require.ElementsMatch(t, []ledger.Posting{
				{Account: method.Account(), Amount: money.Of(1234, usd)},                           // debited
				{Account: ledger.Account("seller_receivable:sel_1"), Amount: money.Of(-1234, usd)}, // credited
			}, postings)
			var sum int64
			for _, p := range postings {
				require.Equal(t, usd, p.Amount.Currency())
				sum += p.Amount.Amount()
			}
			require.Zero(t, sum, "balanced")
		})
	}
}
