package finance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/money"
)

// ItemKind says whether a reconciled item matched on all three sides, or
// how it did not.
type ItemKind string

// Item kinds: matched, and the exceptions.
const (
	KindMatched ItemKind = "matched"
	// The claim says it was refunded; the provider has no refund for it.
	KindMissingAtProvider ItemKind = "missing_at_provider"
	// The claim was refunded and the provider agrees; the ledger has no
	// refund posting for it.
	KindMissingInLedger ItemKind = "missing_in_ledger"
	// The provider made a refund naming a claim this engine does not have.
	KindMissingClaim ItemKind = "missing_claim"
	// Two sides disagree on the amount.
	KindAmountMismatch ItemKind = "amount_mismatch"
	// Two sides disagree on the currency.
	KindCurrencyMismatch ItemKind = "currency_mismatch"
	// The sides disagree on whether the money moved (e.g. refunded here,
	// failed at the provider).
	KindStatusMismatch ItemKind = "status_mismatch"
	// The provider refunded one claim more than once.
	KindDuplicateRefund ItemKind = "duplicate_refund"
)

// ItemKinds lists every kind, matched first.
var ItemKinds = []ItemKind{
	KindMatched, KindMissingAtProvider, KindMissingInLedger, KindMissingClaim,
	KindAmountMismatch, KindCurrencyMismatch, KindStatusMismatch, KindDuplicateRefund,
}

// IsException reports whether the kind is anything but matched.
func (k ItemKind) IsException() bool { return k != KindMatched }

// ParseItemKind returns the kind for its name; ok is false for an unknown
// one.
func ParseItemKind(s string) (ItemKind, bool) {
	k := ItemKind(s)
	return k, slices.Contains(ItemKinds, k)
}

// Provider refund statuses, as providers report them.
const (
	RefundSucceeded      = "succeeded"
	RefundPending        = "pending"
	RefundRequiresAction = "requires_action"
	RefundFailed         = "failed"
	RefundCanceled       = "canceled"
)

// ClaimRefund is the engine's record of a claim's refund.
type ClaimRefund struct {
	ClaimID  string
	Status   claim.Status
	Provider string
	RefundID string // "" until the provider answered
	Amount   money.Money
}

// expectation is what the claim's status says the provider and ledger
// should show.
type expectation int

const (
	expectNothing  expectation = iota // no money moved (yet)
	expectPending                     // the provider holds a pending refund
	expectRefunded                    // the provider refunded, the ledger posted it
)

func (c ClaimRefund) expects() expectation {
	switch c.Status {
	case claim.StatusRefunded, claim.StatusSellerCharged, claim.StatusClosed:
		return expectRefunded
	case claim.StatusRefundPending:
		return expectPending
	}
	return expectNothing
}

// ProviderRefund is a payment provider's record of one refund.
type ProviderRefund struct {
	Provider string
	ID       string
	ClaimID  string // from the refund's metadata; "" when it names none
	Status   string // RefundSucceeded, RefundPending, ...
	Amount   money.Money
	Created  time.Time
	// Balance is what the refund took from the platform's balance at the
	// provider (a positive amount), when the provider reports it (Stripe's
	// balance transaction); zero-valued when unknown. It may be in another
	// currency after conversion.
	Balance money.Money
}

func (p ProviderRefund) moved() bool {
	return p.Status == RefundSucceeded
}

func (p ProviderRefund) pending() bool {
	return p.Status == RefundPending || p.Status == RefundRequiresAction
}

// LedgerRefund is what the ledger paid out through a provider for a claim:
// its refund postings less their reversals, in one currency, as a positive
// amount.
type LedgerRefund struct {
	ClaimID  string
	Provider string
	Net      money.Money
}

// Item is one line of a reconciliation: a claim (or a provider refund with
// no claim) and how its three sides compare. A claim with several
// disagreements gives one item per disagreement.
type Item struct {
	Kind     ItemKind
	ClaimID  string
	Provider string
	RefundID string
	// Each side as found; a zero Money where the side has nothing.
	ClaimStatus    string
	ClaimAmount    money.Money
	ProviderStatus string
	ProviderAmount money.Money
	LedgerAmount   money.Money
	Detail         string
}

// Reconcile matches the engine's claims, the provider's refunds and the
// ledger's refund postings, claim by claim, and returns one matched item
// per claim that agrees on all three sides and one item per exception
// otherwise, ordered by claim id (provider refunds with no claim last, by
// refund id). Provider refunds that name no claim at all are not the
// engine's (another system's refunds on the same account) and are left
// out; refunds that name a claim the engine does not have are
// KindMissingClaim.
func Reconcile(claims []ClaimRefund, refunds []ProviderRefund, ledgers []LedgerRefund) []Item {
	byClaim := map[string][]ProviderRefund{}
	known := map[string]bool{}
	for _, c := range claims {
		known[c.ClaimID] = true
	}
	var orphans []ProviderRefund
	for _, r := range refunds {
		switch {
		case r.ClaimID == "":
		case known[r.ClaimID]:
			byClaim[r.ClaimID] = append(byClaim[r.ClaimID], r)
		default:
			orphans = append(orphans, r)
		}
	}
	ledgerOf := map[string][]LedgerRefund{}
	for _, l := range ledgers {
		if !l.Net.IsZero() {
			ledgerOf[l.ClaimID] = append(ledgerOf[l.ClaimID], l)
		}
	}

	sorted := slices.Clone(claims)
	slices.SortFunc(sorted, func(a, b ClaimRefund) int { return strings.Compare(a.ClaimID, b.ClaimID) })
	var out []Item
	for _, c := range sorted {
		out = append(out, reconcileClaim(c, byClaim[c.ClaimID], ledgerOf[c.ClaimID])...)
	}
	slices.SortFunc(orphans, func(a, b ProviderRefund) int { return strings.Compare(a.ID, b.ID) })
	for _, r := range orphans {
		out = append(out, Item{
			Kind: KindMissingClaim, ClaimID: r.ClaimID, Provider: r.Provider, RefundID: r.ID,
			ProviderStatus: r.Status, ProviderAmount: r.Amount,
			Detail: fmt.Sprintf("%s refund %s names claim %s, which this engine does not have", r.Provider, r.ID, r.ClaimID),
		})
	}
	return out
}

func reconcileClaim(c ClaimRefund, refunds []ProviderRefund, ledgers []LedgerRefund) []Item {
	base := Item{ClaimID: c.ClaimID, Provider: c.Provider, RefundID: c.RefundID,
		ClaimStatus: c.Status.String(), ClaimAmount: c.Amount}
	// The provider's refund the claim records, else its latest.
	var shown *ProviderRefund
	var moved []ProviderRefund
	pending := false
	for i, r := range refunds {
		switch {
		case shown == nil, r.ID == c.RefundID:
			shown = &refunds[i]
		case shown.ID != c.RefundID && r.Created.After(shown.Created):
			shown = &refunds[i]
		}
		if r.moved() {
			moved = append(moved, r)
		}
		pending = pending || r.pending()
	}
	if shown != nil {
		base.ProviderStatus, base.ProviderAmount = shown.Status, shown.Amount
		if base.Provider == "" {
			base.Provider = shown.Provider
		}
		if base.RefundID == "" {
			base.RefundID = shown.ID
		}
	}
	ledgerNet := money.Money{}
	if len(ledgers) == 1 {
		ledgerNet = ledgers[0].Net
	}
	base.LedgerAmount = ledgerNet
	if base.Provider == "" && len(ledgers) > 0 {
		base.Provider = ledgers[0].Provider
	}

	var out []Item
	exception := func(k ItemKind, format string, args ...any) {
		it := base
		it.Kind, it.Detail = k, fmt.Sprintf(format, args...)
		out = append(out, it)
	}

	switch c.expects() {
	case expectRefunded:
		switch {
		case len(refunds) == 0:
			exception(KindMissingAtProvider, "the claim is %s with refund %s, but %s has no refund for it",
				c.Status, c.RefundID, c.Provider)
		case len(moved) == 0:
			exception(KindStatusMismatch, "the claim is %s, but %s reports refund %s %s",
				c.Status, shown.Provider, shown.ID, shown.Status)
		case len(moved) > 1:
			exception(KindDuplicateRefund, "%s refunded this claim %d times (%s)",
				moved[0].Provider, len(moved), refundIDs(moved))
		default:
			compareAmounts(c.Amount, moved[0].Amount, "the claim", moved[0].Provider+" refund "+moved[0].ID, exception)
			if moved[0].ID != c.RefundID {
				exception(KindStatusMismatch, "the claim records refund %s, but %s refunded it as %s",
					c.RefundID, moved[0].Provider, moved[0].ID)
			}
			if b := moved[0].Balance; !b.Currency().IsZero() && b.Currency() == moved[0].Amount.Currency() && b != moved[0].Amount {
				exception(KindAmountMismatch, "%s refund %s is for %s but took %s from the balance",
					moved[0].Provider, moved[0].ID, moved[0].Amount, b)
			}
		}
		switch {
		case len(ledgers) == 0:
			exception(KindMissingInLedger, "the claim is %s, but the ledger has no refund posting for it", c.Status)
		case len(ledgers) > 1:
			exception(KindCurrencyMismatch, "the ledger posts the claim's refund in %d parts, by currency or provider (%s)", len(ledgers), ledgerNets(ledgers))
		default:
			compareAmounts(c.Amount, ledgerNet, "the claim", "the ledger", exception)
		}
	case expectPending:
		switch {
		case len(refunds) == 0:
			exception(KindMissingAtProvider, "the claim's refund %s is pending, but %s has no refund for it",
				c.RefundID, c.Provider)
		case len(moved) > 0:
			exception(KindStatusMismatch, "the claim's refund is pending, but %s reports refund %s succeeded",
				moved[0].Provider, moved[0].ID)
		case !pending:
			exception(KindStatusMismatch, "the claim's refund is pending, but %s reports refund %s %s",
				shown.Provider, shown.ID, shown.Status)
		}
		if len(ledgers) > 0 {
			exception(KindStatusMismatch, "the claim's refund is pending, but the ledger posts %s paid out", ledgerNets(ledgers))
		}
	default:
		if len(moved) > 0 {
			exception(KindStatusMismatch, "the claim is %s, but %s reports refund %s succeeded",
				c.Status, moved[0].Provider, moved[0].ID)
		}
		if len(ledgers) > 0 {
			exception(KindStatusMismatch, "the claim is %s, but the ledger posts %s paid out", c.Status, ledgerNets(ledgers))
		}
	}
	if len(out) == 0 {
		it := base
		it.Kind = KindMatched
		out = append(out, it)
	}
	return out
}

// compareAmounts adds a currency or amount exception when want and got
// differ.
func compareAmounts(want, got money.Money, wantSide, gotSide string, exception func(ItemKind, string, ...any)) {
	switch {
	case want.Currency() != got.Currency():
		exception(KindCurrencyMismatch, "%s is in %s, %s in %s", wantSide, want.Currency(), gotSide, got.Currency())
	case want != got:
		exception(KindAmountMismatch, "%s is for %s, %s for %s", wantSide, want, gotSide, got)
	}
}

func refundIDs(rs []ProviderRefund) string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return strings.Join(ids, ", ")
}

func ledgerNets(ls []LedgerRefund) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = l.Net.String()
	}
	return strings.Join(s, ", ")
}

// KindTotals sum a reconciliation's amounts in one currency: what the
// claims say was refunded, what the provider refunded and what the ledger
// paid out, over the claims and refunds it covered.
type KindTotals struct {
	Currency money.Currency
	Claims   int64
	Provider int64
	Ledger   int64
}

// Summary counts a reconciliation's items.
type Summary struct {
	Matched    int
	Exceptions map[ItemKind]int
	Totals     []KindTotals
}

// Summarize counts items by kind and sums, per currency, the refunded
// amounts each side shows. The claim and ledger sides are counted once per
// claim, however many items it has. Errors: money.ErrOverflow when a
// side's total leaves the int64 range (never a wrapped total).
func Summarize(claims []ClaimRefund, refunds []ProviderRefund, ledgers []LedgerRefund, items []Item) (Summary, error) {
	s := Summary{Exceptions: map[ItemKind]int{}}
	for _, it := range items {
		if it.Kind == KindMatched {
			s.Matched++
		} else {
			s.Exceptions[it.Kind]++
		}
	}
	totals := map[string]*KindTotals{}
	of := func(c money.Currency) *KindTotals {
		t, ok := totals[c.String()]
		if !ok {
			t = &KindTotals{Currency: c}
			totals[c.String()] = t
		}
		return t
	}
	add := func(side string, total *int64, m money.Money) error {
		sum, err := money.AddMinor(*total, m.Amount())
		if err != nil {
			return fmt.Errorf("%s total in %s: %w", side, m.Currency(), err)
		}
		*total = sum
		return nil
	}
	known := map[string]bool{}
	for _, c := range claims {
		known[c.ClaimID] = true
		if c.expects() == expectRefunded {
			if err := add("claims", &of(c.Amount.Currency()).Claims, c.Amount); err != nil {
				return Summary{}, err
			}
		}
	}
	for _, r := range refunds {
		if r.ClaimID != "" && r.moved() {
			if err := add("provider", &of(r.Amount.Currency()).Provider, r.Amount); err != nil {
				return Summary{}, err
			}
		}
	}
	for _, l := range ledgers {
		if known[l.ClaimID] && !l.Net.IsZero() {
			if err := add("ledger", &of(l.Net.Currency()).Ledger, l.Net); err != nil {
				return Summary{}, err
			}
		}
	}
	for _, t := range totals {
		s.Totals = append(s.Totals, *t)
	}
	slices.SortFunc(s.Totals, func(a, b KindTotals) int { return strings.Compare(a.Currency.String(), b.Currency.String()) })
	return s, nil
}
