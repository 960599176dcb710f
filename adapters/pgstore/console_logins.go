package pgstore

import (
	"context"
	"time"
)

// UseConsoleLogin spends the one-time sign-in link jti for role and
// subject, valid until expires: first is true when this call spent it,
// false when it was spent before (also when two calls race: exactly one
// wins).
//
//	first, err := st.UseConsoleLogin(ctx, tok.ID, "agent", "ana", tok.Expires, time.Now())
func (s *Store) UseConsoleLogin(ctx context.Context, jti, role, subject string, expires, now time.Time) (first bool, err error) {
	res := s.conn(ctx).Exec(`INSERT INTO console_logins (jti, role, subject, used_at, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (jti) DO NOTHING`, jti, role, subject, now.UTC(), expires.UTC())
	if res.Error != nil {
		return false, storeError(res.Error, "use console login %s", jti)
	}
	return res.RowsAffected == 1, nil
}
