package embeddedpg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// account is the unprivileged user PostgreSQL runs as when we are root.
type account struct {
	name   string
	uid    int
	gid    int
	groups map[int]bool // primary and supplementary groups
}

// lookupRunAs resolves the run-as user. It returns nil when we are not root,
// because then PostgreSQL simply runs as ourselves.
func lookupRunAs(name string) (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	if name == "" {
		name = "nobody"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("look up user %q to run PostgreSQL as (PostgreSQL refuses to run as root): %w; "+
			"choose an existing unprivileged user or set DATABASE_URL", name, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, fmt.Errorf("user %s has non-numeric uid %q", name, u.Uid)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("user %s has non-numeric gid %q", name, u.Gid)
	}
	if uid == 0 {
		return nil, fmt.Errorf("user %s is root, but PostgreSQL refuses to run as root: choose an unprivileged user or set DATABASE_URL", name)
	}
	a := &account{name: name, uid: uid, gid: gid, groups: map[int]bool{gid: true}}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.Atoi(id); err == nil {
				a.groups[g] = true
			}
		}
	}
	return a, nil
}

// runner builds commands for the PostgreSQL tools, dropping to the run-as
// user when we are root.
type runner struct {
	bin   string
	dir   string
	owner *account
	env   []string
}

func newRunner(bin, dir string, owner *account) runner {
	// Drop PG* variables (PGDATA, PGPORT, PGHOST...) that would redirect the
	// tools, and force the C locale so log messages are predictable.
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "LC_") || k == "LANG" || k == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "LC_ALL=C")
	return runner{bin: bin, dir: dir, owner: owner, env: env}
}

func (r runner) command(ctx context.Context, tool string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(r.bin, tool), args...)
	// Run from the cluster dir: the caller's working directory may be
	// unreadable for the run-as user, which initdb and postgres complain about.
	cmd.Dir = r.dir
	cmd.Env = r.env
	cmd.WaitDelay = 5 * time.Second
	if r.owner != nil {
		// Groups is empty on purpose: drop root's supplementary groups.
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
			Uid: uint32(r.owner.uid), Gid: uint32(r.owner.gid),
		}}
	}
	return cmd
}

// chownTree gives PGDATA to the run-as user, which postgres insists on; it
// only walks the tree when the top is owned by someone else (e.g. RunAs
// changed), so normal starts cost one stat.
func chownTree(root string, owner *account) error {
	fi, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("check who owns the cluster: %w", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == owner.uid && int(st.Gid) == owner.gid {
		return nil
	}
	err = filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, owner.uid, owner.gid)
	})
	if err != nil {
		return fmt.Errorf("hand %s to user %s: %w", root, owner.name, err)
	}
	return nil
}

// pidFile is the part of postmaster.pid we need: line 1 is the postmaster's
// PID and line 4 its port.
type pidFile struct {
	pid  int
	port uint32
}

func readPidFile(path string) (pidFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return pidFile{}, err
	}
	lines := strings.Split(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 {
		return pidFile{}, fmt.Errorf("bogus PID in %s", path)
	}
	pf := pidFile{pid: pid}
	if len(lines) > 3 {
		if p, err := strconv.ParseUint(strings.TrimSpace(lines[3]), 10, 16); err == nil {
			pf.port = uint32(p)
		}
	}
	return pf, nil
}

// pidExists reports whether any process, a zombie included, has pid.
func pidExists(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// pidAlive reports whether a process that is not a zombie has pid.
func pidAlive(pid int) bool {
	if !pidExists(pid) {
		return false
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	// Field 3, after the parenthesised command name, is the state.
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || !strings.HasPrefix(string(stat[i+1:]), " Z")
}

// ownsDataDir reports whether pid is a live postgres process serving pgdata.
// A PID alone proves nothing after a crash: it may have been reused by an
// unrelated process, or by another cluster's postgres.
func ownsDataDir(pid int, pgdata string) bool {
	if !pidAlive(pid) {
		return false
	}
	proc := filepath.Join("/proc", strconv.Itoa(pid))
	comm, err := os.ReadFile(filepath.Join(proc, "comm"))
	if err != nil {
		return false
	}
	if c := strings.TrimSpace(string(comm)); c != "postgres" && c != "postmaster" {
		return false
	}
	want, err := os.Stat(pgdata)
	if err != nil {
		return false
	}
	// postgres chdirs into its data directory, which is the most reliable
	// marker; fall back to the -D argument when /proc/<pid>/cwd is private.
	if cwd, err := os.Stat(filepath.Join(proc, "cwd")); err == nil {
		return os.SameFile(cwd, want)
	}
	cmdline, err := os.ReadFile(filepath.Join(proc, "cmdline"))
	if err != nil {
		return false
	}
	args := strings.Split(string(cmdline), "\x00")
	for i, a := range args {
		var d string
		switch {
		case a == "-D" && i+1 < len(args):
			d = args[i+1]
		case strings.HasPrefix(a, "-D") && len(a) > 2:
			d = a[2:]
		default:
			continue
		}
		if fi, err := os.Stat(d); err == nil {
			return os.SameFile(fi, want)
		}
		return false
	}
	return false
}

// leftovers lists the live postgres processes working in pgdata (postgres
// chdirs into its data directory).
func leftovers(pgdata string) []int {
	want, err := os.Stat(pgdata)
	if err != nil {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !pidAlive(pid) {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil {
			continue
		}
		if c := strings.TrimSpace(string(comm)); c != "postgres" && c != "postmaster" {
			continue
		}
		if cwd, err := os.Stat(filepath.Join("/proc", e.Name(), "cwd")); err == nil && os.SameFile(cwd, want) {
			pids = append(pids, pid)
		}
	}
	return pids
}
