package pgstore

import (
	"context"
	"time"
)

// UseConsoleLogin spends the one-time sign-in link jti for role and
// subject, valid until expires: first is true when this call spent it,
// false when it was spent before (also when two calls race: exactly one
// wins). A sign-in also forgets links a day past their expiry.
//
//	first, err := st.UseConsoleLogin(ctx, tok.ID, "agent", "ana", tok.Expires, time.Now())
func (s *Store) UseConsoleLogin(ctx context.Context, jti, role, subject string, expires, now time.Time) (first bool, err error) {
	res := s.conn(ctx).Exec(`INSERT INTO console_logins (jti, role, subject, used_at, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (jti) DO NOTHING`, jti, role, subject, now.UTC(), expires.UTC())
	if res.Error != nil {
		return false, storeError(res.Error, "use console login %s", jti)
	}
	first = res.RowsAffected == 1
	if first {
		// Links a day past their expiry are refused by their token
		// anyway: forget them, so the table stays small.
		if err := s.conn(ctx).Exec(`DELETE FROM console_logins WHERE expires_at < ?`, now.UTC().Add(-loginsKeptAfterExpiry)).Error; err != nil {
			return first, storeError(err, "forget expired console logins")
		}
	}
	return first, nil
}

// loginsKeptAfterExpiry is how long a spent link is remembered after it
// expires: a margin for clocks that disagree.
const loginsKeptAfterExpiry = 24 * time.Hour
