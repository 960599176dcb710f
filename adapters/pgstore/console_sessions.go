package pgstore

import (
	"context"
	"time"
)

// StartConsoleSession records a console sign-in: the SHA-256 of its
// random id in hex (idHash), who it is for and when it ends. It also
// forgets sign-ins a day past their expiry, so the table stays small.
// That is judged by the database's clock, one clock for every process
// (and for every test, whatever time it pretends it is): a process whose
// clock runs ahead never forgets sign-ins the others still honour.
//
//	sum := sha256.Sum256([]byte(sessionID))
//	err := st.StartConsoleSession(ctx, hex.EncodeToString(sum[:]), "agent", "ana", now.Add(12*time.Hour), now)
func (s *Store) StartConsoleSession(ctx context.Context, idHash string, role, subject string, expires, now time.Time) error {
	if err := s.conn(ctx).Exec(`INSERT INTO console_sessions (id_hash, role, subject, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		idHash, role, subject, now.UTC(), expires.UTC()).Error; err != nil {
		return storeError(err, "start console session of %s %s", role, subject)
	}
	if err := s.conn(ctx).Exec(`DELETE FROM console_sessions WHERE expires_at < now() - ?::interval`, sessionsKeptAfterExpiry).Error; err != nil {
		return storeError(err, "forget ended console sessions")
	}
	return nil
}

// ConsoleSessionActive reports whether the sign-in whose id hashes to
// idHash is current at now and is role's and subject's: not signed out,
// not revoked, not expired. It is one primary-key lookup, made on every
// console request.
func (s *Store) ConsoleSessionActive(ctx context.Context, idHash string, role, subject string, now time.Time) (bool, error) {
	var rows []struct{ Role, Subject string }
	err := s.conn(ctx).Raw(`SELECT role, subject FROM console_sessions WHERE id_hash = ? AND expires_at > ?`, idHash, now.UTC()).
		Scan(&rows).Error
	if err != nil {
		return false, storeError(err, "look up console session")
	}
	return len(rows) == 1 && rows[0].Role == role && rows[0].Subject == subject, nil
}

// EndConsoleSession forgets one sign-in (signing out). Ending one that is
// not there is not an error.
func (s *Store) EndConsoleSession(ctx context.Context, idHash string) error {
	if err := s.conn(ctx).Exec(`DELETE FROM console_sessions WHERE id_hash = ?`, idHash).Error; err != nil {
		return storeError(err, "end console session")
	}
	return nil
}

// RevokeConsoleSessions ends every sign-in of subject in role, or in any
// role when role is "", and returns how many it ended.
//
//	n, err := st.RevokeConsoleSessions(ctx, "", "ana") // all of ana's sign-ins
func (s *Store) RevokeConsoleSessions(ctx context.Context, role, subject string) (int, error) {
	q := s.conn(ctx).Exec(`DELETE FROM console_sessions WHERE subject = ? AND (? = '' OR role = ?)`, subject, role, role)
	if q.Error != nil {
		return 0, storeError(q.Error, "revoke console sessions of %s", subject)
	}
	return int(q.RowsAffected), nil
}

// sessionsKeptAfterExpiry is how long an expired sign-in is kept before a
// later sign-in deletes it, as spent sign-in links are: it is refused
// from its expiry on either way.
const sessionsKeptAfterExpiry = "1 day"
