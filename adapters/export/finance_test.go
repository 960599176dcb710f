package export_test

import (
	"encoding/csv"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

func of(amount int64, code string) money.Money { return money.Of(amount, money.MustCurrency(code)) }

// records streams what write writes as CSV under header and returns the
// records after the header, as a spreadsheet would read them.
func records(t *testing.T, header []string, write func(s *export.Stream) error) [][]string {
	t.Helper()
	w := httptest.NewRecorder()
	s := export.NewCSV(w, "t.csv", header, nil)
	require.NoError(t, write(s))
	require.NoError(t, s.Close(nil))
	all, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	require.NoError(t, err)
	require.Equal(t, header, all[0])
	return all[1:]
}

// record is the one record write writes.
func record(t *testing.T, header []string, write func(s *export.Stream) error) []string {
	t.Helper()
	rs := records(t, header, write)
	require.Len(t, rs, 1)
	return rs[0]
}

// column returns the field of record under name in header.
func column(t *testing.T, header, record []string, name string) string {
	t.Helper()
	require.Len(t, record, len(header))
	for i, h := range header {
		if h == name {
			return record[i]
		}
	}
	t.Fatalf("no column %q", name)
	return ""
}

// TestAmountsInMajorUnits: every amount is written in minor units and in
// its currency's major unit, with the currency's decimals.
func TestAmountsInMajorUnits(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		give      money.Money
		wantMinor string
		wantMajor string
	}{
		{give: of(1999, "EUR"), wantMinor: "1999", wantMajor: "19.99"},
		{give: of(-550, "EUR"), wantMinor: "-550", wantMajor: "-5.50"},
		{give: of(7, "EUR"), wantMinor: "7", wantMajor: "0.07"},
		{give: of(1999, "JPY"), wantMinor: "1999", wantMajor: "1999"},
		{give: of(-5, "JPY"), wantMinor: "-5", wantMajor: "-5"},
		{give: of(1, "BHD"), wantMinor: "1", wantMajor: "0.001"},
		{give: of(-1005, "BHD"), wantMinor: "-1005", wantMajor: "-1.005"},
		{give: money.Max(money.MustCurrency("EUR")), wantMinor: "1000000000000", wantMajor: "10000000000.00"},
		{give: money.Max(money.MustCurrency("JPY")), wantMinor: "1000000000000", wantMajor: "1000000000000"},
		{give: money.Max(money.MustCurrency("BHD")), wantMinor: "1000000000000", wantMajor: "1000000000.000"},
		{give: of(math.MinInt64, "EUR"), wantMinor: "-9223372036854775808", wantMajor: "-92233720368547758.08"},
	} {
		cur := tt.give.Currency().String()
		cb := record(t, export.ChargebackHeader, func(s *export.Stream) error {
			return s.ChargebackRow(nil, financeflow.Chargeback{ClaimID: "clm_1", Amount: tt.give})
		})
		require.Equal(t, cur, column(t, export.ChargebackHeader, cb, "currency"))
		require.Equal(t, tt.wantMinor, column(t, export.ChargebackHeader, cb, "amount_minor"))
		require.Equal(t, tt.wantMajor, column(t, export.ChargebackHeader, cb, "amount"))

		st := record(t, export.StatementHeader, func(s *export.Stream) error {
			return s.StatementRow(nil, financeflow.StatementLine{StatementEntry: financeflow.StatementEntry{Amount: tt.give}, Balance: tt.give})
		})
		require.Equal(t, tt.wantMajor, column(t, export.StatementHeader, st, "amount"))
		require.Equal(t, tt.wantMinor, column(t, export.StatementHeader, st, "balance_minor"))
		require.Equal(t, tt.wantMajor, column(t, export.StatementHeader, st, "balance"))

		lg := record(t, export.LedgerHeader, func(s *export.Stream) error {
			return s.LedgerRows(financeflow.LedgerTransaction{ID: 1, Postings: []financeflow.LedgerPosting{{Account: "claims_clearing", Amount: tt.give}}})
		})
		require.Equal(t, tt.wantMinor, column(t, export.LedgerHeader, lg, "amount_minor"))
		require.Equal(t, tt.wantMajor, column(t, export.LedgerHeader, lg, "amount"))

		tot := export.ChargebackTotalRecords(financeflow.ChargebackTotals{Currency: tt.give.Currency(), Charged: tt.give.Amount()})
		require.Equal(t, tt.wantMajor, column(t, export.ChargebackHeader, tot[0], "amount"))
	}
}

// TestEveryTextFieldIsEscaped: whatever text a record carries from
// outside (ids, names, notes, statuses) is written so a spreadsheet shows
// it rather than runs it.
func TestEveryTextFieldIsEscaped(t *testing.T) {
	t.Parallel()
	const bad = "=cmd|'/c calc'!A1"
	const want = "'" + bad
	at := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)

	cb := record(t, export.ChargebackHeader, func(s *export.Stream) error {
		return s.ChargebackRow(nil, financeflow.Chargeback{ClaimID: bad, OrderID: bad, SellerID: bad, SellerName: bad, Reason: bad,
			Status: bad, Recovery: bad, ChargedAt: at, Amount: of(100, "EUR")})
	})
	for _, name := range []string{"claim_id", "order_id", "seller_id", "seller_name", "reason", "status", "recovery"} {
		require.Equal(t, want, column(t, export.ChargebackHeader, cb, name), name)
	}
	require.Equal(t, "2026-11-05T10:00:00Z", column(t, export.ChargebackHeader, cb, "charged_at"))
	require.Equal(t, "", column(t, export.ChargebackHeader, cb, "contest_by"), "no time, no text")

	st := record(t, export.StatementHeader, func(s *export.Stream) error {
		return s.StatementRow(nil, financeflow.StatementLine{StatementEntry: financeflow.StatementEntry{ClaimID: bad, Description: bad,
			Kind: ledger.KindSellerCharge, At: at, Amount: of(100, "EUR")}, Category: finance.CategoryCharge, Balance: of(100, "EUR")})
	})
	for _, name := range []string{"claim_id", "description"} {
		require.Equal(t, want, column(t, export.StatementHeader, st, name), name)
	}

	it := record(t, export.ItemHeader, func(s *export.Stream) error {
		return s.ItemRow(nil, financeflow.RunItem{Seq: 3, Item: finance.Item{Kind: finance.KindStatusMismatch, ClaimID: bad, Provider: bad,
			RefundID: bad, ClaimStatus: bad, ClaimAmount: of(100, "EUR"), ProviderStatus: bad, Detail: bad},
			ResolvedAt: at, ResolvedBy: bad, ResolutionNote: bad})
	})
	for _, name := range []string{"claim_id", "provider", "refund_id", "claim_status", "provider_status", "detail", "resolved_by", "resolution_note"} {
		require.Equal(t, want, column(t, export.ItemHeader, it, name), name)
	}
	require.Equal(t, "3", column(t, export.ItemHeader, it, "seq"))
	require.Equal(t, "EUR", column(t, export.ItemHeader, it, "claim_currency"))
	require.Equal(t, "100", column(t, export.ItemHeader, it, "claim_amount_minor"))
	for _, name := range []string{"provider_currency", "provider_amount_minor", "ledger_currency", "ledger_amount_minor"} {
		require.Equal(t, "", column(t, export.ItemHeader, it, name), "a side with nothing says nothing: %s", name)
	}

	lg := record(t, export.LedgerHeader, func(s *export.Stream) error {
		return s.LedgerRows(financeflow.LedgerTransaction{ID: 9, Key: bad, Kind: ledger.KindRefund, ClaimID: bad, Description: bad, At: at,
			Postings: []financeflow.LedgerPosting{{Account: ledger.Account(bad), Amount: of(-100, "EUR")}}})
	})
	for _, name := range []string{"key", "claim_id", "description", "account"} {
		require.Equal(t, want, column(t, export.LedgerHeader, lg, name), name)
	}
}

func TestTotalsRecords(t *testing.T) {
	t.Parallel()
	eur := money.MustCurrency("EUR")
	p := finance.Period{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}

	cb := export.ChargebackTotalRecords(financeflow.ChargebackTotals{Currency: eur, Count: 3, Charged: 3000, Released: 1000, Standing: 2000})
	require.Equal(t, [][]string{
		{"total_charged", "", "", "", "", "", "", "", "", "", "EUR", "3000", "30.00"},
		{"total_released", "", "", "", "", "", "", "", "", "", "EUR", "1000", "10.00"},
		{"total_standing", "", "", "", "", "", "", "", "", "", "EUR", "2000", "20.00"},
	}, cb)

	require.Equal(t, [][]string{
		{"opening", "2026-11-01T00:00:00Z", "", "", "", "", "", "EUR", "500", "5.00", "", ""},
		{"opening", "2026-11-01T00:00:00Z", "", "", "", "", "", "JPY", "-7", "-7", "", ""},
	}, export.StatementOpeningRecords([]money.Money{money.Of(500, eur), of(-7, "JPY")}, p))
	require.Empty(t, export.StatementOpeningRecords(nil, p))
	st := finance.StatementTotals{Currency: eur, Opening: 500, Charges: 2000, Reversals: -1000, Recoveries: -550, Adjustments: 1, Closing: 951}
	require.Equal(t, [][]string{
		{"charges", "", "", "", "", "", "", "EUR", "2000", "20.00", "", ""},
		{"reversals", "", "", "", "", "", "", "EUR", "-1000", "-10.00", "", ""},
		{"recoveries", "", "", "", "", "", "", "EUR", "-550", "-5.50", "", ""},
		{"adjustments", "", "", "", "", "", "", "EUR", "1", "0.01", "", ""},
		{"closing", "2026-12-01T00:00:00Z", "", "", "", "", "", "EUR", "951", "9.51", "", ""},
	}, export.StatementTotalRecords(st, p))
	require.Equal(t, export.StatementTotalRecords(st, p)[4], export.StatementClosingRecord(st, p))
}

// TestRowsReuseOneRecord: rows of different lengths written one after
// another each come out whole, and a ledger transaction gives one record a
// posting; a JSON stream writes the row's value and no CSV.
func TestRowsReuseOneRecord(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
	rs := records(t, export.LedgerHeader, func(s *export.Stream) error {
		for i := int64(1); i <= 3; i++ {
			tx := financeflow.LedgerTransaction{ID: i, Key: "k", Kind: ledger.KindRefund, At: at}
			for j := int64(0); j < i; j++ {
				tx.Postings = append(tx.Postings, financeflow.LedgerPosting{Account: "a", Amount: of(j, "EUR")})
			}
			if err := s.LedgerRows(tx); err != nil {
				return err
			}
		}
		return nil
	})
	var got []string
	for _, r := range rs {
		got = append(got, r[0]+" "+r[8])
	}
	require.Equal(t, []string{"1 0", "2 0", "2 1", "3 0", "3 1", "3 2"}, got)

	items := records(t, export.ItemHeader, func(s *export.Stream) error {
		if err := s.ItemRow(nil, financeflow.RunItem{Seq: 1, Item: finance.Item{Kind: finance.KindMatched, ClaimAmount: of(5, "EUR"),
			ProviderAmount: of(5, "EUR"), LedgerAmount: of(5, "EUR")}}); err != nil {
			return err
		}
		return s.ItemRow(nil, financeflow.RunItem{Seq: 2, Item: finance.Item{Kind: finance.KindMissingClaim, RefundID: "re_1"}})
	})
	require.Equal(t, [][]string{
		{"1", "matched", "", "", "", "", "EUR", "5", "", "EUR", "5", "EUR", "5", "", "", "", ""},
		{"2", "missing_claim", "", "", "re_1", "", "", "", "", "", "", "", "", "", "", "", ""},
	}, items)

	w := httptest.NewRecorder()
	s, err := export.NewJSON(w, nil, "rows", nil)
	require.NoError(t, err)
	require.NoError(t, s.ItemRow(map[string]int{"seq": 1}, financeflow.RunItem{Seq: 1}))
	require.NoError(t, s.LedgerRows(financeflow.LedgerTransaction{ID: 1, Postings: []financeflow.LedgerPosting{{Account: "a"}}}))
	require.NoError(t, s.Close(nil))
	require.Equal(t, `{"rows":[{"seq":1}]}`, w.Body.String())
}
