package embeddedpg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// UnreachableError reports that PostgreSQL, running as an unprivileged user
// because we are root, could not reach its directory. We never loosen the
// permissions of someone's folders to fix this; the user must pick another
// place, so the message says which folder blocks and what to set instead.
type UnreachableError struct {
	Dir     string      // the directory PostgreSQL needs
	Blocker string      // the first folder on the way that the user cannot traverse
	Mode    fs.FileMode // permissions of Blocker
	User    string      // the run-as user
}

// Error names the blocking folder and the settings that avoid it.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("PostgreSQL runs as user %s (it refuses to run as root), which cannot reach %s "+
		"because folder %s (mode %04o) does not let it through: set CLAIMSD_DATA_DIR to a folder the user %s "+
		"can reach, such as /var/lib/claimsd, or set DATABASE_URL",
		e.User, e.Dir, e.Blocker, e.Mode.Perm(), e.User)
}

// Reachable reports whether the run-as user (runAs, default "nobody") can
// traverse every folder above dir, so callers can choose a default data
// directory that works before starting. It returns nil when we are not root
// (PostgreSQL then runs as ourselves) and an *UnreachableError naming the
// blocking folder otherwise. Folders that do not exist yet are not checked.
func Reachable(dir, runAs string) error {
	owner, err := lookupRunAs(runAs)
	if err != nil || owner == nil {
		return err
	}
	return reachable(dir, owner)
}

func reachable(dir string, owner *account) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("resolve %q: %w", dir, err)
	}
	// Resolve symlinks in the existing part of the path, since traversal
	// goes through the link targets.
	existing, rest := abs, ""
	for {
		if _, err := os.Lstat(existing); err == nil {
			break
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		rest = filepath.Join(filepath.Base(existing), rest)
		existing = parent
	}
	resolved, err := filepath.EvalSymlinks(existing)
	if err != nil {
		return fmt.Errorf("resolve the links on the way to %s: %w", dir, err)
	}
	full := filepath.Join(resolved, rest)

	for p := filepath.Dir(full); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// will be created by us with mode 0755
		case err != nil:
			return fmt.Errorf("check that user %s can reach %s: %w", owner.name, dir, err)
		case !fi.IsDir():
			return fmt.Errorf("%s is not a folder, so %s cannot be created there: choose another data directory or set DATABASE_URL", p, dir)
		case !canTraverse(fi, owner):
			return &UnreachableError{Dir: abs, Blocker: p, Mode: fi.Mode(), User: owner.name}
		}
		if parent := filepath.Dir(p); parent == p {
			return nil
		}
	}
}

// canTraverse applies the kernel's rule: the owner class, else the group
// class, else others decides, and only that class's x bit counts.
func canTraverse(fi fs.FileInfo, owner *account) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := fi.Mode().Perm()
	switch {
	case int(st.Uid) == owner.uid:
		return perm&0o100 != 0
	case owner.groups[int(st.Gid)]:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}
