package finance_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
)

var (
	eur = money.MustCurrency("EUR")
	usd = money.MustCurrency("USD")
	gbp = money.MustCurrency("GBP")
	jpy = money.MustCurrency("JPY")

	refundedAt = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
)

func euros(amount int64) money.Money { return money.Of(amount, eur) }

// The fixtures: claim clm_1 refunded 19.99 EUR through stripe as re_1, the
// provider's refund re_1 for it and the ledger's posting of it, all three
// agreeing. Tests take copies and change what they need.
func refundedClaim() finance.ClaimRefund {
	return finance.ClaimRefund{ClaimID: "clm_1", Status: claim.StatusRefunded, Provider: "stripe", RefundID: "re_1", Amount: euros(1999)}
}

func providerRefund() finance.ProviderRefund {
	return finance.ProviderRefund{Provider: "stripe", ID: "re_1", ClaimID: "clm_1", Status: finance.RefundSucceeded,
		Amount: euros(1999), Created: refundedAt}
}

func ledgerRefund() finance.LedgerRefund {
	return finance.LedgerRefund{ClaimID: "clm_1", Provider: "stripe", Net: euros(1999)}
}

// with returns c with its status set.
func with(c finance.ClaimRefund, s claim.Status) finance.ClaimRefund {
	c.Status = s
	return c
}

// refundIn returns the provider refund with its status set.
func refundIn(status string) finance.ProviderRefund {
	r := providerRefund()
	r.Status = status
	return r
}

// refundFor returns the provider refund with id and amount set.
func refundFor(id string, amount money.Money) finance.ProviderRefund {
	r := providerRefund()
	r.ID, r.Amount = id, amount
	return r
}

// refundWithBalance returns the provider refund with its balance
// transaction amount set.
func refundWithBalance(b money.Money) finance.ProviderRefund {
	r := providerRefund()
	r.Balance = b
	return r
}

func ledgerOf(net money.Money) finance.LedgerRefund {
	l := ledgerRefund()
	l.Net = net
	return l
}

// item is the item every test of clm_1 expects, before its changes: the
// fixtures' three sides as found.
func item(kind finance.ItemKind, status claim.Status) finance.Item {
	return finance.Item{
		Kind: kind, ClaimID: "clm_1", Provider: "stripe", RefundID: "re_1",
		ClaimStatus: status.String(), ClaimAmount: euros(1999),
		ProviderStatus: finance.RefundSucceeded, ProviderAmount: euros(1999),
		LedgerAmount: euros(1999),
	}
}

// noProvider is it without a provider side.
func noProvider(it finance.Item) finance.Item {
	it.ProviderStatus, it.ProviderAmount = "", money.Money{}
	return it
}

// noLedger is it without a ledger side.
func noLedger(it finance.Item) finance.Item {
	it.LedgerAmount = money.Money{}
	return it
}

// shows is it with the provider side as given.
func shows(it finance.Item, status string, amount money.Money) finance.Item {
	it.ProviderStatus, it.ProviderAmount = status, amount
	return it
}

// ledgered is it with the ledger side as given.
func ledgered(it finance.Item, amount money.Money) finance.Item {
	it.LedgerAmount = amount
	return it
}

type sides struct {
	claims  []finance.ClaimRefund
	refunds []finance.ProviderRefund
	ledgers []finance.LedgerRefund
}

// reconcile runs Reconcile, checks that every exception explains itself
// and a matched item has nothing to explain, and returns the items with
// their Detail cleared so tests compare the rest exactly.
func reconcile(t *testing.T, give sides) []finance.Item {
	t.Helper()
	items := finance.Reconcile(give.claims, give.refunds, give.ledgers)
	out := make([]finance.Item, len(items))
	for i, it := range items {
		if it.Kind.IsException() {
			require.NotEmpty(t, it.Detail, "item %d (%s) has no detail", i, it.Kind)
		} else {
			require.Empty(t, it.Detail, "item %d is matched but has a detail", i)
		}
		it.Detail = ""
		out[i] = it
	}
	return out
}

func TestReconcileExpectsRefunded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give sides
		want []finance.Item
	}{
		{
			name: "all three agree",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, []finance.ProviderRefund{providerRefund()}, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{item(finance.KindMatched, claim.StatusRefunded)},
		},
		{
			name: "provider has no refund",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, nil, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{noProvider(item(finance.KindMissingAtProvider, claim.StatusRefunded))},
		},
		{
			name: "ledger has nothing",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, []finance.ProviderRefund{providerRefund()}, nil},
			want: []finance.Item{noLedger(item(finance.KindMissingInLedger, claim.StatusRefunded))},
		},
		{
			name: "neither provider nor ledger",
			give: sides{claims: []finance.ClaimRefund{refundedClaim()}},
			want: []finance.Item{
				noLedger(noProvider(item(finance.KindMissingAtProvider, claim.StatusRefunded))),
				noLedger(noProvider(item(finance.KindMissingInLedger, claim.StatusRefunded))),
			},
		},
		{
			name: "ledger refund reversed to zero counts as no posting",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, []finance.ProviderRefund{providerRefund()}, []finance.LedgerRefund{ledgerOf(euros(0))}},
			want: []finance.Item{noLedger(item(finance.KindMissingInLedger, claim.StatusRefunded))},
		},
		{
			name: "provider refund names no claim and is ignored",
			give: sides{
				[]finance.ClaimRefund{refundedClaim()},
				[]finance.ProviderRefund{providerRefund(), {Provider: "stripe", ID: "re_other", Status: finance.RefundSucceeded, Amount: euros(500)}},
				[]finance.LedgerRefund{ledgerRefund()},
			},
			want: []finance.Item{item(finance.KindMatched, claim.StatusRefunded)},
		},
		{
			name: "amount differs at provider",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, []finance.ProviderRefund{refundFor("re_1", euros(1998))}, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{shows(item(finance.KindAmountMismatch, claim.StatusRefunded), finance.RefundSucceeded, euros(1998))},
		},
		{
			name: "amount differs in ledger",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, []finance.ProviderRefund{providerRefund()}, []finance.LedgerRefund{ledgerOf(euros(2000))}},
			want: []finance.Item{ledgered(item(finance.KindAmountMismatch, claim.StatusRefunded), euros(2000))},
		},
		{
			name: "currency differs at provider is a currency mismatch only",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, []finance.ProviderRefund{refundFor("re_1", money.Of(1999, usd))}, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{shows(item(finance.KindCurrencyMismatch, claim.StatusRefunded), finance.RefundSucceeded, money.Of(1999, usd))},
		},
		{
			name: "currency and amount differ at provider is a currency mismatch only",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, []finance.ProviderRefund{refundFor("re_1", money.Of(2150, usd))}, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{shows(item(finance.KindCurrencyMismatch, claim.StatusRefunded), finance.RefundSucceeded, money.Of(2150, usd))},
		},
		{
			name: "currency differs in ledger",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, []finance.ProviderRefund{providerRefund()}, []finance.LedgerRefund{ledgerOf(money.Of(1999, usd))}},
			want: []finance.Item{ledgered(item(finance.KindCurrencyMismatch, claim.StatusRefunded), money.Of(1999, usd))},
		},
		{
			name: "ledger nets in two currencies",
			give: sides{
				[]finance.ClaimRefund{refundedClaim()},
				[]finance.ProviderRefund{providerRefund()},
				[]finance.LedgerRefund{ledgerRefund(), ledgerOf(money.Of(500, usd))},
			},
			want: []finance.Item{noLedger(item(finance.KindCurrencyMismatch, claim.StatusRefunded))},
		},
		{
			name: "refunded here but failed at provider",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, []finance.ProviderRefund{refundIn(finance.RefundFailed)}, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{shows(item(finance.KindStatusMismatch, claim.StatusRefunded), finance.RefundFailed, euros(1999))},
		},
		{
			name: "refunded here but still pending at provider",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, []finance.ProviderRefund{refundIn(finance.RefundPending)}, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{shows(item(finance.KindStatusMismatch, claim.StatusRefunded), finance.RefundPending, euros(1999))},
		},
		{
			name: "two succeeded refunds",
			give: sides{
				[]finance.ClaimRefund{refundedClaim()},
				// The second refund (for another amount) listed first: the
				// item still shows the refund the claim records.
				[]finance.ProviderRefund{refundFor("re_2", euros(2000)), providerRefund()},
				[]finance.LedgerRefund{ledgerRefund()},
			},
			want: []finance.Item{item(finance.KindDuplicateRefund, claim.StatusRefunded)},
		},
		{
			name: "a failed attempt before the succeeded refund is no exception",
			give: sides{
				[]finance.ClaimRefund{refundedClaim()},
				[]finance.ProviderRefund{{Provider: "stripe", ID: "re_0", ClaimID: "clm_1", Status: finance.RefundFailed, Amount: euros(1999)}, providerRefund()},
				[]finance.LedgerRefund{ledgerRefund()},
			},
			want: []finance.Item{item(finance.KindMatched, claim.StatusRefunded)},
		},
		{
			name: "provider refund id differs from the claim's record",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, []finance.ProviderRefund{refundFor("re_other", euros(1999))}, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{item(finance.KindStatusMismatch, claim.StatusRefunded)},
		},
		{
			name: "balance in the refund's currency differs from the refund",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, []finance.ProviderRefund{refundWithBalance(euros(1900))}, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{item(finance.KindAmountMismatch, claim.StatusRefunded)},
		},
		{
			name: "balance equal to the refund",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, []finance.ProviderRefund{refundWithBalance(euros(1999))}, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{item(finance.KindMatched, claim.StatusRefunded)},
		},
		{
			name: "balance in another currency after conversion",
			give: sides{[]finance.ClaimRefund{refundedClaim()}, []finance.ProviderRefund{refundWithBalance(money.Of(2187, usd))}, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{item(finance.KindMatched, claim.StatusRefunded)},
		},
		{
			name: "several disagreements give one item each",
			give: sides{
				[]finance.ClaimRefund{refundedClaim()},
				[]finance.ProviderRefund{{Provider: "stripe", ID: "re_other", ClaimID: "clm_1", Status: finance.RefundSucceeded,
					Amount: euros(1998), Balance: euros(1999)}},
				nil,
			},
			want: []finance.Item{
				noLedger(shows(item(finance.KindAmountMismatch, claim.StatusRefunded), finance.RefundSucceeded, euros(1998))), // claim vs provider
				noLedger(shows(item(finance.KindStatusMismatch, claim.StatusRefunded), finance.RefundSucceeded, euros(1998))), // refund id
				noLedger(shows(item(finance.KindAmountMismatch, claim.StatusRefunded), finance.RefundSucceeded, euros(1998))), // balance
				noLedger(shows(item(finance.KindMissingInLedger, claim.StatusRefunded), finance.RefundSucceeded, euros(1998))),
			},
		},
		{
			name: "duplicate refund and a ledger in the wrong amount",
			give: sides{
				[]finance.ClaimRefund{refundedClaim()},
				[]finance.ProviderRefund{providerRefund(), refundFor("re_2", euros(1999))},
				[]finance.LedgerRefund{ledgerOf(euros(3998))},
			},
			want: []finance.Item{
				ledgered(item(finance.KindDuplicateRefund, claim.StatusRefunded), euros(3998)),
				ledgered(item(finance.KindAmountMismatch, claim.StatusRefunded), euros(3998)),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, reconcile(t, tt.give))
		})
	}
}

// TestReconcileRefundedStatuses: seller_charged and closed claims expect
// the same as refunded ones.
func TestReconcileRefundedStatuses(t *testing.T) {
	t.Parallel()
	for _, give := range []claim.Status{claim.StatusRefunded, claim.StatusSellerCharged, claim.StatusClosed} {
		t.Run(give.String(), func(t *testing.T) {
			t.Parallel()
			c := with(refundedClaim(), give)
			got := reconcile(t, sides{[]finance.ClaimRefund{c}, []finance.ProviderRefund{providerRefund()}, []finance.LedgerRefund{ledgerRefund()}})
			require.Equal(t, []finance.Item{item(finance.KindMatched, give)}, got)

			got = reconcile(t, sides{[]finance.ClaimRefund{c}, []finance.ProviderRefund{providerRefund()}, nil})
			require.Equal(t, []finance.Item{noLedger(item(finance.KindMissingInLedger, give))}, got)
		})
	}
}

func TestReconcileExpectsPending(t *testing.T) {
	t.Parallel()
	pending := with(refundedClaim(), claim.StatusRefundPending)
	want := func(kind finance.ItemKind) finance.Item { return item(kind, claim.StatusRefundPending) }
	tests := []struct {
		name string
		give sides
		want []finance.Item
	}{
		{
			name: "pending at provider, nothing in ledger",
			give: sides{[]finance.ClaimRefund{pending}, []finance.ProviderRefund{refundIn(finance.RefundPending)}, nil},
			want: []finance.Item{noLedger(shows(want(finance.KindMatched), finance.RefundPending, euros(1999)))},
		},
		{
			name: "requires action at provider, ledger reversed to zero",
			give: sides{[]finance.ClaimRefund{pending}, []finance.ProviderRefund{refundIn(finance.RefundRequiresAction)}, []finance.LedgerRefund{ledgerOf(euros(0))}},
			want: []finance.Item{noLedger(shows(want(finance.KindMatched), finance.RefundRequiresAction, euros(1999)))},
		},
		{
			name: "provider answered without the claim recording it yet",
			give: sides{
				[]finance.ClaimRefund{{ClaimID: "clm_1", Status: claim.StatusRefundPending, Amount: euros(1999)}},
				[]finance.ProviderRefund{refundIn(finance.RefundPending)},
				nil,
			},
			// Provider and refund id come from the provider's refund.
			want: []finance.Item{noLedger(shows(want(finance.KindMatched), finance.RefundPending, euros(1999)))},
		},
		{
			name: "provider has no refund",
			give: sides{claims: []finance.ClaimRefund{pending}},
			want: []finance.Item{noLedger(noProvider(want(finance.KindMissingAtProvider)))},
		},
		{
			name: "succeeded at provider",
			give: sides{[]finance.ClaimRefund{pending}, []finance.ProviderRefund{providerRefund()}, nil},
			want: []finance.Item{noLedger(want(finance.KindStatusMismatch))},
		},
		{
			name: "failed at provider",
			give: sides{[]finance.ClaimRefund{pending}, []finance.ProviderRefund{refundIn(finance.RefundFailed)}, nil},
			want: []finance.Item{noLedger(shows(want(finance.KindStatusMismatch), finance.RefundFailed, euros(1999)))},
		},
		{
			name: "ledger posts a payout",
			give: sides{[]finance.ClaimRefund{pending}, []finance.ProviderRefund{refundIn(finance.RefundPending)}, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{shows(want(finance.KindStatusMismatch), finance.RefundPending, euros(1999))},
		},
		{
			name: "succeeded at provider and posted in ledger",
			give: sides{[]finance.ClaimRefund{pending}, []finance.ProviderRefund{providerRefund()}, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{want(finance.KindStatusMismatch), want(finance.KindStatusMismatch)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, reconcile(t, tt.give))
		})
	}
}

func TestReconcileExpectsNothing(t *testing.T) {
	t.Parallel()
	failed := with(refundedClaim(), claim.StatusRefundFailed)
	approved := finance.ClaimRefund{ClaimID: "clm_1", Status: claim.StatusApproved, Provider: "stripe", Amount: euros(1999)}
	tests := []struct {
		name string
		give sides
		want []finance.Item
	}{
		{
			name: "refund failed at provider, ledger reversed to zero",
			give: sides{[]finance.ClaimRefund{failed}, []finance.ProviderRefund{refundIn(finance.RefundFailed)}, []finance.LedgerRefund{ledgerOf(euros(0))}},
			want: []finance.Item{noLedger(shows(item(finance.KindMatched, claim.StatusRefundFailed), finance.RefundFailed, euros(1999)))},
		},
		{
			name: "refund failed here but succeeded at provider",
			give: sides{[]finance.ClaimRefund{failed}, []finance.ProviderRefund{providerRefund()}, nil},
			want: []finance.Item{noLedger(item(finance.KindStatusMismatch, claim.StatusRefundFailed))},
		},
		{
			name: "refund failed here but ledger posts a payout",
			give: sides{[]finance.ClaimRefund{failed}, []finance.ProviderRefund{refundIn(finance.RefundFailed)}, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{shows(item(finance.KindStatusMismatch, claim.StatusRefundFailed), finance.RefundFailed, euros(1999))},
		},
		{
			name: "approved with nothing anywhere",
			give: sides{claims: []finance.ClaimRefund{approved}},
			want: []finance.Item{{Kind: finance.KindMatched, ClaimID: "clm_1", Provider: "stripe", ClaimStatus: "approved", ClaimAmount: euros(1999)}},
		},
		{
			name: "approved but succeeded at provider and posted",
			give: sides{[]finance.ClaimRefund{approved}, []finance.ProviderRefund{providerRefund()}, []finance.LedgerRefund{ledgerRefund()}},
			want: []finance.Item{
				{Kind: finance.KindStatusMismatch, ClaimID: "clm_1", Provider: "stripe", RefundID: "re_1", ClaimStatus: "approved", ClaimAmount: euros(1999),
					ProviderStatus: finance.RefundSucceeded, ProviderAmount: euros(1999), LedgerAmount: euros(1999)},
				{Kind: finance.KindStatusMismatch, ClaimID: "clm_1", Provider: "stripe", RefundID: "re_1", ClaimStatus: "approved", ClaimAmount: euros(1999),
					ProviderStatus: finance.RefundSucceeded, ProviderAmount: euros(1999), LedgerAmount: euros(1999)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, reconcile(t, tt.give))
		})
	}
}

func TestReconcileMissingClaim(t *testing.T) {
	t.Parallel()
	orphan := func(id, claimID, status string, amount money.Money) finance.ProviderRefund {
		return finance.ProviderRefund{Provider: "stripe", ID: id, ClaimID: claimID, Status: status, Amount: amount, Created: refundedAt}
	}
	give := sides{
		[]finance.ClaimRefund{refundedClaim()},
		[]finance.ProviderRefund{
			orphan("re_z", "clm_0", finance.RefundSucceeded, euros(700)), // names a claim that sorts before clm_1
			providerRefund(),
			{Provider: "stripe", ID: "re_nobody", Status: finance.RefundSucceeded, Amount: euros(42)}, // names no claim
			orphan("re_a", "clm_9", finance.RefundFailed, money.Of(300, usd)),
		},
		[]finance.LedgerRefund{ledgerRefund(), {ClaimID: "clm_0", Provider: "stripe", Net: euros(700)}},
	}
	want := []finance.Item{
		item(finance.KindMatched, claim.StatusRefunded),
		{Kind: finance.KindMissingClaim, ClaimID: "clm_9", Provider: "stripe", RefundID: "re_a",
			ProviderStatus: finance.RefundFailed, ProviderAmount: money.Of(300, usd)},
		{Kind: finance.KindMissingClaim, ClaimID: "clm_0", Provider: "stripe", RefundID: "re_z",
			ProviderStatus: finance.RefundSucceeded, ProviderAmount: euros(700)},
	}
	require.Equal(t, want, reconcile(t, give))

	require.Empty(t, finance.Reconcile(nil, []finance.ProviderRefund{{Provider: "stripe", ID: "re_nobody", Status: finance.RefundSucceeded, Amount: euros(42)}}, nil))
	require.Empty(t, finance.Reconcile(nil, nil, nil))
}

// threeClaims returns three claims in a muddled order, each with its
// provider refund and ledger posting, clm_b's ledger posting missing.
func threeClaims() sides {
	var s sides
	for _, id := range []string{"clm_c", "clm_a", "clm_b"} {
		s.claims = append(s.claims, finance.ClaimRefund{ClaimID: id, Status: claim.StatusRefunded, Provider: "stripe", RefundID: "re_" + id, Amount: euros(100)})
		s.refunds = append(s.refunds, finance.ProviderRefund{Provider: "stripe", ID: "re_" + id, ClaimID: id, Status: finance.RefundSucceeded, Amount: euros(100)})
		if id != "clm_b" {
			s.ledgers = append(s.ledgers, finance.LedgerRefund{ClaimID: id, Provider: "stripe", Net: euros(100)})
		}
	}
	s.refunds = append(s.refunds, finance.ProviderRefund{Provider: "stripe", ID: "re_orphan", ClaimID: "clm_0", Status: finance.RefundSucceeded, Amount: euros(5)})
	return s
}

func TestReconcileOrdersByClaimID(t *testing.T) {
	t.Parallel()
	give := threeClaims()
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		r.Shuffle(len(give.claims), func(i, j int) { give.claims[i], give.claims[j] = give.claims[j], give.claims[i] })
		r.Shuffle(len(give.refunds), func(i, j int) { give.refunds[i], give.refunds[j] = give.refunds[j], give.refunds[i] })
		r.Shuffle(len(give.ledgers), func(i, j int) { give.ledgers[i], give.ledgers[j] = give.ledgers[j], give.ledgers[i] })
		got := reconcile(t, give)
		kinds := make([]string, len(got))
		for i, it := range got {
			kinds[i] = it.ClaimID + " " + string(it.Kind)
		}
		require.Equal(t, []string{"clm_a matched", "clm_b missing_in_ledger", "clm_c matched", "clm_0 missing_claim"}, kinds)
	}
}

func TestReconcileDoesNotMutateInputs(t *testing.T) {
	t.Parallel()
	give := threeClaims()
	give.refunds = append(give.refunds, finance.ProviderRefund{Provider: "stripe", ID: "re_dup", ClaimID: "clm_c", Status: finance.RefundSucceeded, Amount: euros(100)})
	give.ledgers = append(give.ledgers, finance.LedgerRefund{ClaimID: "clm_a", Provider: "stripe", Net: money.Of(0, usd)})
	claims, refunds, ledgers := slices.Clone(give.claims), slices.Clone(give.refunds), slices.Clone(give.ledgers)

	items := finance.Reconcile(give.claims, give.refunds, give.ledgers)
	require.NotEmpty(t, items)
	require.Equal(t, claims, give.claims)
	require.Equal(t, refunds, give.refunds)
	require.Equal(t, ledgers, give.ledgers)
}

// planted is a disagreement planted on one claim's sides, and the kind of
// exception it must give.
type planted struct {
	name string
	kind finance.ItemKind
	// plant changes the claim's sides; r picks whatever it needs.
	plant func(r *rand.Rand, s *claimSides)
}

// claimSides is one claim's three sides; a nil side is absent.
type claimSides struct {
	claim  finance.ClaimRefund
	refund *finance.ProviderRefund
	ledger *finance.LedgerRefund
}

var currencies = []money.Currency{eur, usd, gbp, jpy}

// otherCurrency returns a currency that is none of not.
func otherCurrency(r *rand.Rand, not ...money.Currency) money.Currency {
	for {
		c := currencies[r.IntN(len(currencies))]
		if !slices.Contains(not, c) {
			return c
		}
	}
}

// plusMinusOne moves m by one minor unit either way.
func plusMinusOne(r *rand.Rand, m money.Money) money.Money {
	if r.IntN(2) == 0 {
		return money.Of(m.Amount()+1, m.Currency())
	}
	return money.Of(m.Amount()-1, m.Currency())
}

var plants = []planted{
	{name: "drop provider refund", kind: finance.KindMissingAtProvider, plant: func(_ *rand.Rand, s *claimSides) { s.refund = nil }},
	{name: "drop ledger", kind: finance.KindMissingInLedger, plant: func(_ *rand.Rand, s *claimSides) { s.ledger = nil }},
	{name: "provider amount ±1", kind: finance.KindAmountMismatch, plant: func(r *rand.Rand, s *claimSides) {
		old := s.refund.Amount
		s.refund.Amount = plusMinusOne(r, old)
		if s.refund.Balance == old { // the balance moves with the refund
			s.refund.Balance = s.refund.Amount
		}
	}},
	{name: "ledger amount ±1", kind: finance.KindAmountMismatch, plant: func(r *rand.Rand, s *claimSides) {
		s.ledger.Net = plusMinusOne(r, s.ledger.Net)
	}},
	{name: "provider currency", kind: finance.KindCurrencyMismatch, plant: func(r *rand.Rand, s *claimSides) {
		c := otherCurrency(r, s.refund.Amount.Currency(), s.refund.Balance.Currency())
		if s.refund.Balance == s.refund.Amount {
			s.refund.Balance = money.Of(s.refund.Amount.Amount(), c)
		}
		s.refund.Amount = money.Of(s.refund.Amount.Amount(), c)
	}},
	{name: "ledger currency", kind: finance.KindCurrencyMismatch, plant: func(r *rand.Rand, s *claimSides) {
		s.ledger.Net = money.Of(s.ledger.Net.Amount(), otherCurrency(r, s.ledger.Net.Currency()))
	}},
}

// randomClaims returns n claims refunded in full, each with a matching
// provider refund (its balance unknown, equal, or converted into another
// currency) and ledger posting.
func randomClaims(r *rand.Rand, n int) []claimSides {
	statuses := []claim.Status{claim.StatusRefunded, claim.StatusSellerCharged, claim.StatusClosed}
	out := make([]claimSides, n)
	for i := range out {
		id := fmt.Sprintf("clm_%05d", i)
		amount := money.Of(2+r.Int64N(1_000_000), currencies[r.IntN(len(currencies))])
		refund := finance.ProviderRefund{Provider: "stripe", ID: "re_" + id, ClaimID: id, Status: finance.RefundSucceeded, Amount: amount,
			Created: refundedAt.Add(time.Duration(i) * time.Minute)}
		switch r.IntN(3) {
		case 1:
			refund.Balance = amount
		case 2:
			refund.Balance = money.Of(1+r.Int64N(1_000_000), otherCurrency(r, amount.Currency()))
		}
		out[i] = claimSides{
			claim:  finance.ClaimRefund{ClaimID: id, Status: statuses[r.IntN(len(statuses))], Provider: "stripe", RefundID: refund.ID, Amount: amount},
			refund: &refund,
			ledger: &finance.LedgerRefund{ClaimID: id, Provider: "stripe", Net: amount},
		}
	}
	return out
}

// flatten lays the claims' sides out as Reconcile takes them, shuffled,
// with a few provider refunds of another system (naming no claim) mixed in.
func flatten(r *rand.Rand, cs []claimSides) sides {
	var s sides
	for _, c := range cs {
		s.claims = append(s.claims, c.claim)
		if c.refund != nil {
			s.refunds = append(s.refunds, *c.refund)
		}
		if c.ledger != nil {
			s.ledgers = append(s.ledgers, *c.ledger)
		}
	}
	for i := range 5 {
		s.refunds = append(s.refunds, finance.ProviderRefund{Provider: "stripe", ID: fmt.Sprintf("re_foreign_%d", i), Status: finance.RefundSucceeded, Amount: euros(1 + r.Int64N(100))})
	}
	r.Shuffle(len(s.claims), func(i, j int) { s.claims[i], s.claims[j] = s.claims[j], s.claims[i] })
	r.Shuffle(len(s.refunds), func(i, j int) { s.refunds[i], s.refunds[j] = s.refunds[j], s.refunds[i] })
	r.Shuffle(len(s.ledgers), func(i, j int) { s.ledgers[i], s.ledgers[j] = s.ledgers[j], s.ledgers[i] })
	return s
}

// TestReconcileRandomClaims: claims whose three sides agree all match;
// planting one disagreement on some of them gives exactly those claims an
// exception, of the planted kind, and leaves every other claim matched.
func TestReconcileRandomClaims(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 30 {
		cs := randomClaims(r, 50+r.IntN(150))

		items := reconcile(t, flatten(r, cs))
		require.Len(t, items, len(cs), "round %d", round)
		for i, it := range items {
			require.Equal(t, finance.KindMatched, it.Kind, "round %d: %+v", round, it)
			require.Equal(t, cs[i].claim.ClaimID, it.ClaimID, "round %d: items in claim order", round)
		}

		want := map[string]planted{}
		for i := range cs {
			if r.IntN(4) != 0 {
				continue
			}
			p := plants[r.IntN(len(plants))]
			p.plant(r, &cs[i])
			want[cs[i].claim.ClaimID] = p
		}

		items = reconcile(t, flatten(r, cs))
		require.Len(t, items, len(cs), "round %d: one item per claim", round)
		for i, it := range items {
			require.Equal(t, cs[i].claim.ClaimID, it.ClaimID, "round %d: items in claim order", round)
			if p, ok := want[it.ClaimID]; ok {
				require.Equal(t, p.kind, it.Kind, "round %d: %s planted on %s: %+v", round, p.name, it.ClaimID, it)
				continue
			}
			require.Equal(t, finance.KindMatched, it.Kind, "round %d: nothing planted on %s: %+v", round, it.ClaimID, it)
		}
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	claims := []finance.ClaimRefund{
		refundedClaim(), // 19.99 EUR, matched
		{ClaimID: "clm_2", Status: claim.StatusSellerCharged, Provider: "stripe", RefundID: "re_2", Amount: money.Of(500, usd)},
		{ClaimID: "clm_3", Status: claim.StatusClosed, Provider: "stripe", RefundID: "re_3", Amount: euros(1000)},
		{ClaimID: "clm_4", Status: claim.StatusRefundPending, Provider: "stripe", RefundID: "re_4", Amount: euros(250)},
		{ClaimID: "clm_5", Status: claim.StatusApproved, Provider: "stripe", Amount: money.Of(9, gbp)},
	}
	refunds := []finance.ProviderRefund{
		providerRefund(),
		{Provider: "stripe", ID: "re_2", ClaimID: "clm_2", Status: finance.RefundSucceeded, Amount: money.Of(499, usd)}, // amount mismatch
		{Provider: "stripe", ID: "re_4", ClaimID: "clm_4", Status: finance.RefundPending, Amount: euros(250)},           // not counted: not moved
		{Provider: "stripe", ID: "re_9", ClaimID: "clm_9", Status: finance.RefundSucceeded, Amount: money.Of(70, jpy)},  // missing claim, counted
		{Provider: "stripe", ID: "re_x", Status: finance.RefundSucceeded, Amount: euros(123)},                           // names no claim
		{Provider: "stripe", ID: "re_f", ClaimID: "clm_5", Status: finance.RefundFailed, Amount: money.Of(9, gbp)},      // not counted: failed
	}
	ledgers := []finance.LedgerRefund{
		ledgerRefund(),
		{ClaimID: "clm_2", Provider: "stripe", Net: money.Of(500, usd)},
		{ClaimID: "clm_3", Provider: "stripe", Net: euros(0)},          // reversed: nothing
		{ClaimID: "clm_9", Provider: "stripe", Net: money.Of(70, jpy)}, // not one of the claims
	}
	items := finance.Reconcile(claims, refunds, ledgers)
	got, err := finance.Summarize(claims, refunds, ledgers, items)
	require.NoError(t, err)

	require.Equal(t, 3, got.Matched) // clm_1, clm_4, clm_5
	require.Equal(t, map[finance.ItemKind]int{
		finance.KindAmountMismatch:    1, // clm_2
		finance.KindMissingAtProvider: 1, // clm_3
		finance.KindMissingInLedger:   1, // clm_3
		finance.KindMissingClaim:      1, // re_9
	}, got.Exceptions)
	require.Equal(t, []finance.KindTotals{
		{Currency: eur, Claims: 1999 + 1000, Provider: 1999, Ledger: 1999},
		{Currency: jpy, Provider: 70},
		{Currency: usd, Claims: 500, Provider: 499, Ledger: 500},
	}, got.Totals)
}

func TestSummarizeEmpty(t *testing.T) {
	t.Parallel()
	got, err := finance.Summarize(nil, nil, nil, nil)
	require.NoError(t, err)
	require.Zero(t, got.Matched)
	require.Empty(t, got.Exceptions)
	require.Empty(t, got.Totals)
}

// TestSummarizeLargeAmounts: totals of the largest amounts the engine
// accepts are exact, and a total beyond int64 (only amounts from before
// the bound, or a provider's own figures, can reach one) is an error,
// never a wrapped number.
func TestSummarizeLargeAmounts(t *testing.T) {
	t.Parallel()
	maxEUR := money.Max(eur)
	refunded := func(id string, m money.Money) finance.ClaimRefund {
		return finance.ClaimRefund{ClaimID: id, Status: claim.StatusClosed, Provider: "stripe", RefundID: "re_" + id, Amount: m}
	}
	moved := func(id string, m money.Money) finance.ProviderRefund {
		return finance.ProviderRefund{Provider: "stripe", ID: "re_" + id, ClaimID: id, Status: finance.RefundSucceeded, Amount: m, Created: refundedAt}
	}
	net := func(id string, m money.Money) finance.LedgerRefund {
		return finance.LedgerRefund{ClaimID: id, Provider: "stripe", Net: m}
	}
	tests := []struct {
		name       string
		giveClaims []finance.ClaimRefund
		giveRefund []finance.ProviderRefund
		giveLedger []finance.LedgerRefund
		want       []finance.KindTotals
		wantErr    string
	}{
		{
			name:       "two maximal claims and an ordinary one",
			giveClaims: []finance.ClaimRefund{refunded("clm_a", maxEUR), refunded("clm_b", maxEUR), refunded("clm_c", euros(1999))},
			giveRefund: []finance.ProviderRefund{moved("clm_a", maxEUR), moved("clm_b", maxEUR), moved("clm_c", euros(1999))},
			giveLedger: []finance.LedgerRefund{net("clm_a", maxEUR), net("clm_b", maxEUR), net("clm_c", euros(1999))},
			want:       []finance.KindTotals{{Currency: eur, Claims: 2_000_000_001_999, Provider: 2_000_000_001_999, Ledger: 2_000_000_001_999}},
		},
		{
			name:       "claims beyond int64",
			giveClaims: []finance.ClaimRefund{refunded("clm_a", euros(math.MaxInt64)), refunded("clm_b", euros(8997))},
			wantErr:    "claims total in EUR",
		},
		{
			name:       "provider refunds beyond int64",
			giveClaims: []finance.ClaimRefund{refunded("clm_a", euros(1)), refunded("clm_b", euros(1))},
			giveRefund: []finance.ProviderRefund{moved("clm_a", euros(math.MaxInt64)), moved("clm_b", euros(1))},
			wantErr:    "provider total in EUR",
		},
		{
			name:       "ledger beyond int64",
			giveClaims: []finance.ClaimRefund{refunded("clm_a", euros(1)), refunded("clm_b", euros(1))},
			giveLedger: []finance.LedgerRefund{net("clm_a", euros(math.MaxInt64)), net("clm_b", euros(1))},
			wantErr:    "ledger total in EUR",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			items := finance.Reconcile(tt.giveClaims, tt.giveRefund, tt.giveLedger)
			got, err := finance.Summarize(tt.giveClaims, tt.giveRefund, tt.giveLedger, items)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, money.ErrOverflow)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got.Totals)
			require.Equal(t, len(tt.giveClaims), got.Matched)
		})
	}
}

func TestParseItemKind(t *testing.T) {
	t.Parallel()
	for _, give := range finance.ItemKinds {
		got, ok := finance.ParseItemKind(string(give))
		require.True(t, ok, give)
		require.Equal(t, give, got)
		require.Equal(t, give != finance.KindMatched, got.IsException())
	}
	for _, give := range []string{"", "Matched", "unknown"} {
		_, ok := finance.ParseItemKind(give)
		require.False(t, ok, give)
	}
}

// TestReconcileShowsLatestRefund: when none of the provider's refunds for a
// claim is the one the claim records, the item shows the latest of them
// (reconcileClaim: "The provider's refund the claim records, else its
// latest"), whatever order the provider listed them in.
func TestReconcileShowsLatestRefund(t *testing.T) {
	t.Parallel()
	c := refundedClaim()
	c.RefundID = "re_9" // the provider lists no refund by that id
	older := finance.ProviderRefund{Provider: "stripe", ID: "re_1", ClaimID: "clm_1", Status: finance.RefundFailed,
		Amount: euros(1999), Created: refundedAt}
	latest := finance.ProviderRefund{Provider: "stripe", ID: "re_2", ClaimID: "clm_1", Status: finance.RefundCanceled,
		Amount: euros(1500), Created: refundedAt.Add(time.Hour)}
	tests := []struct {
		name string
		give []finance.ProviderRefund
	}{
		{name: "oldest first", give: []finance.ProviderRefund{older, latest}},
		{name: "latest first", give: []finance.ProviderRefund{latest, older}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := reconcile(t, sides{[]finance.ClaimRefund{c}, tt.give, []finance.LedgerRefund{ledgerRefund()}})
			want := shows(item(finance.KindStatusMismatch, claim.StatusRefunded), finance.RefundCanceled, euros(1500))
			want.RefundID = "re_9"
			require.Equal(t, []finance.Item{want}, got)
		})
	}
}
