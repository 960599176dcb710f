package embeddedpg

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Every process that uses a cluster holds a shared flock on its users
// file for as long as it does. The kernel drops the lock when the process
// ends, however it ends, so the set of holders is always the set of live
// users: a process stops the server only when it can take the lock
// exclusively, that is when nobody else holds it.
//
// Taking or probing the lock happens only under the start lock, so a
// process that is about to stop the server and one that is about to use it
// never cross.
const usersFile = "users.lock"

// joinUsers records this process as a user of the cluster in dir. alone
// reports whether no other process used it at that moment, which tells a
// server left behind by a process that ended from one another engine is
// serving with. The caller holds the start lock.
func joinUsers(path string) (f *os.File, alone bool, err error) {
	f, err = os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("record this process as a user of the cluster: %w", err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case err == nil:
		alone = true
	case !errors.Is(err, syscall.EWOULDBLOCK):
		_ = f.Close()
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	// Downgrading (or taking the shared lock next to other users) cannot
	// conflict: only a holder of the start lock ever asks for it
	// exclusively, and that is us.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, alone, nil
}

// lastUser gives up this process's use of the cluster (f, which may be
// nil if it already did) and reports whether any other process still uses
// it. When it returns true the caller holds the users file exclusively
// until it calls done, so nobody can start using the server meanwhile.
// The caller holds the start lock.
func lastUser(path string, f *os.File) (last bool, done func(), err error) {
	if f != nil {
		_ = f.Close() // drops our shared lock
	}
	g, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return false, nil, fmt.Errorf("look for other users of the cluster: %w", err)
	}
	err = syscall.Flock(int(g.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case err == nil:
		return true, func() { _ = g.Close() }, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		_ = g.Close()
		return false, nil, nil
	default:
		_ = g.Close()
		return false, nil, fmt.Errorf("lock %s: %w", path, err)
	}
}
