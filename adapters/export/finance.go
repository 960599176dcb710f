package export

import (
	"strconv"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// The CSV layouts of finance's downloads, one each, whichever door sends
// them. Amounts are written twice: in minor units (exact, for machines)
// and in the currency's major unit (for people). A row's record is filled
// into one record the stream reuses, and only for CSV: a JSON export never
// formats it.

// ChargebackHeader heads the chargebacks CSV: one "chargeback" record a
// charge, then each currency's totals (ChargebackTotalRecords).
var ChargebackHeader = []string{"record", "charged_at", "claim_id", "order_id", "seller_id", "seller_name", "reason",
	"status", "contest_by", "recovery", "currency", "amount_minor", "amount"}

// ChargebackRow writes one charge: v as JSON, or its record as CSV.
func (s *Stream) ChargebackRow(v any, cb financeflow.Chargeback) error {
	return s.fill(v, func(r []string) []string {
		return append(r, "chargeback", Time(cb.ChargedAt), Cell(cb.ClaimID), Cell(cb.OrderID), Cell(cb.SellerID), Cell(cb.SellerName),
			Cell(cb.Reason), Cell(cb.Status), Time(cb.ContestBy), Cell(cb.Recovery),
			cb.Amount.Currency().String(), Minor(cb.Amount), cb.Amount.Decimal())
	})
}

// ChargebackTotalRecords are a currency's totals: total_charged,
// total_released and total_standing.
func ChargebackTotalRecords(t financeflow.ChargebackTotals) [][]string {
	const at = 10 // the currency column
	return [][]string{
		totalRecord(len(ChargebackHeader), at, "total_charged", money.Of(t.Charged, t.Currency)),
		totalRecord(len(ChargebackHeader), at, "total_released", money.Of(t.Released, t.Currency)),
		totalRecord(len(ChargebackHeader), at, "total_standing", money.Of(t.Standing, t.Currency)),
	}
}

// StatementHeader heads a seller statement's CSV: an "opening" record a
// currency owed before the period, an "entry" record a posting with the
// balance after it, then totals.
var StatementHeader = []string{"record", "at", "transaction_id", "category", "kind", "claim_id", "description",
	"currency", "amount_minor", "amount", "balance_minor", "balance"}

// statementAmountAt is the currency column of StatementHeader.
const statementAmountAt = 7

// StatementOpeningRecords are what the seller owed at the period's
// start, one record a currency.
func StatementOpeningRecords(opening []money.Money, p finance.Period) [][]string {
	out := make([][]string, 0, len(opening))
	for _, m := range opening {
		r := totalRecord(len(StatementHeader), statementAmountAt, "opening", m)
		r[1] = Time(p.From)
		out = append(out, r)
	}
	return out
}

// StatementRow writes one entry of the statement and the balance after
// it: v as JSON, or its record as CSV.
func (s *Stream) StatementRow(v any, l financeflow.StatementLine) error {
	return s.fill(v, func(r []string) []string {
		return append(r, "entry", Time(l.At), strconv.FormatInt(l.TransactionID, 10), string(l.Category), string(l.Kind),
			Cell(l.ClaimID), Cell(l.Description), l.Amount.Currency().String(), Minor(l.Amount), l.Amount.Decimal(),
			Minor(l.Balance), l.Balance.Decimal())
	})
}

// StatementTotalRecords are a currency's totals: charges, reversals,
// recoveries, adjustments, and the closing balance at the period's end
// (StatementClosingRecord).
func StatementTotalRecords(t finance.StatementTotals, p finance.Period) [][]string {
	out := make([][]string, 0, 5)
	for _, line := range []struct {
		label  string
		amount int64
	}{{"charges", t.Charges}, {"reversals", t.Reversals}, {"recoveries", t.Recoveries}, {"adjustments", t.Adjustments}} {
		out = append(out, totalRecord(len(StatementHeader), statementAmountAt, line.label, money.Of(line.amount, t.Currency)))
	}
	return append(out, StatementClosingRecord(t, p))
}

// StatementClosingRecord is what the seller owed in a currency at the
// period's end.
func StatementClosingRecord(t finance.StatementTotals, p finance.Period) []string {
	r := totalRecord(len(StatementHeader), statementAmountAt, "closing", money.Of(t.Closing, t.Currency))
	r[1] = Time(p.To)
	return r
}

// ItemHeader heads a reconciliation run's items CSV.
var ItemHeader = []string{"seq", "kind", "claim_id", "provider", "refund_id",
	"claim_status", "claim_currency", "claim_amount_minor", "provider_status", "provider_currency", "provider_amount_minor",
	"ledger_currency", "ledger_amount_minor", "detail", "resolved_at", "resolved_by", "resolution_note"}

// ItemRow writes one item of a run: what the claim, the provider and the
// ledger each say (a side with nothing to say is left empty), and how an
// exception was resolved; v as JSON, or its record as CSV.
func (s *Stream) ItemRow(v any, it financeflow.RunItem) error {
	return s.fill(v, func(r []string) []string {
		r = append(r, strconv.Itoa(it.Seq), string(it.Kind), Cell(it.ClaimID), Cell(it.Provider), Cell(it.RefundID), Cell(it.ClaimStatus))
		r = appendSide(r, it.ClaimAmount)
		r = append(r, Cell(it.ProviderStatus))
		r = appendSide(r, it.ProviderAmount)
		r = appendSide(r, it.LedgerAmount)
		return append(r, Cell(it.Detail), Time(it.ResolvedAt), Cell(it.ResolvedBy), Cell(it.ResolutionNote))
	})
}

// appendSide appends one side's currency and minor units, or two empty
// fields for a side that has no amount.
func appendSide(r []string, m money.Money) []string {
	if m.Currency().IsZero() {
		return append(r, "", "")
	}
	return append(r, m.Currency().String(), Minor(m))
}

// LedgerHeader heads the ledger's CSV: one record a posting.
var LedgerHeader = []string{"transaction_id", "at", "key", "kind", "claim_id", "description", "account", "currency", "amount_minor", "amount"}

// LedgerRows writes the ledger transaction t as CSV, one record a
// posting. (The ledger is exported as CSV only; a JSON stream writes
// nothing.)
func (s *Stream) LedgerRows(t financeflow.LedgerTransaction) error {
	if s.cw == nil {
		return nil
	}
	for _, p := range t.Postings {
		err := s.fill(nil, func(r []string) []string {
			return append(r, strconv.FormatInt(t.ID, 10), Time(t.At), Cell(t.Key), string(t.Kind), Cell(t.ClaimID),
				Cell(t.Description), Cell(string(p.Account)), p.Amount.Currency().String(), Minor(p.Amount), p.Amount.Decimal())
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// fill writes one row: v as JSON, or as CSV the record that appendTo
// appends to the stream's reused, emptied record.
func (s *Stream) fill(v any, appendTo func(record []string) []string) error {
	if s.cw == nil {
		return s.Row(v, nil)
	}
	s.record = appendTo(s.record[:0])
	return s.Row(nil, s.record)
}

// totalRecord is a record of width fields with label first and m's
// currency, minor units and major units from column at.
func totalRecord(width, at int, label string, m money.Money) []string {
	r := make([]string, width)
	r[0] = label
	r[at], r[at+1], r[at+2] = m.Currency().String(), Minor(m), m.Decimal()
	return r
}
