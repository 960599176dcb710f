package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/standing"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/standingflow"
)

var _ standingflow.Store = (*Store)(nil)

// countsJSON is standing.Counts as seller_standing.inputs keeps it.
type countsJSON struct {
	Orders                int64 `json:"orders"`
	Claims                int64 `json:"claims"`
	Counterfeit           int64 `json:"counterfeit"`
	ConfirmedCounterfeits int64 `json:"confirmed_counterfeits"`
	ContestsWon           int64 `json:"contests_won"`
	ContestsLost          int64 `json:"contests_lost"`
	Released              int64 `json:"released"`
}

type inputsJSON struct {
	Recent            countsJSON `json:"recent"`
	Year              countsJSON `json:"year"`
	PlatformRiskScore int        `json:"platform_risk_score"`
	Verified          bool       `json:"verified"`
}

func toCountsJSON(c standing.Counts) countsJSON {
	return countsJSON{c.Orders, c.Claims, c.Counterfeit, c.ConfirmedCounterfeits, c.ContestsWon, c.ContestsLost, c.Released}
}

func (c countsJSON) domain() standing.Counts {
	return standing.Counts{Orders: c.Orders, Claims: c.Claims, Counterfeit: c.Counterfeit,
		ConfirmedCounterfeits: c.ConfirmedCounterfeits, ContestsWon: c.ContestsWon,
		ContestsLost: c.ContestsLost, Released: c.Released}
}

// standingCounts are the claim counts of one window, as FILTER clauses
// over the seller's claims; @from is the window's start.
func standingCounts(prefix, from string) string {
	live := "status <> '" + claim.StatusRejected.String() + "' AND created_at >= " + from
	cf := " AND reason = '" + claim.ReasonCounterfeit.String() + "'"
	cb := func(statuses ...claim.ChargebackStatus) string {
		s := make([]string, len(statuses))
		for i, st := range statuses {
			s[i] = "'" + st.String() + "'"
		}
		return " AND chargeback_status IN (" + strings.Join(s, ", ") + ")"
	}
	cols := []struct{ name, where string }{
		{"claims", live},
		{"counterfeit", live + cf},
		{"confirmed", live + cf + cb(claim.ChargebackFinal, claim.ChargebackUpheld)},
		{"won", live + cb(claim.ChargebackReversed)},
		{"lost", live + cb(claim.ChargebackUpheld)},
		{"released", live + cb(claim.ChargebackReversed, claim.ChargebackWaived)},
	}
	var b strings.Builder
	for _, c := range cols {
		fmt.Fprintf(&b, ", count(*) FILTER (WHERE %s) AS %s_%s", c.where, prefix, c.name)
	}
	return b.String()
}

var standingInputsSQL = `
	SELECT s.risk_score, s.verified, o.r_orders, o.y_orders,
	       c.r_claims, c.r_counterfeit, c.r_confirmed, c.r_won, c.r_lost, c.r_released,
	       c.y_claims, c.y_counterfeit, c.y_confirmed, c.y_won, c.y_lost, c.y_released
	  FROM sellers s
	 CROSS JOIN LATERAL (
	       SELECT count(*) FILTER (WHERE paid_at >= @recent) AS r_orders, count(*) AS y_orders
	         FROM orders WHERE seller_id = s.id AND paid_at >= @year AND paid_at <= @now) o
	 CROSS JOIN LATERAL (
	       SELECT NULL` + standingCounts("r", "@recent") + standingCounts("y", "@year") + `
	         FROM claims WHERE seller_id = s.id AND created_at >= @year AND created_at <= @now) c
	 WHERE s.id = @seller`

// StandingInputs implements standingflow.Store: one statement, range scans
// on the seller's orders by payment time and claims by creation time.
func (s *Store) StandingInputs(ctx context.Context, sellerID string, now time.Time) (standing.Inputs, error) {
	var row struct {
		RiskScore, ROrders, YOrders                               int64
		Verified                                                  bool
		RClaims, RCounterfeit, RConfirmed, RWon, RLost, RReleased int64
		YClaims, YCounterfeit, YConfirmed, YWon, YLost, YReleased int64
	}
	day := 24 * time.Hour
	res := s.conn(ctx).Raw(standingInputsSQL, map[string]any{
		"seller": sellerID, "now": now,
		"recent": now.Add(-standing.RecentDays * day), "year": now.Add(-standing.YearDays * day),
	}).Scan(&row)
	if res.Error != nil {
		return standing.Inputs{}, storeError(res.Error, "standing inputs of %s", sellerID)
	}
	if res.RowsAffected == 0 {
		return standing.Inputs{}, &claimflow.NotFoundError{Resource: "seller", ID: sellerID}
	}
	return standing.Inputs{
		Recent: standing.Counts{Orders: row.ROrders, Claims: row.RClaims, Counterfeit: row.RCounterfeit,
			ConfirmedCounterfeits: row.RConfirmed, ContestsWon: row.RWon, ContestsLost: row.RLost, Released: row.RReleased},
		Year: standing.Counts{Orders: row.YOrders, Claims: row.YClaims, Counterfeit: row.YCounterfeit,
			ConfirmedCounterfeits: row.YConfirmed, ContestsWon: row.YWon, ContestsLost: row.YLost, Released: row.YReleased},
		PlatformRiskScore: int(row.RiskScore), Verified: row.Verified,
	}, nil
}

type standingRow struct {
	SellerID   string `gorm:"primaryKey"`
	Level      string
	Score      int
	Inputs     string `gorm:"type:jsonb"`
	ComputedAt time.Time
}

func (standingRow) TableName() string { return "seller_standing" }

func (row standingRow) stored() (standingflow.Stored, error) {
	var in inputsJSON
	if err := json.Unmarshal([]byte(row.Inputs), &in); err != nil {
		return standingflow.Stored{}, fmt.Errorf("standing of %s: %w", row.SellerID, err)
	}
	lv, err := standing.ParseLevel(row.Level)
	if err != nil {
		return standingflow.Stored{}, fmt.Errorf("standing of %s: %w", row.SellerID, err)
	}
	return standingflow.Stored{
		Level: lv, Score: row.Score, ComputedAt: row.ComputedAt.UTC(),
		Inputs: standing.Inputs{Recent: in.Recent.domain(), Year: in.Year.domain(),
			PlatformRiskScore: in.PlatformRiskScore, Verified: in.Verified},
	}, nil
}

// SaveStanding implements standingflow.Store. The seller's row is locked
// while the level is compared, so two refreshes of one seller record one
// change, not two.
func (s *Store) SaveStanding(ctx context.Context, sellerID string, st standingflow.Stored, change standingflow.Change) (standing.Level, error) {
	b, err := json.Marshal(inputsJSON{Recent: toCountsJSON(st.Inputs.Recent), Year: toCountsJSON(st.Inputs.Year),
		PlatformRiskScore: st.Inputs.PlatformRiskScore, Verified: st.Inputs.Verified})
	if err != nil {
		return "", err
	}
	prev := standing.LevelStandard
	err = s.inTx(ctx, func(tx *gorm.DB) error {
		var old standingRow
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("seller_id = ?", sellerID).Take(&old).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
		case err != nil:
			return err
		default:
			if prev, err = standing.ParseLevel(old.Level); err != nil {
				return err
			}
		}
		row := standingRow{SellerID: sellerID, Level: st.Level.String(), Score: st.Score, Inputs: string(b), ComputedAt: st.ComputedAt}
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error; err != nil {
			return err
		}
		if prev == st.Level {
			return nil
		}
		return tx.Exec(`INSERT INTO seller_standing_events (seller_id, from_level, to_level, score, why, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, sellerID, prev.String(), st.Level.String(), change.Score, change.Why, change.At).Error
	})
	if err != nil {
		return "", storeError(err, "save standing of %s", sellerID)
	}
	return prev, nil
}

// GetStanding implements standingflow.Store.
func (s *Store) GetStanding(ctx context.Context, sellerID string) (standingflow.Stored, bool, error) {
	var row standingRow
	err := s.conn(ctx).Where("seller_id = ?", sellerID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return standingflow.Stored{}, false, nil
	}
	if err != nil {
		return standingflow.Stored{}, false, storeError(err, "standing of %s", sellerID)
	}
	st, err := row.stored()
	return st, err == nil, err
}

// StandingChanges implements standingflow.Store.
func (s *Store) StandingChanges(ctx context.Context, sellerID string, limit int) ([]standingflow.Change, error) {
	var rows []struct {
		FromLevel, ToLevel, Why string
		Score                   int
		CreatedAt               time.Time
	}
	if err := s.conn(ctx).Raw(`SELECT from_level, to_level, why, score, created_at FROM seller_standing_events
		WHERE seller_id = ? ORDER BY seq DESC LIMIT ?`, sellerID, limit).Scan(&rows).Error; err != nil {
		return nil, storeError(err, "standing timeline of %s", sellerID)
	}
	out := make([]standingflow.Change, 0, len(rows))
	for _, r := range rows {
		from, err1 := standing.ParseLevel(r.FromLevel)
		to, err2 := standing.ParseLevel(r.ToLevel)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("standing timeline of %s: %w", sellerID, err)
		}
		out = append(out, standingflow.Change{From: from, To: to, Score: r.Score, Why: r.Why, At: r.CreatedAt.UTC()})
	}
	return out, nil
}

// NotedChanges implements standingflow.Store, the sellers whose oldest
// note is oldest first. A note that commits after this read is read next
// time: ClearNotes removes only the ids it was given.
func (s *Store) NotedChanges(ctx context.Context, before time.Time, limit int) ([]standingflow.Noted, error) {
	var rows []struct {
		SellerID string
		IDs      string
	}
	if err := s.conn(ctx).Raw(`
		SELECT n.seller_id, string_agg(n.id::text, ',') AS ids
		  FROM seller_standing_changes n
		  LEFT JOIN seller_standing st ON st.seller_id = n.seller_id
		 WHERE st.computed_at IS NULL OR st.computed_at < ?
		 GROUP BY n.seller_id
		 ORDER BY min(n.id)
		 LIMIT ?`, before, limit).Scan(&rows).Error; err != nil {
		return nil, storeError(err, "noted standing changes")
	}
	out := make([]standingflow.Noted, 0, len(rows))
	for _, r := range rows {
		nt := standingflow.Noted{SellerID: r.SellerID}
		for f := range strings.SplitSeq(r.IDs, ",") {
			id, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("standing note of %s: %w", r.SellerID, err)
			}
			nt.IDs = append(nt.IDs, id)
		}
		out = append(out, nt)
	}
	return out, nil
}

// ClearNotes implements standingflow.Store.
func (s *Store) ClearNotes(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.conn(ctx).Exec(`DELETE FROM seller_standing_changes WHERE id IN ?`, ids).Error; err != nil {
		return storeError(err, "clear standing notes")
	}
	return nil
}

// StaleStandings implements standingflow.Store.
func (s *Store) StaleStandings(ctx context.Context, before time.Time, limit int) ([]string, error) {
	var ids []string
	if err := s.conn(ctx).Raw(`SELECT seller_id FROM seller_standing WHERE computed_at < ? ORDER BY computed_at LIMIT ?`,
		before, limit).Scan(&ids).Error; err != nil {
		return nil, storeError(err, "stale standings")
	}
	return ids, nil
}
