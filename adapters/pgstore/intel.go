package pgstore

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/intel"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

var _ intelflow.Store = (*Store)(nil)

// lineStatusSQL is a counterfeit line's status as the brand sees it (see
// intelflow's statuses), over counterfeit_lines l and the brand's
// verdict v.
const lineStatusSQL = `(CASE WHEN l.charge_status IN ('reversed', 'waived', 'voided') THEN 'cleared'
	WHEN v.verdict = 'genuine' THEN 'disputed'
	WHEN l.charge_status IN ('final', 'upheld') OR v.verdict = 'counterfeit' THEN 'confirmed'
	ELSE 'pending' END)`

// linesFrom joins a line with its seller, claim and the brand's verdict.
const linesFrom = ` FROM counterfeit_lines l
	JOIN sellers s ON s.id = l.seller_id
	JOIN claims c ON c.id = l.claim_id
	LEFT JOIN authentication_verdicts v ON v.claim_id = l.claim_id AND v.brand_id = l.brand_id`

const lineColumns = `SELECT l.claim_id, l.line, coalesce(l.brand_id, ''), l.seller_id, s.name, l.sku, l.item_name,
	l.quantity, l.amount, l.currency, l.claimed_at, l.charge_status, l.status_at, c.evidence, ` + lineStatusSQL + `,
	v.subject, v.verdict, v.note, v.document_url, v.revisions, v.created_at, v.updated_at, c.status`

func scanLine(rows pgx.CollectableRow) (intelflow.Line, error) {
	var l intelflow.Line
	var statusAt time.Time
	var evidence []byte
	var vSubject, vVerdict, vNote, vDoc *string
	var vRevisions *int
	var vCreated, vUpdated *time.Time
	var claimStatus string
	if err := rows.Scan(&l.ClaimID, &l.Line, &l.BrandID, &l.SellerID, &l.SellerName, &l.SKU, &l.ItemName,
		&l.Quantity, &l.Amount, &l.Currency, &l.ClaimedAt, &l.ChargeStatus, &statusAt, &evidence, &l.Status,
		&vSubject, &vVerdict, &vNote, &vDoc, &vRevisions, &vCreated, &vUpdated, &claimStatus); err != nil {
		return l, err
	}
	l.ClaimedAt = l.ClaimedAt.UTC()
	if l.ChargeStatus == claim.ChargebackFinal.String() || l.ChargeStatus == claim.ChargebackUpheld.String() {
		at := statusAt.UTC()
		l.ConfirmedAt = &at
	}
	var ev []evidenceJSON
	if err := json.Unmarshal(evidence, &ev); err != nil {
		return l, fmt.Errorf("claim %s evidence: %w", l.ClaimID, err)
	}
	l.Evidence = make([]claim.Evidence, len(ev))
	for i, e := range ev {
		l.Evidence[i] = claim.Evidence{Kind: e.Kind, URL: e.URL}
	}
	if vVerdict != nil {
		verdict, err := intel.ParseVerdict(*vVerdict)
		if err != nil {
			return l, err
		}
		l.Verdict = &intelflow.Verdict{ClaimID: l.ClaimID, BrandID: l.BrandID, Subject: *vSubject, Verdict: verdict,
			Note: *vNote, Revisions: *vRevisions, CreatedAt: vCreated.UTC(), UpdatedAt: vUpdated.UTC(),
			Settled: settledOf(l.ChargeStatus, claimStatus)}
		if vDoc != nil {
			l.Verdict.DocumentURL = *vDoc
		}
	}
	return l, nil
}

// settledOf is where a claim's charge stands, for rating verdicts.
func settledOf(chargeStatus, claimStatus string) intel.Settled {
	switch chargeStatus {
	case claim.ChargebackFinal.String(), claim.ChargebackUpheld.String():
		return intel.SettledConfirmed
	case claim.ChargebackReversed.String(), claim.ChargebackWaived.String(), claim.ChargebackVoided.String():
		return intel.SettledCleared
	}
	if claimStatus == claim.StatusRejected.String() {
		return intel.SettledCleared
	}
	return intel.SettledPending
}

// lineCursor is where a page of lines stopped: the last line's claim
// time, claim and line.
type lineCursor struct {
	At    time.Time
	Claim string
	Line  int
}

func (c lineCursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.At.Format(time.RFC3339Nano) + "|" + c.Claim + "|" + strconv.Itoa(c.Line)))
}

func decodeLineCursor(s string) (lineCursor, error) {
	bad := validation.New("cursor", "invalid_cursor", "is not a cursor this list gave")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return lineCursor{}, bad
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != 3 {
		return lineCursor{}, bad
	}
	at, err := time.Parse(time.RFC3339Nano, parts[0])
	if err != nil {
		return lineCursor{}, bad
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil || n < 0 || n > 1000 || validation.CheckID("cursor", parts[1]) != nil {
		return lineCursor{}, bad
	}
	return lineCursor{At: at, Claim: parts[1], Line: n}, nil
}

// brandLinesQuery is the query of a brand's lines in q's period and
// status, newest first, after q's cursor.
func brandLinesQuery(brandID string, q intelflow.Query) (string, []any, error) {
	sql := lineColumns + linesFrom + ` WHERE l.brand_id = $1 AND l.claimed_at >= $2 AND l.claimed_at < $3`
	args := []any{brandID, q.From, q.To}
	if q.Status != intelflow.StatusAll {
		args = append(args, q.Status)
		sql += fmt.Sprintf(" AND %s = $%d", lineStatusSQL, len(args))
	}
	if q.Cursor != "" {
		cur, err := decodeLineCursor(q.Cursor)
		if err != nil {
			return "", nil, err
		}
		args = append(args, cur.At, cur.Claim, cur.Line)
		sql += fmt.Sprintf(" AND (l.claimed_at, l.claim_id, l.line) < ($%d, $%d, $%d)", len(args)-2, len(args)-1, len(args))
	}
	return sql + " ORDER BY l.claimed_at DESC, l.claim_id DESC, l.line DESC", args, nil
}

// BrandLines implements intelflow.Store.
func (s *Store) BrandLines(ctx context.Context, brandID string, q intelflow.Query) ([]intelflow.Line, string, error) {
	sql, args, err := brandLinesQuery(brandID, q)
	if err != nil {
		return nil, "", err
	}
	args = append(args, q.Limit+1)
	rows, err := s.pool.Query(ctx, sql+fmt.Sprintf(" LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, "", storeError(err, "brand %s lines", brandID)
	}
	lines, err := pgx.CollectRows(rows, scanLine)
	if err != nil {
		return nil, "", storeError(err, "brand %s lines", brandID)
	}
	next := ""
	if len(lines) > q.Limit {
		lines = lines[:q.Limit]
		last := lines[len(lines)-1]
		next = lineCursor{At: last.ClaimedAt, Claim: last.ClaimID, Line: last.Line}.encode()
	}
	return lines, next, nil
}

// EachBrandLine implements intelflow.Store.
func (s *Store) EachBrandLine(ctx context.Context, brandID string, q intelflow.Query, fn func(intelflow.Line) error) error {
	q.Cursor = ""
	sql, args, err := brandLinesQuery(brandID, q)
	if err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return storeError(err, "brand %s lines", brandID)
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanLine(rows)
		if err != nil {
			return storeError(err, "brand %s lines", brandID)
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return storeError(err, "brand %s lines", brandID)
	}
	return nil
}

// brandTotalsSQL totals a brand's lines of a period: x is every line with
// its status, y the confirmed ones. Claims are counted as lines that are
// their claim's first of the brand (brand_first), except by SKU, where a
// claim has one line at most; shoppers as distinct pairs. Every aggregate
// hashes: no DISTINCT, which would sort.
const brandTotalsSQL = `
	WITH x AS MATERIALIZED (
	    SELECT l.seller_id, l.sku, l.item_name, l.quantity, l.amount, l.currency, l.shopper_id, l.brand_first,
	           to_char(l.claimed_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, ` + lineStatusSQL + ` AS status
	      FROM counterfeit_lines l
	      LEFT JOIN authentication_verdicts v ON v.claim_id = l.claim_id AND v.brand_id = l.brand_id
	     WHERE l.brand_id = $1 AND l.claimed_at >= $2 AND l.claimed_at < $3),
	y AS MATERIALIZED (SELECT * FROM x WHERE status = 'confirmed')
	SELECT CASE WHEN grouping(seller_id) = 0 THEN 'seller' WHEN grouping(sku) = 0 THEN 'sku'
	            WHEN grouping(month) = 0 THEN 'month' ELSE 'all' END,
	       coalesce(seller_id, sku, month, ''), currency,
	       CASE WHEN grouping(sku) = 0 THEN count(*) ELSE count(*) FILTER (WHERE brand_first) END,
	       sum(quantity)::bigint, sum(amount)::bigint, 0::bigint, coalesce(max(item_name), '')
	  FROM y GROUP BY GROUPING SETS ((seller_id, currency), (sku, currency), (month, currency), (currency))
	UNION ALL SELECT 'seller', seller_id, '', 0, 0, 0, count(*), '' FROM (SELECT DISTINCT seller_id, shopper_id FROM y) d GROUP BY seller_id
	UNION ALL SELECT 'sku', sku, '', 0, 0, 0, count(*), '' FROM (SELECT DISTINCT sku, shopper_id FROM y) d GROUP BY sku
	UNION ALL SELECT 'month', month, '', 0, 0, 0, count(*), '' FROM (SELECT DISTINCT month, shopper_id FROM y) d GROUP BY month
	UNION ALL SELECT 'all', '', '', 0, 0, 0, count(*), '' FROM (SELECT DISTINCT shopper_id FROM y) d
	UNION ALL SELECT 'status', status, '', count(*) FILTER (WHERE brand_first), 0, 0, 0, '' FROM x GROUP BY status`

// BrandTotals implements intelflow.Store: one statement over the brand's
// lines of the period (see brandTotalsSQL), then the sellers' names.
func (s *Store) BrandTotals(ctx context.Context, brandID string, from, to time.Time) (intelflow.Totals, error) {
	t := intelflow.Totals{BySeller: []intelflow.Group{}, BySKU: []intelflow.Group{}, ByMonth: []intelflow.Group{},
		Amounts: []intelflow.Amount{}, ByStatus: map[string]int64{}}
	err := s.snapshot(ctx, "brand totals", func(tx pgx.Tx) error {
		// Planned for these arguments each time: a cached generic plan
		// of this statement runs twice as long.
		rows, err := tx.Query(ctx, brandTotalsSQL, pgx.QueryExecModeExec, brandID, from, to)
		if err != nil {
			return err
		}
		groups := map[string]map[string]*intelflow.Group{"seller": {}, "sku": {}, "month": {}}
		for rows.Next() {
			var kind, key, currency, name string
			var claims, units, amount, shoppers int64
			if err := rows.Scan(&kind, &key, &currency, &claims, &units, &amount, &shoppers, &name); err != nil {
				return err
			}
			switch {
			case kind == "status":
				t.ByStatus[key] = claims
				continue
			case kind == "all" && currency == "":
				t.Shoppers = shoppers
				continue
			case kind == "all":
				t.Claims += claims // a claim has one currency
				t.Units += units
				t.Amounts = append(t.Amounts, intelflow.Amount{Currency: currency, Amount: amount})
				continue
			}
			g := groups[kind][key]
			if g == nil {
				g = &intelflow.Group{Key: key, Amounts: []intelflow.Amount{}}
				groups[kind][key] = g
			}
			if currency == "" {
				g.Shoppers = shoppers
				continue
			}
			g.Claims += claims
			g.Units += units
			g.Amounts = append(g.Amounts, intelflow.Amount{Currency: currency, Amount: amount})
			if kind == "sku" {
				g.Name = name
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var sellerIDs []string
		for id := range groups["seller"] {
			sellerIDs = append(sellerIDs, id)
		}
		rows, err = tx.Query(ctx, `SELECT id, name FROM sellers WHERE id = ANY($1)`, sellerIDs)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				return err
			}
			groups["seller"][id].Name = name
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for kind, dst := range map[string]*[]intelflow.Group{"seller": &t.BySeller, "sku": &t.BySKU, "month": &t.ByMonth} {
			for _, g := range groups[kind] {
				slices.SortFunc(g.Amounts, func(a, b intelflow.Amount) int { return strings.Compare(a.Currency, b.Currency) })
				*dst = append(*dst, *g)
			}
		}
		slices.SortFunc(t.Amounts, func(a, b intelflow.Amount) int { return strings.Compare(a.Currency, b.Currency) })
		// The biggest sellers and SKUs first; months in order.
		for _, gs := range [][]intelflow.Group{t.BySeller, t.BySKU} {
			slices.SortFunc(gs, func(a, b intelflow.Group) int {
				if a.Claims != b.Claims {
					return cmp.Compare(b.Claims, a.Claims)
				}
				return strings.Compare(a.Key, b.Key)
			})
		}
		slices.SortFunc(t.ByMonth, func(a, b intelflow.Group) int { return strings.Compare(a.Key, b.Key) })
		return nil
	})
	return t, err
}

// HoldersBrands implements intelflow.Store.
func (s *Store) HoldersBrands(ctx context.Context, subject string) ([]intelflow.BrandRef, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT b.id, b.name FROM brands b
		 WHERE $1 = '' OR EXISTS (SELECT 1 FROM brand_rights_holders h WHERE h.brand_id = b.id AND h.subject = $1)
		 ORDER BY b.id`, subject)
	if err != nil {
		return nil, storeError(err, "brands of %s", subject)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (intelflow.BrandRef, error) {
		var b intelflow.BrandRef
		return b, r.Scan(&b.ID, &b.Name)
	})
	if err != nil {
		return nil, storeError(err, "brands of %s", subject)
	}
	return out, nil
}

// PutVerdict implements intelflow.Store: recorded only on a claim with a
// line of the brand; a second verdict replaces the first and counts a
// revision.
func (s *Store) PutVerdict(ctx context.Context, v intelflow.Verdict, now time.Time) (intelflow.Verdict, bool, error) {
	var doc *string
	if v.DocumentURL != "" {
		doc = &v.DocumentURL
	}
	var created bool
	var chargeStatus, claimStatus string
	err := s.pool.QueryRow(ctx, `
		WITH put AS (
		    INSERT INTO authentication_verdicts (claim_id, brand_id, subject, verdict, note, document_url, created_at, updated_at)
		    SELECT $1, $2, $3, $4, $5, $6, $7, $7
		     WHERE EXISTS (SELECT 1 FROM counterfeit_lines WHERE claim_id = $1 AND brand_id = $2)
		    ON CONFLICT (claim_id, brand_id) DO UPDATE
		       SET subject = EXCLUDED.subject, verdict = EXCLUDED.verdict, note = EXCLUDED.note,
		           document_url = EXCLUDED.document_url, updated_at = EXCLUDED.updated_at,
		           revisions = authentication_verdicts.revisions + 1
		    RETURNING (xmax = 0) AS created, revisions, created_at, updated_at)
		SELECT put.created, put.revisions, put.created_at, put.updated_at, coalesce(c.chargeback_status, ''), c.status
		  FROM put, claims c WHERE c.id = $1`,
		v.ClaimID, v.BrandID, v.Subject, v.Verdict.String(), v.Note, doc, now).
		Scan(&created, &v.Revisions, &v.CreatedAt, &v.UpdatedAt, &chargeStatus, &claimStatus)
	if errors.Is(err, pgx.ErrNoRows) {
		return intelflow.Verdict{}, false, &claimflow.NotFoundError{Resource: "claim", ID: v.ClaimID}
	}
	if err != nil {
		return intelflow.Verdict{}, false, storeError(err, "verdict on %s", v.ClaimID)
	}
	v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
	v.Settled = settledOf(chargeStatus, claimStatus)
	return v, created, nil
}

// ClaimVerdicts implements intelflow.Store.
func (s *Store) ClaimVerdicts(ctx context.Context, claimID string) ([]intelflow.Verdict, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT v.claim_id, v.brand_id, v.subject, v.verdict, v.note, coalesce(v.document_url, ''), v.revisions,
		       v.created_at, v.updated_at, coalesce(c.chargeback_status, ''), c.status
		  FROM authentication_verdicts v JOIN claims c ON c.id = v.claim_id
		 WHERE v.claim_id = $1 ORDER BY v.brand_id`, claimID)
	if err != nil {
		return nil, storeError(err, "verdicts on %s", claimID)
	}
	out, err := pgx.CollectRows(rows, scanVerdict)
	if err != nil {
		return nil, storeError(err, "verdicts on %s", claimID)
	}
	return out, nil
}

func scanVerdict(r pgx.CollectableRow) (intelflow.Verdict, error) {
	var v intelflow.Verdict
	var verdict, chargeStatus, claimStatus string
	if err := r.Scan(&v.ClaimID, &v.BrandID, &v.Subject, &verdict, &v.Note, &v.DocumentURL, &v.Revisions,
		&v.CreatedAt, &v.UpdatedAt, &chargeStatus, &claimStatus); err != nil {
		return v, err
	}
	var err error
	v.Verdict, err = intel.ParseVerdict(verdict)
	v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
	v.Settled = settledOf(chargeStatus, claimStatus)
	return v, err
}

// HolderTallies implements intelflow.Store: each verdict with where its
// claim settled, tallied by intel.BorneOut.
func (s *Store) HolderTallies(ctx context.Context, subjects []string) ([]intelflow.Tally, error) {
	q := `SELECT v.claim_id, v.brand_id, v.subject, v.verdict, v.note, coalesce(v.document_url, ''), v.revisions,
	             v.created_at, v.updated_at, coalesce(c.chargeback_status, ''), c.status
	        FROM authentication_verdicts v JOIN claims c ON c.id = v.claim_id`
	var args []any
	if subjects != nil {
		q += ` WHERE v.subject = ANY($1)`
		args = append(args, subjects)
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY v.subject`, args...)
	if err != nil {
		return nil, storeError(err, "rights holders' verdicts")
	}
	vs, err := pgx.CollectRows(rows, scanVerdict)
	if err != nil {
		return nil, storeError(err, "rights holders' verdicts")
	}
	out := []intelflow.Tally{}
	for _, v := range vs {
		if len(out) == 0 || out[len(out)-1].Subject != v.Subject {
			out = append(out, intelflow.Tally{Subject: v.Subject})
		}
		t := &out[len(out)-1]
		t.Verdicts++
		if decided, borne := intel.BorneOut(v.Verdict, v.Settled); decided {
			t.Decided++
			if borne {
				t.BorneOut++
			}
		}
	}
	return out, nil
}

// confirmedLinesSQL are the confirmed lines, as l, with their seller's
// name.
const confirmedLinesSQL = `SELECT l.*, s.name AS seller_name FROM counterfeit_lines l
	JOIN sellers s ON s.id = l.seller_id
	LEFT JOIN authentication_verdicts v ON v.claim_id = l.claim_id AND v.brand_id = l.brand_id
	WHERE ` + lineStatusSQL + ` = 'confirmed'`

// ClusterFacts implements intelflow.Store: the sellers with confirmed
// counterfeits (how many, of which products), and the signals shared by
// two to maxSharers sellers; one statement each.
func (s *Store) ClusterFacts(ctx context.Context, maxSharers int) ([]intel.SellerFacts, error) {
	bySeller := map[string]*intel.SellerFacts{}
	var order []string
	get := func(id string) *intel.SellerFacts {
		f := bySeller[id]
		if f == nil {
			f = &intel.SellerFacts{SellerID: id}
			bySeller[id] = f
			order = append(order, id)
		}
		return f
	}
	err := s.snapshot(ctx, "cluster facts", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT l.seller_id, count(DISTINCT l.claim_id),
			       coalesce(array_agg(DISTINCT l.brand_id || '/' || l.sku) FILTER (WHERE l.brand_id IS NOT NULL), '{}')
			  FROM counterfeit_lines l
			  LEFT JOIN authentication_verdicts v ON v.claim_id = l.claim_id AND v.brand_id = l.brand_id
			 WHERE `+lineStatusSQL+` = 'confirmed'
			 GROUP BY l.seller_id ORDER BY l.seller_id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var n int64
			var products []string
			if err := rows.Scan(&id, &n, &products); err != nil {
				return err
			}
			f := get(id)
			f.Confirmed, f.Products = n, products
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `
			SELECT g.seller_id, g.kind || ':' || encode(g.hash, 'hex')
			  FROM seller_signals g
			  JOIN (SELECT kind, hash FROM seller_signals GROUP BY kind, hash HAVING count(*) BETWEEN 2 AND $1) shared
			 USING (kind, hash)
			 ORDER BY g.seller_id, g.kind`, maxSharers)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, key string
			if err := rows.Scan(&id, &key); err != nil {
				return err
			}
			f := get(id)
			f.Signals = append(f.Signals, key)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	out := make([]intel.SellerFacts, len(order))
	for i, id := range order {
		out[i] = *bySeller[id]
	}
	return out, nil
}

// casesLockKey serialises SyncCases across engine processes.
const casesLockKey = 0x636c6d7363617365 // "clmscase"

// SyncCases implements intelflow.Store.
func (s *Store) SyncCases(ctx context.Context, clusters []intel.Cluster, newID func() (string, error), now time.Time) ([]intelflow.StoredCase, error) {
	var out []intelflow.StoredCase
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(casesLockKey)); err != nil {
			return err
		}
		stored, err := storedCases(ctx, tx, "")
		if err != nil {
			return err
		}
		// intel.Match wants the oldest first.
		oldest := slices.Clone(stored)
		slices.Reverse(oldest)
		keys := make([]intel.StoredCase, len(oldest))
		byID := map[string]intelflow.StoredCase{}
		for i, sc := range oldest {
			keys[i] = intel.StoredCase{ID: sc.ID, Sellers: sc.Sellers}
			byID[sc.ID] = sc
		}
		changed := false
		for i, id := range intel.Match(clusters, keys) {
			sellers := clusters[i].Sellers
			if id != "" && slices.Equal(byID[id].Sellers, sellers) {
				continue
			}
			changed = true
			if id == "" {
				if id, err = newID(); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO intel_cases (id, status, created_at, updated_at) VALUES ($1, $2, $3, $3)`,
					id, intel.StatusOpen.String(), now); err != nil {
					return err
				}
			} else {
				if _, err := tx.Exec(ctx, `DELETE FROM intel_case_sellers WHERE case_id = $1`, id); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `UPDATE intel_cases SET updated_at = $2 WHERE id = $1`, id, now); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO intel_case_sellers (case_id, seller_id) SELECT $1, unnest($2::text[])`,
				id, sellers); err != nil {
				return err
			}
		}
		if !changed {
			out = stored
			return nil
		}
		out, err = storedCases(ctx, tx, "")
		return err
	})
	if err != nil {
		return nil, storeError(err, "sync cases")
	}
	return out, nil
}

// storedCases reads the stored cases (one, given its id), newest first.
func storedCases(ctx context.Context, tx pgx.Tx, id string) ([]intelflow.StoredCase, error) {
	rows, err := tx.Query(ctx, `
		SELECT c.id, c.status, c.created_at, c.updated_at,
		       coalesce(array_agg(s.seller_id ORDER BY s.seller_id) FILTER (WHERE s.seller_id IS NOT NULL), '{}')
		  FROM intel_cases c LEFT JOIN intel_case_sellers s ON s.case_id = c.id
		 WHERE $1 = '' OR c.id = $1
		 GROUP BY c.id ORDER BY c.created_at DESC, c.id DESC`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (intelflow.StoredCase, error) {
		var sc intelflow.StoredCase
		var status string
		if err := r.Scan(&sc.ID, &status, &sc.CreatedAt, &sc.UpdatedAt, &sc.Sellers); err != nil {
			return sc, err
		}
		var err error
		sc.Status, err = intel.ParseStatus(status)
		sc.CreatedAt, sc.UpdatedAt = sc.CreatedAt.UTC(), sc.UpdatedAt.UTC()
		return sc, err
	})
}

// SellerSummaries implements intelflow.Store.
func (s *Store) SellerSummaries(ctx context.Context, sellerIDs []string) ([]intelflow.SellerSummary, error) {
	var out []intelflow.SellerSummary
	err := s.snapshot(ctx, "case sellers", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT s.id, s.name, s.verified, coalesce(st.level, '')
			  FROM sellers s LEFT JOIN seller_standing st ON st.seller_id = s.id
			 WHERE s.id = ANY($1) ORDER BY s.id`, sellerIDs)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (intelflow.SellerSummary, error) {
			sl := intelflow.SellerSummary{Amounts: []intelflow.Amount{}, Brands: []string{}}
			return sl, r.Scan(&sl.ID, &sl.Name, &sl.Verified, &sl.Standing)
		})
		if err != nil {
			return err
		}
		idx := map[string]int{}
		for i, sl := range out {
			idx[sl.ID] = i
		}
		rows, err = tx.Query(ctx, `
			WITH x AS (`+confirmedLinesSQL+` AND l.seller_id = ANY($1))
			SELECT seller_id, coalesce(currency, ''), count(DISTINCT claim_id), sum(amount)::bigint,
			       min(claimed_at), max(claimed_at),
			       coalesce(array_agg(DISTINCT brand_id ORDER BY brand_id) FILTER (WHERE brand_id IS NOT NULL), '{}')
			  FROM x GROUP BY GROUPING SETS ((seller_id), (seller_id, currency))
			 ORDER BY 1, 2`, sellerIDs)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, currency string
			var n, amount int64
			var first, last time.Time
			var brands []string
			if err := rows.Scan(&id, &currency, &n, &amount, &first, &last, &brands); err != nil {
				return err
			}
			i, ok := idx[id]
			if !ok {
				continue
			}
			sl := &out[i]
			if currency != "" {
				sl.Amounts = append(sl.Amounts, intelflow.Amount{Currency: currency, Amount: amount})
				continue
			}
			first, last = first.UTC(), last.UTC()
			sl.Confirmed, sl.FirstSeen, sl.LastSeen, sl.Brands = n, &first, &last, brands
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CaseShoppers implements intelflow.Store.
func (s *Store) CaseShoppers(ctx context.Context, sellerIDs []string) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `WITH x AS (`+confirmedLinesSQL+` AND l.seller_id = ANY($1))
		SELECT count(DISTINCT shopper_id) FROM x`, sellerIDs).Scan(&n)
	if err != nil {
		return 0, storeError(err, "case shoppers")
	}
	return n, nil
}

// SellerLines implements intelflow.Store.
func (s *Store) SellerLines(ctx context.Context, sellerIDs []string, limit int) ([]intelflow.Line, error) {
	rows, err := s.pool.Query(ctx, lineColumns+linesFrom+` WHERE l.seller_id = ANY($1) AND `+lineStatusSQL+` = 'confirmed'
		ORDER BY l.claimed_at DESC, l.claim_id DESC, l.line DESC LIMIT $2`, sellerIDs, limit)
	if err != nil {
		return nil, storeError(err, "case lines")
	}
	lines, err := pgx.CollectRows(rows, scanLine)
	if err != nil {
		return nil, storeError(err, "case lines")
	}
	return lines, nil
}

// GetCase implements intelflow.Store.
func (s *Store) GetCase(ctx context.Context, id string) (intelflow.StoredCase, []intelflow.CaseEvent, error) {
	var sc intelflow.StoredCase
	var events []intelflow.CaseEvent
	err := s.snapshot(ctx, "get case", func(tx pgx.Tx) error {
		cases, err := storedCases(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(cases) == 0 {
			return &claimflow.NotFoundError{Resource: "case", ID: id}
		}
		sc = cases[0]
		rows, err := tx.Query(ctx, `SELECT seq, from_status, to_status, actor_role, actor_id, note, created_at
			FROM intel_case_events WHERE case_id = $1 ORDER BY seq`, id)
		if err != nil {
			return err
		}
		events, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (intelflow.CaseEvent, error) {
			var e intelflow.CaseEvent
			var from, to, role string
			if err := r.Scan(&e.Seq, &from, &to, &role, &e.Actor.Subject, &e.Note, &e.At); err != nil {
				return e, err
			}
			e.Actor.Role, e.At = claimflow.Role(role), e.At.UTC()
			var err error
			if e.From, err = intel.ParseStatus(from); err != nil {
				return e, err
			}
			e.To, err = intel.ParseStatus(to)
			return e, err
		})
		return err
	})
	var nf *claimflow.NotFoundError
	if errors.As(err, &nf) {
		return intelflow.StoredCase{}, nil, nf
	}
	if err != nil {
		return intelflow.StoredCase{}, nil, err
	}
	return sc, events, nil
}

// MoveCase implements intelflow.Store.
func (s *Store) MoveCase(ctx context.Context, id string, from, to intel.Status, by claimflow.Viewer, note string, now time.Time) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE intel_cases SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2`,
			id, from.String(), to.String(), now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return intelflow.ErrCaseMoved
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO intel_case_events (case_id, seq, from_status, to_status, actor_role, actor_id, note, created_at)
			SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5, $6, $7 FROM intel_case_events WHERE case_id = $1`,
			id, from.String(), to.String(), string(by.Role), by.Subject, note, now)
		return err
	})
	if errors.Is(err, intelflow.ErrCaseMoved) {
		return err
	}
	if err != nil {
		return storeError(err, "move case %s", id)
	}
	return nil
}

// LogAccess implements intelflow.Store.
func (s *Store) LogAccess(ctx context.Context, a intelflow.Access) error {
	detail, err := json.Marshal(a.Detail)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO intel_access_log (at, role, subject, action, resource, detail, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.At, a.Role, a.Subject, a.Action, a.Resource, detail, a.RequestID)
	if err != nil {
		return storeError(err, "log intelligence access")
	}
	return nil
}

// AccessLog implements intelflow.Store.
func (s *Store) AccessLog(ctx context.Context, before int64, limit int) ([]intelflow.Access, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, at, role, subject, action, resource, detail, request_id
		FROM intel_access_log WHERE $1 = 0 OR id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, storeError(err, "access log")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (intelflow.Access, error) {
		var a intelflow.Access
		var detail []byte
		if err := r.Scan(&a.ID, &a.At, &a.Role, &a.Subject, &a.Action, &a.Resource, &detail, &a.RequestID); err != nil {
			return a, err
		}
		a.At = a.At.UTC()
		return a, json.Unmarshal(detail, &a.Detail)
	})
	if err != nil {
		return nil, storeError(err, "access log")
	}
	return out, nil
}
