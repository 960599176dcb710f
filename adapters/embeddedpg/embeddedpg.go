// Package embeddedpg runs a private PostgreSQL server for claimsd when no
// DATABASE_URL is configured, and gives tests a throwaway server.
//
// The server lives in a cluster directory that survives restarts. PostgreSQL
// is started with pg_ctl, so it is a separate process: if the engine is killed
// the server keeps running, and the next Start finds it and reuses it instead
// of fighting over the data directory.
//
// Several processes may use one cluster at once (a serve and a seed-demo, an
// API and a worker process). Each records itself as a user for as long as it
// runs, and Stop shuts PostgreSQL down only in the last of them, so no process
// ever stops the database under another one's feet.
package embeddedpg

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Names used for the role and database, so the URL is predictable for
// operators who look at the cluster by hand.
const (
	dbUser = "claimsd"
	dbName = "claimsd"
)

// Layout of the cluster directory. PGDATA is a subfolder so that files
// PostgreSQL must not own (password, port) can sit next to it.
const (
	dataSubdir   = "data"
	initSubdir   = "data.initdb" // initdb target, renamed to data only once complete
	passwordFile = "password"
	portFile     = "port"
	logFile      = "postgres.log"
	lockFile     = "start.lock" // held while starting or stopping the server
	initPwFile   = "initdb.pw"
)

const (
	// readyTimeout bounds how long we wait for a real connection after
	// pg_ctl reports the server as started.
	readyTimeout = 30 * time.Second
	// leftoverTimeout bounds how long a start waits for the processes of a
	// server that died to end.
	leftoverTimeout = 10 * time.Second
	// maxLogSize is where postgres.log is rotated at start, so a long-lived
	// dev install does not grow the log forever.
	maxLogSize = 10 << 20
	// maxSocketPath stays below the kernel's sun_path limit (108 bytes).
	maxSocketPath = 100
)

// Config says where the private server lives and how it runs.
type Config struct {
	// Dir is the cluster directory (PGDATA lives in Dir/data). It is created
	// if missing and kept across restarts so data survives.
	Dir string
	// Port is the TCP port on 127.0.0.1. 0 picks a free port and remembers it
	// in Dir so restarts keep the same URL.
	Port uint32
	// BinDir optionally names the folder holding initdb, pg_ctl and postgres;
	// empty means discover them (PATH, pg_config, /usr/lib/postgresql).
	BinDir string
	// RunAs is the unprivileged user PostgreSQL runs as when we are root,
	// because PostgreSQL refuses to run as root. Empty means "nobody".
	RunAs string
	// Logger receives lifecycle messages; nil discards them.
	Logger *slog.Logger
}

// Server is a running private PostgreSQL. It is safe for concurrent use.
type Server struct {
	dir      string
	pgdata   string
	port     uint32
	password string
	origin   origin
	log      *slog.Logger
	run      runner

	mu      sync.Mutex
	stopped bool
	users   *os.File // holds our shared lock on the users file; nil once given up

	problemMu sync.Mutex
	problem   error // why Watch could not start the server again; nil when it runs

	// startedPid is the postmaster that served when Start returned: Watch
	// tells a restart from it even when the server stopped before Watch's
	// first look.
	startedPid int
}

// origin says how Start came by the running server.
type origin int

const (
	started origin = iota // Start launched PostgreSQL
	adopted               // a process that ended without stopping it left it running
	shared                // another live process uses it
)

// PortInUseError reports that the port chosen for the private server is held
// by another program, so the caller can tell the user which setting to change.
type PortInUseError struct {
	Port uint32
}

// Error names the port and the ways out, since the user has to act on it.
func (e *PortInUseError) Error() string {
	return fmt.Sprintf("port %d on 127.0.0.1 is already used by another program: "+
		"choose another port for the embedded PostgreSQL (0 picks a free one) or set DATABASE_URL "+
		"to use an existing PostgreSQL", e.Port)
}

// InUseError reports that another process uses the private server on
// another port than the one asked for. It is not moved, since that would
// cut the other process off.
type InUseError struct {
	Dir  string // the cluster directory
	Port uint32 // the port it runs on
	Want uint32 // the port asked for
}

// Error names both ports and the ways out.
func (e *InUseError) Error() string {
	return fmt.Sprintf("the embedded PostgreSQL in %s already runs on port %d for another claimsd process, "+
		"not on port %d: set CLAIMSD_EMBEDDED_PG_PORT to %d (or 0) to share it, or stop the other process first",
		e.Dir, e.Port, e.Want, e.Port)
}

// Start brings up the private server in cfg.Dir: it reuses a server left
// running by a killed process, clears stale lock files, initialises the
// cluster on first use and waits until a real connection succeeds.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	s, err := start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded postgres: %w", err)
	}
	s.startedPid = s.postmasterPid()
	return s, nil
}

// URL is the connection string for the claimsd database.
func (s *Server) URL() string { return s.urlFor(s.port, dbName) }

// AdminURL is URL with another database name, so tests can connect to
// "postgres" and CREATE DATABASE per test.
func (s *Server) AdminURL(db string) string { return s.urlFor(s.port, db) }

// Reused reports whether Start found PostgreSQL already running (left by a
// process that ended, or in use by another one) instead of starting it.
func (s *Server) Reused() bool { return s.origin != started }

// Shared reports whether another live process was using the server when
// Start found it.
func (s *Server) Shared() bool { return s.origin == shared }

// Stop ends this process's use of the server and shuts PostgreSQL down with
// pg_ctl's fast mode (rolls back open transactions, no crash recovery needed
// next time) unless another process still uses it; then the last one to
// stop does. Calling it again, or on a server already stopped by someone
// else, returns nil.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	unlock, err := lockStart(ctx, filepath.Join(s.dir, lockFile))
	if err != nil {
		return fmt.Errorf("stop embedded postgres: %w", err)
	}
	defer unlock()
	last, done, err := lastUser(filepath.Join(s.dir, usersFile), s.users)
	s.users = nil
	if err != nil {
		return fmt.Errorf("stop embedded postgres: %w", err)
	}
	if !last {
		s.stopped = true
		s.log.Debug("embedded postgres left running for the other claimsd processes using it", "dir", s.dir)
		return nil
	}
	defer done()
	if err := s.stopCluster(ctx, "fast"); err != nil {
		return fmt.Errorf("stop embedded postgres: %w", err)
	}
	s.stopped = true
	s.log.Info("embedded postgres stopped", "dir", s.dir)
	return nil
}

func start(ctx context.Context, cfg Config) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Dir == "" {
		return nil, errors.New("no cluster directory configured: set a data directory or DATABASE_URL")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("resolve cluster directory %q: %w", cfg.Dir, err)
	}
	// pg_ctl runs postgres through /bin/sh with paths in double quotes, so
	// characters the shell expands inside quotes would break or inject.
	if strings.ContainsAny(dir, "\"$`\\\n") {
		return nil, fmt.Errorf("cluster directory %q contains shell special characters (\" $ ` \\ newline): "+
			"choose a plainer data directory or set DATABASE_URL", dir)
	}

	owner, err := lookupRunAs(cfg.RunAs)
	if err != nil {
		return nil, err
	}
	if err := prepareDir(dir, owner); err != nil {
		return nil, err
	}

	unlock, err := lockStart(ctx, filepath.Join(dir, lockFile))
	if err != nil {
		return nil, err
	}
	defer unlock()
	users, alone, err := joinUsers(filepath.Join(dir, usersFile))
	if err != nil {
		return nil, err
	}
	handedOut := false
	defer func() {
		if !handedOut {
			_ = users.Close()
		}
	}()

	bin, err := findBinaries(ctx, cfg.BinDir, dir, log)
	if err != nil {
		return nil, err
	}
	if owner != nil {
		if err := reachable(filepath.Join(bin, "postgres"), owner); err != nil {
			return nil, err
		}
	}

	s := &Server{
		dir:    dir,
		pgdata: filepath.Join(dir, dataSubdir),
		log:    log,
		run:    newRunner(bin, dir, owner),
		users:  users,
	}

	clusterExists, err := exists(filepath.Join(s.pgdata, "PG_VERSION"))
	if err != nil {
		return nil, err
	}
	s.password, err = loadPassword(filepath.Join(dir, passwordFile), clusterExists)
	if err != nil {
		return nil, err
	}

	if clusterExists {
		reused, err := s.recoverRunning(ctx, cfg.Port, alone)
		if err != nil {
			return nil, err
		}
		if reused {
			if err := savePort(filepath.Join(dir, portFile), s.port); err != nil {
				return nil, err
			}
			if alone {
				s.origin = adopted
				log.Info("reusing the embedded postgres a previous claimsd process left running",
					"dir", dir, "port", s.port)
			} else {
				s.origin = shared
				log.Debug("using the embedded postgres another claimsd process runs", "dir", dir, "port", s.port)
			}
			handedOut = true
			return s, nil
		}
	} else {
		if err := s.initCluster(ctx); err != nil {
			return nil, err
		}
	}

	if owner != nil {
		if err := chownTree(s.pgdata, owner); err != nil {
			return nil, err
		}
	}

	s.port, err = choosePort(filepath.Join(dir, portFile), cfg.Port, log)
	if err != nil {
		return nil, err
	}
	if err := s.startCluster(ctx); err != nil {
		return nil, err
	}
	if err := savePort(filepath.Join(dir, portFile), s.port); err != nil {
		s.abandon(ctx)
		return nil, err
	}
	log.Info("embedded postgres started", "dir", dir, "port", s.port, "bin", bin)
	handedOut = true
	return s, nil
}

// prepareDir creates the cluster directory and, when root, hands it to the
// run-as user after making sure that user can reach it at all.
func prepareDir(dir string, owner *account) error {
	if owner != nil {
		if err := reachable(dir, owner); err != nil {
			return err
		}
	}
	// Parents get 0755 (not 0700) so the run-as user can traverse the ones we
	// create; the cluster dir itself is private.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create parent of cluster directory: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create cluster directory: %w", err)
	}
	if owner == nil {
		return nil
	}
	// A restrictive umask may have produced untraversable parents.
	if err := reachable(dir, owner); err != nil {
		return err
	}
	if err := os.Chown(dir, owner.uid, owner.gid); err != nil {
		return fmt.Errorf("hand cluster directory to user %s: %w", owner.name, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restrict cluster directory: %w", err)
	}
	// postgres.log is appended to by pg_ctl as the run-as user.
	if err := os.Chown(filepath.Join(dir, logFile), owner.uid, owner.gid); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("hand postgres.log to user %s: %w", owner.name, err)
	}
	return nil
}

// lockStart serialises concurrent Starts on one directory. The lock is only
// held during Start, so a killed engine never leaves it behind.
func lockStart(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open start lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("take start lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("wait for another start in %s: %w", filepath.Dir(path), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// loadPassword returns the superuser password, creating one for a new
// cluster. It lives outside PGDATA, readable only by the invoking user.
func loadPassword(path string, clusterExists bool) (string, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil && len(strings.TrimSpace(string(b))) > 0:
		return strings.TrimSpace(string(b)), nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read password file: %w", err)
	case clusterExists:
		return "", fmt.Errorf("password file %s is missing or empty but the cluster exists, so it cannot be accessed: "+
			"restore the file, delete %s to start from scratch, or set DATABASE_URL", path, filepath.Dir(path))
	}
	pw := rand.Text()
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write password file: %w", err)
	}
	return pw, nil
}

// choosePort returns the explicit port (failing if it is taken) or the
// remembered one, picking a fresh free port when the remembered one is gone.
func choosePort(path string, explicit uint32, log *slog.Logger) (uint32, error) {
	if explicit != 0 {
		if !portFree(explicit) {
			return 0, &PortInUseError{Port: explicit}
		}
		return explicit, nil
	}
	if b, err := os.ReadFile(path); err == nil {
		if p, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 16); err == nil && p > 0 {
			if portFree(uint32(p)) {
				return uint32(p), nil
			}
			log.Warn("remembered embedded postgres port is taken, picking another", "port", p)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	port := uint32(l.Addr().(*net.TCPAddr).Port)
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	return port, nil
}

func portFree(port uint32) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.FormatUint(uint64(port), 10)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func savePort(path string, port uint32) error {
	if err := os.WriteFile(path, []byte(strconv.FormatUint(uint64(port), 10)+"\n"), 0o644); err != nil {
		return fmt.Errorf("remember port: %w", err)
	}
	return nil
}

// initCluster runs initdb into a scratch folder and renames it into place,
// so an interrupted initdb never leaves a half-made PGDATA that looks real.
func (s *Server) initCluster(ctx context.Context) error {
	tmp := filepath.Join(s.dir, initSubdir)
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove what an interrupted initdb left: %w", err)
	}
	// PGDATA only ever appears by renaming a finished initdb, so a PGDATA
	// without PG_VERSION is not ours: refuse rather than delete it.
	if ok, err := exists(s.pgdata); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%s exists but is not a PostgreSQL cluster (no PG_VERSION): "+
			"move it away, choose another data directory, or set DATABASE_URL", s.pgdata)
	}
	// initdb runs as the run-as user, so it gets its own readable copy of
	// the password, deleted right after.
	pw := filepath.Join(s.dir, initPwFile)
	if err := os.WriteFile(pw, []byte(s.password+"\n"), 0o600); err != nil {
		return fmt.Errorf("write initdb password file: %w", err)
	}
	defer func() { _ = os.Remove(pw) }()
	if s.run.owner != nil {
		if err := os.Chown(pw, s.run.owner.uid, s.run.owner.gid); err != nil {
			return fmt.Errorf("hand initdb password file to user %s: %w", s.run.owner.name, err)
		}
	}
	out, err := s.run.command(ctx, "initdb",
		"-D", tmp,
		"--auth=scram-sha-256",
		"--username="+dbUser,
		"--pwfile="+pw,
		"--encoding=UTF8",
		"--locale=C",
	).CombinedOutput()
	if err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("initdb: %w\n%s\nset DATABASE_URL to use an existing PostgreSQL instead", err, tail(string(out), 20))
	}
	if err := os.Rename(tmp, s.pgdata); err != nil {
		return fmt.Errorf("move new cluster into place: %w", err)
	}
	s.log.Info("initialised embedded postgres cluster", "pgdata", s.pgdata)
	return nil
}

// startCluster launches postgres via pg_ctl and waits for a real login, then
// makes sure the claimsd database exists.
func (s *Server) startCluster(ctx context.Context) error {
	logPath := filepath.Join(s.dir, logFile)
	rotateLog(logPath)
	var logOffset int64
	if fi, err := os.Stat(logPath); err == nil {
		logOffset = fi.Size()
	}

	// Debian builds default the socket to /var/run/postgresql, which the
	// run-as user cannot write; keep it in the cluster dir when the path fits
	// and needs no quoting in PostgreSQL's list syntax, else TCP only.
	sockDir := s.dir
	sockPath := filepath.Join(sockDir, fmt.Sprintf(".s.PGSQL.%d", s.port))
	if len(sockPath) >= maxSocketPath || strings.ContainsAny(sockDir, ", '\t") {
		sockDir = ""
	} else if err := s.clearStaleSocketLock(sockPath); err != nil {
		return err
	}
	opts := strings.Join([]string{
		"-c listen_addresses=127.0.0.1",
		fmt.Sprintf("-c port=%d", s.port),
		"-c " + shellQuote("unix_socket_directories="+sockDir),
		"-c max_connections=100",
		"-c shared_buffers=128MB",
	}, " ")

	out, err := s.run.command(ctx, "pg_ctl", "start",
		"-D", s.pgdata,
		"-w", "-t", "60",
		"-l", logPath,
		"-o", opts,
	).CombinedOutput()
	if err != nil {
		s.abandon(ctx)
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s\nset DATABASE_URL to use an existing PostgreSQL instead",
			err, strings.TrimSpace(string(out)), logTail(logPath, logOffset))
	}
	if err := s.waitReady(ctx); err != nil {
		s.abandon(ctx)
		return fmt.Errorf("connect after start: %w\n%s", err, logTail(logPath, logOffset))
	}
	if err := s.ensureDatabase(ctx); err != nil {
		s.abandon(ctx)
		return err
	}
	return nil
}

// abandon stops a server we started but cannot hand out, so a failed Start
// leaves no orphan behind. It ignores ctx cancellation on purpose.
func (s *Server) abandon(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := s.stopCluster(ctx, "fast"); err != nil {
		s.log.Warn("stop embedded postgres after failed start", "err", err)
	}
}

// stopCluster runs pg_ctl stop; a cluster with no postmaster.pid is already
// stopped. If fast mode fails, immediate mode is tried so we never leave a
// server behind that we were asked to stop.
func (s *Server) stopCluster(ctx context.Context, mode string) error {
	pidPath := filepath.Join(s.pgdata, "postmaster.pid")
	if ok, err := exists(pidPath); err != nil || !ok {
		return err
	}
	out, err := s.run.command(ctx, "pg_ctl", "stop", "-D", s.pgdata, "-m", mode, "-w", "-t", "60").CombinedOutput()
	if err == nil {
		return nil
	}
	if ok, _ := exists(pidPath); !ok {
		return nil // it stopped on its own, or someone else stopped it
	}
	if ctx.Err() != nil {
		return fmt.Errorf("pg_ctl stop: %w", ctx.Err())
	}
	if mode != "immediate" {
		s.log.Warn("pg_ctl stop failed, retrying in immediate mode", "mode", mode, "output", strings.TrimSpace(string(out)))
		return s.stopCluster(ctx, "immediate")
	}
	return fmt.Errorf("pg_ctl stop: %w: %s", err, strings.TrimSpace(string(out)))
}

// recoverRunning deals with a postmaster.pid left in PGDATA. It reports true
// when a live server of ours answers with our credentials and can be reused;
// otherwise it clears the way for a normal start. alone says that no other
// process uses the cluster: a server that some other process does use is
// never stopped or moved here, whatever this Start would have preferred.
func (s *Server) recoverRunning(ctx context.Context, explicitPort uint32, alone bool) (bool, error) {
	pidPath := filepath.Join(s.pgdata, "postmaster.pid")
	pf, err := readPidFile(pidPath)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil || !ownsDataDir(pf.pid, s.pgdata) {
		return false, s.clearStalePid(ctx, pidPath, pf, err)
	}
	if !alone {
		return true, s.share(ctx, pf, explicitPort)
	}
	if pf.port != 0 && (explicitPort == 0 || explicitPort == pf.port) {
		err := s.ping(ctx, pf.port, "postgres")
		if err == nil {
			s.port = pf.port
			if err := s.ensureDatabase(ctx); err != nil {
				return false, err
			}
			return true, nil
		}
		s.log.Warn("embedded postgres is running but does not answer, restarting it",
			"pid", pf.pid, "port", pf.port, "err", err)
	} else {
		s.log.Info("embedded postgres is running on another port, restarting it",
			"pid", pf.pid, "port", pf.port, "want", explicitPort)
	}
	if err := s.stopCluster(ctx, "fast"); err != nil {
		return false, fmt.Errorf("stop unresponsive postgres (pid %d) in %s: %w", pf.pid, s.pgdata, err)
	}
	return false, nil
}

// clearStalePid deals with a postmaster.pid whose postmaster is gone (pf and
// err are what readPidFile made of it). A PID no process has is left to
// postgres, which then checks that no process of the old server still holds
// its shared memory before it starts. Garbage, a PID some other program now
// has, or a postmaster that is a zombie (PID 1 may be slow to reap what
// pg_ctl orphaned) would make postgres refuse to start, so that file goes.
//
// Without the file postgres cannot tell whether processes of the old server
// still work in PGDATA, so that is checked here first.
func (s *Server) clearStalePid(ctx context.Context, pidPath string, pf pidFile, readErr error) error {
	if readErr == nil && !pidExists(pf.pid) {
		return nil
	}
	if err := waitLeftovers(ctx, s.pgdata); err != nil {
		return err
	}
	s.log.Info("removing stale postmaster.pid", "pgdata", s.pgdata, "pid", pf.pid)
	if err := os.Remove(pidPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove a stale lock file: %w", err)
	}
	return nil
}

// clearStaleSocketLock removes the lock file of the socket at path when
// the process it names does not serve this cluster. postgres refuses to
// start while that process exists at all, and a postmaster that was killed
// stays a zombie until PID 1 reaps it, which some containers' PID 1 never
// does. The socket folder is the cluster directory, so nothing else's
// socket is touched.
func (s *Server) clearStaleSocketLock(path string) error {
	b, err := os.ReadFile(path + ".lock")
	if err != nil {
		return nil // none, or unreadable: then postgres says what is wrong
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err == nil && ownsDataDir(pid, s.pgdata) {
		return nil
	}
	for _, p := range []string{path + ".lock", path} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove a stale socket lock: %w", err)
		}
	}
	return nil
}

// waitLeftovers waits a little for processes of a server that is gone to
// end (backends notice their postmaster died and exit), since a new server
// must not share PGDATA with them.
func waitLeftovers(ctx context.Context, pgdata string) error {
	ctx, cancel := context.WithTimeout(ctx, leftoverTimeout)
	defer cancel()
	for {
		pids := leftovers(pgdata)
		if len(pids) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("processes of a PostgreSQL server that is gone still work in %s (pids %v): "+
				"wait for them to end, or end them, before starting it again", pgdata, pids)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// share adopts the server another process is using, as it runs: on its
// port, and only if it answers.
func (s *Server) share(ctx context.Context, pf pidFile, explicitPort uint32) error {
	if pf.port == 0 || (explicitPort != 0 && explicitPort != pf.port) {
		return &InUseError{Dir: s.dir, Port: pf.port, Want: explicitPort}
	}
	if err := s.ping(ctx, pf.port, "postgres"); err != nil {
		return fmt.Errorf("the embedded PostgreSQL in %s (pid %d, port %d) is in use by another claimsd process "+
			"but does not answer (%w): see %s, and stop that process or wait for it",
			s.dir, pf.pid, pf.port, err, filepath.Join(s.dir, logFile))
	}
	s.port = pf.port
	return s.ensureDatabase(ctx)
}

// waitReady retries a real login, because pg_ctl -w only proves the
// postmaster is accepting connections, not that our credentials work.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		err := s.ping(ctx, s.port, "postgres")
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last attempt: %v)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Server) ping(ctx context.Context, port uint32, db string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.urlFor(port, db))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	_, err = conn.Exec(ctx, "SELECT 1")
	return err
}

// ensureDatabase creates the claimsd database on first start; it is cheap
// and idempotent so it also repairs a start interrupted right after initdb.
func (s *Server) ensureDatabase(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.urlFor(s.port, "postgres"))
	if err != nil {
		return fmt.Errorf("connect to create database %s: %w", dbName, err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	var found bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", dbName).Scan(&found); err != nil {
		return fmt.Errorf("look up database %s: %w", dbName, err)
	}
	if found {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{dbName}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", dbName, err)
	}
	s.log.Info("created database", "name", dbName)
	return nil
}

func (s *Server) urlFor(port uint32, db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(dbUser, s.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.FormatUint(uint64(port), 10)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// rotateLog keeps one previous log so a long-lived install stays bounded.
func rotateLog(path string) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxLogSize {
		_ = os.Rename(path, path+".1")
	}
}

// logTail returns the end of what postgres logged since offset, which is
// where the real reason for a failed start is written.
func logTail(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no server log at %s: %v)", path, err)
	}
	if offset > int64(len(b)) {
		offset = 0
	}
	t := tail(string(b[offset:]), 20)
	if t == "" {
		return fmt.Sprintf("(server log %s is empty)", path)
	}
	return "last lines of " + path + ":\n" + t
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err // names the path
}
