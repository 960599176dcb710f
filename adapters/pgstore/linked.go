package pgstore

import (
	"strings"
)

// maxLinks bounds how many (shopper, signal) links intake reads for one
// claim: a signal many shoppers share (a parcel locker's address, a shop's
// shared tablet) must not make a claim's intake walk them all. Past it the
// counts are of the first maxLinks links found, which is far beyond any
// policy's threshold.
const maxLinks = 1000

// linkedAccounts is what intake learns of the shoppers linked to one.
type linkedAccounts struct {
	Shoppers int
	Signals  string // kinds that linked, comma-separated, in name order
	Claims   int
	Claimed  int64
}

// linkedSQL finds the shoppers who share an identity signal with @buyer,
// and their claims since @since: how many (any outcome) and the sum of
// those not rejected in @currency (@rejected names that status, @max is
// maxLinks). It is one row, read by intake inside its own statement. The
// buyer's own signals come by buyer_signals_shopper_idx (a shopper with
// none costs that one index probe and nothing else), the shoppers behind
// each by the primary key's (kind, hash), their claims by
// claims_shopper_created_idx, one linked shopper at a time.
const linkedSQL = `
	WITH links AS (
	    SELECT other.shopper_id, other.kind
	    FROM buyer_signals mine
	    JOIN buyer_signals other ON other.kind = mine.kind AND other.hash = mine.hash
	                            AND other.shopper_id <> mine.shopper_id
	    WHERE mine.shopper_id = @buyer
	    LIMIT @max
	), shoppers AS (
	    SELECT DISTINCT shopper_id FROM links
	)
	SELECT (SELECT count(*) FROM shoppers)::int AS shoppers,
	       (SELECT coalesce(string_agg(DISTINCT kind, ',' ORDER BY kind), '') FROM links) AS signals,
	       coalesce(sum(h.claims), 0)::int AS claims,
	       coalesce(sum(h.claimed), 0)::bigint AS claimed
	FROM shoppers s
	CROSS JOIN LATERAL (
	    SELECT count(*) AS claims,
	           sum(c.amount) FILTER (WHERE c.status <> @rejected AND c.currency = @currency) AS claimed
	    FROM claims c
	    WHERE c.shopper_id = s.shopper_id AND c.created_at >= @since
	) h`

// kinds splits Signals into the kinds' names; none for "".
func (l linkedAccounts) kinds() []string {
	if l.Signals == "" {
		return nil
	}
	return strings.Split(l.Signals, ",")
}
