package embeddedpg_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/embeddedpg"
)

// helperDirEnv makes TestHelperStartAndBlock act as a stand-in engine
// process that the SIGKILL test can kill.
const helperDirEnv = "EMBEDDEDPG_HELPER_DIR"

// clusterDir returns a fresh cluster dir whose parents the run-as user can
// traverse: t.TempDir's own parent is created 0700, so open it up (it is
// ours to change).
func clusterDir(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	require.NoError(t, os.Chmod(tmp, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(tmp), 0o755))
	require.NoError(t, embeddedpg.Reachable(tmp, ""), "t.TempDir() must be reachable by the run-as user")
	return filepath.Join(tmp, "pg")
}

// startServer starts a server and registers a Stop that also proves no
// postgres is left serving the directory.
func startServer(t *testing.T, cfg embeddedpg.Config) *embeddedpg.Server {
	t.Helper()
	s, err := embeddedpg.Start(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, s.Stop(context.Background()))
		requireNoPostgres(t, filepath.Join(cfg.Dir, "data"))
	})
	return s
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func postmasterPID(t *testing.T, pgdata string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	require.NoError(t, err)
	return pid
}

// postgresFor lists live postgres processes whose working directory is
// pgdata (postgres chdirs into its data directory).
func postgresFor(t *testing.T, pgdata string) []int {
	t.Helper()
	want, err := os.Stat(pgdata)
	if err != nil {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		cwd, err := os.Stat(filepath.Join("/proc", e.Name(), "cwd"))
		if err == nil && os.SameFile(cwd, want) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// alive reports whether pid runs; zombies count as gone because PID 1 may
// be slow to reap the postmaster that pg_ctl orphaned.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && !strings.HasPrefix(string(stat[i+1:]), " Z")
}

func requireNoPostgres(t *testing.T, pgdata string) {
	t.Helper()
	// Backends may take a moment to exit after pg_ctl stop -w returns.
	require.Eventually(t, func() bool { return len(postgresFor(t, pgdata)) == 0 },
		10*time.Second, 100*time.Millisecond, "postgres still running for %s", pgdata)
}

func TestStartFreshCluster(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	s := startServer(t, embeddedpg.Config{Dir: dir})
	require.False(t, s.Reused())
	require.Contains(t, s.URL(), "@127.0.0.1:")
	require.Contains(t, s.URL(), "/claimsd?sslmode=disable")

	conn := connect(t, s.URL())
	var one int
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT 1").Scan(&one))
	require.Equal(t, 1, one)
	var who, db, listen, enc string
	require.NoError(t, conn.QueryRow(t.Context(),
		"SELECT current_user, current_database(), current_setting('listen_addresses'), current_setting('server_encoding')").
		Scan(&who, &db, &listen, &enc))
	require.Equal(t, "claimsd", who)
	require.Equal(t, "claimsd", db)
	require.Equal(t, "127.0.0.1", listen)
	require.Equal(t, "UTF8", enc)

	admin := connect(t, s.AdminURL("postgres"))
	require.NoError(t, admin.QueryRow(t.Context(), "SELECT current_database()").Scan(&db))
	require.Equal(t, "postgres", db)

	// A wrong password must be refused: scram auth, not trust.
	bad := strings.Replace(s.URL(), "claimsd:", "claimsd:wrong", 1)
	_, err := pgx.Connect(t.Context(), bad)
	require.Error(t, err)

	pw, err := os.Stat(filepath.Join(dir, "password"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), pw.Mode().Perm())
	require.Equal(t, uint32(os.Geteuid()), pw.Sys().(*syscall.Stat_t).Uid)

	pgdata := filepath.Join(dir, "data")
	fi, err := os.Stat(pgdata)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

	if os.Geteuid() == 0 {
		nobody, err := user.Lookup("nobody")
		require.NoError(t, err)
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", postmasterPID(t, pgdata)))
		require.NoError(t, err)
		var uidLine string
		for _, l := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(l, "Uid:") {
				uidLine = l
			}
		}
		require.Equal(t, nobody.Uid, strings.Fields(uidLine)[1], "postgres must run as nobody")
		require.Equal(t, uint32(0), pw.Sys().(*syscall.Stat_t).Uid, "password file stays root's")
	}

	require.NoError(t, s.Stop(t.Context()))
	requireNoPostgres(t, pgdata)
	require.NoError(t, s.Stop(t.Context()), "Stop is idempotent")
}

func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	s, err := embeddedpg.Start(t.Context(), embeddedpg.Config{Dir: dir})
	require.NoError(t, err)
	firstURL := s.URL()
	conn, err := pgx.Connect(t.Context(), s.URL())
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives')")
	require.NoError(t, err)
	require.NoError(t, conn.Close(t.Context()))
	require.NoError(t, s.Stop(t.Context()))
	requireNoPostgres(t, filepath.Join(dir, "data"))

	s2 := startServer(t, embeddedpg.Config{Dir: dir})
	require.False(t, s2.Reused())
	require.Equal(t, firstURL, s2.URL(), "port and password are kept across restarts")
	var v string
	require.NoError(t, connect(t, s2.URL()).QueryRow(t.Context(), "SELECT v FROM kept").Scan(&v))
	require.Equal(t, "survives", v)
}

// TestSharedServerStopsWithItsLastUser: two users of one cluster (a serve
// and a seed-demo, an API and a worker process); whichever stops first
// leaves PostgreSQL running for the other, and the last one stops it.
func TestSharedServerStopsWithItsLastUser(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	pgdata := filepath.Join(dir, "data")
	first := startServer(t, embeddedpg.Config{Dir: dir})
	require.False(t, first.Reused())
	pid := postmasterPID(t, pgdata)
	firstConn := connect(t, first.URL())

	for _, give := range []string{"the second user stops first", "the first user stops first"} {
		second, err := embeddedpg.Start(t.Context(), embeddedpg.Config{Dir: dir})
		require.NoError(t, err, give)
		require.True(t, second.Shared(), give)
		require.True(t, second.Reused(), give)
		require.Equal(t, first.URL(), second.URL(), give)
		require.Equal(t, pid, postmasterPID(t, pgdata), "%s: same postmaster", give)

		stopping, staying := second, first
		if give == "the first user stops first" {
			stopping, staying = first, second
		}
		require.NoError(t, stopping.Stop(t.Context()), give)
		require.True(t, alive(pid), "%s: postgres must keep running for the other user", give)
		var one int
		require.NoError(t, connect(t, staying.URL()).QueryRow(t.Context(), "SELECT 1").Scan(&one), give)
		if staying == first {
			require.NoError(t, firstConn.QueryRow(t.Context(), "SELECT 1").Scan(&one), "%s: open sessions survive", give)
			continue
		}
		require.NoError(t, staying.Stop(t.Context()), give)
		requireNoPostgres(t, pgdata)
	}
}

// TestInUseServerIsNotMoved: asking for another port while another process
// uses the server is refused, rather than restarting it under that process.
func TestInUseServerIsNotMoved(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	pgdata := filepath.Join(dir, "data")
	first := startServer(t, embeddedpg.Config{Dir: dir})
	pid := postmasterPID(t, pgdata)
	port := freePort(t)

	_, err := embeddedpg.Start(t.Context(), embeddedpg.Config{Dir: dir, Port: port})
	var ie *embeddedpg.InUseError
	require.ErrorAs(t, err, &ie)
	require.Equal(t, port, ie.Want)
	require.Contains(t, first.URL(), fmt.Sprintf(":%d/", ie.Port))
	require.ErrorContains(t, err, "CLAIMSD_EMBEDDED_PG_PORT")
	require.Equal(t, pid, postmasterPID(t, pgdata), "the server in use was left alone")
	var one int
	require.NoError(t, connect(t, first.URL()).QueryRow(t.Context(), "SELECT 1").Scan(&one))
}

// TestWatchStartsTheServerAgain kills PostgreSQL under its user, which
// must find it running again, on the same URL, with its data, and be told
// once so it can drop its broken connections.
func TestWatchStartsTheServerAgain(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	pgdata := filepath.Join(dir, "data")
	s := startServer(t, embeddedpg.Config{Dir: dir})
	_, err := connect(t, s.URL()).Exec(t.Context(), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives')")
	require.NoError(t, err)
	var restarts atomic.Int32
	go s.Watch(t.Context(), 100*time.Millisecond, func() { restarts.Add(1) })

	pid := postmasterPID(t, pgdata)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	waitFor(t, func() bool {
		conn, err := pgx.Connect(t.Context(), s.URL())
		if err != nil {
			return false
		}
		defer func() { _ = conn.Close(context.Background()) }()
		var v string
		return conn.QueryRow(t.Context(), "SELECT v FROM kept").Scan(&v) == nil && v == "survives"
	})
	require.NotEqual(t, pid, postmasterPID(t, pgdata))
	waitFor(t, func() bool { return s.Problem() == nil })
	waitFor(t, func() bool { return restarts.Load() == 1 })
}

// TestWatchFinishesARestartWhenStopped: the engine begins shutting down
// while it starts its database again; the restart completes rather than
// leaving the server stopped under another process using it.
func TestWatchFinishesARestartWhenStopped(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	pgdata := filepath.Join(dir, "data")
	s := startServer(t, embeddedpg.Config{Dir: dir})
	other, err := embeddedpg.Start(t.Context(), embeddedpg.Config{Dir: dir})
	require.NoError(t, err)
	pid := postmasterPID(t, pgdata)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	waitFor(t, func() bool { return len(postgresFor(t, pgdata)) == 0 })

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { s.Watch(ctx, 20*time.Millisecond, nil); close(done) }()
	// Shut down as soon as the new postmaster exists, before it is ready.
	waitFor(t, func() bool {
		b, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
		return err == nil && !strings.HasPrefix(string(b), strconv.Itoa(pid)+"\n")
	})
	cancel()
	<-done
	var one int
	require.NoError(t, connect(t, other.URL()).QueryRow(t.Context(), "SELECT 1").Scan(&one))
	require.NoError(t, other.Stop(t.Context()))
}

// TestWatchSaysWhatBlocksTheRestart: while another program holds the
// server's port, Problem says so; once the port is free the server runs
// again.
func TestWatchSaysWhatBlocksTheRestart(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	pgdata := filepath.Join(dir, "data")
	s := startServer(t, embeddedpg.Config{Dir: dir})
	pid := postmasterPID(t, pgdata)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	waitFor(t, func() bool { return len(postgresFor(t, pgdata)) == 0 })
	u, err := url.Parse(s.URL())
	require.NoError(t, err)
	var l net.Listener
	waitFor(t, func() bool {
		var err error
		l, err = net.Listen("tcp", u.Host)
		return err == nil
	})
	t.Cleanup(func() { _ = l.Close() })

	go s.Watch(t.Context(), 50*time.Millisecond, nil)
	waitFor(t, func() bool { return s.Problem() != nil })
	require.ErrorContains(t, s.Problem(), "used by another program")
	require.ErrorContains(t, s.Problem(), "free the port")

	require.NoError(t, l.Close())
	waitFor(t, func() bool { return s.Problem() == nil })
	var one int
	require.NoError(t, connect(t, s.URL()).QueryRow(t.Context(), "SELECT 1").Scan(&one))
}

func TestStalePidFile(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	pgdata := filepath.Join(dir, "data")
	pidPath := filepath.Join(pgdata, "postmaster.pid")

	s, err := embeddedpg.Start(t.Context(), embeddedpg.Config{Dir: dir})
	require.NoError(t, err)
	live, err := os.ReadFile(pidPath)
	require.NoError(t, err)
	fi, err := os.Stat(pidPath)
	require.NoError(t, err)
	require.NoError(t, s.Stop(t.Context()))

	// writeLock plants a postmaster.pid like the one a crashed server
	// leaves, pointing at pid.
	writeLock := func(pid int) {
		lines := strings.SplitN(string(live), "\n", 2)
		require.NoError(t, os.WriteFile(pidPath, []byte(strconv.Itoa(pid)+"\n"+lines[1]), 0o600))
		st := fi.Sys().(*syscall.Stat_t)
		require.NoError(t, os.Chown(pidPath, int(st.Uid), int(st.Gid)))
	}

	t.Run("dead pid", func(t *testing.T) {
		dead := exec.Command("true")
		require.NoError(t, dead.Run())
		writeLock(dead.Process.Pid)
		s := startServer(t, embeddedpg.Config{Dir: dir})
		require.False(t, s.Reused())
		var one int
		require.NoError(t, connect(t, s.URL()).QueryRow(t.Context(), "SELECT 1").Scan(&one))
		require.NoError(t, s.Stop(t.Context()))
	})

	t.Run("pid reused by another program", func(t *testing.T) {
		other := exec.Command("sleep", "60")
		require.NoError(t, other.Start())
		t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
		writeLock(other.Process.Pid)
		s := startServer(t, embeddedpg.Config{Dir: dir})
		require.False(t, s.Reused())
		var one int
		require.NoError(t, connect(t, s.URL()).QueryRow(t.Context(), "SELECT 1").Scan(&one))
		require.NoError(t, s.Stop(t.Context()))
		require.True(t, alive(other.Process.Pid), "the unrelated process is left alone")
	})
}

// TestHelperStartAndBlock is not a test on its own: the SIGKILL test runs
// the test binary with helperDirEnv set, and this plays the engine.
func TestHelperStartAndBlock(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		t.Skip("helper process for TestSurvivesEngineSIGKILL")
	}
	s, err := embeddedpg.Start(context.Background(), embeddedpg.Config{Dir: dir})
	if err != nil {
		fmt.Println("ERR=" + strings.ReplaceAll(err.Error(), "\n", " | "))
		os.Exit(1)
	}
	fmt.Println("URL=" + s.URL())
	time.Sleep(10 * time.Minute)
}

// orphanServer starts a server in dir from a process of its own and kills
// that process with SIGKILL, which leaves PostgreSQL running with nobody
// using it, as a crashed engine does. It returns the server's URL.
func orphanServer(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperStartAndBlock$", "-test.v")
	cmd.Env = append(os.Environ(), helperDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "URL=") || strings.HasPrefix(l, "ERR=") {
				lines <- l
				break
			}
		}
		close(lines)
		_, _ = io.Copy(io.Discard, out)
	}()
	line := <-lines
	require.True(t, strings.HasPrefix(line, "URL="), "helper: %s", line)

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	require.NotEmpty(t, postgresFor(t, filepath.Join(dir, "data")), "postgres outlives the killed engine")
	return strings.TrimPrefix(line, "URL=")
}

func TestSurvivesEngineSIGKILL(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	pgdata := filepath.Join(dir, "data")
	childURL := orphanServer(t, dir)

	s := startServer(t, embeddedpg.Config{Dir: dir})
	require.True(t, s.Reused())
	require.False(t, s.Shared(), "nobody uses what a killed engine left")
	require.Equal(t, childURL, s.URL())
	var one int
	require.NoError(t, connect(t, s.URL()).QueryRow(t.Context(), "SELECT 1").Scan(&one))
	require.NoError(t, s.Stop(t.Context()))
	requireNoPostgres(t, pgdata)
}

func TestReachableNamesBlockingFolder(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("only root drops to another user")
	}
	base := clusterDir(t)
	private := filepath.Join(filepath.Dir(base), "private")
	require.NoError(t, os.Mkdir(private, 0o700))
	dir := filepath.Join(private, "sub", "pg")

	err := embeddedpg.Reachable(dir, "")
	var ue *embeddedpg.UnreachableError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, private, ue.Blocker)
	require.Contains(t, err.Error(), private)
	require.Contains(t, err.Error(), "nobody")
	require.Contains(t, err.Error(), "DATABASE_URL")

	_, err = embeddedpg.Start(t.Context(), embeddedpg.Config{Dir: dir})
	require.ErrorAs(t, err, &ue)
	require.NoDirExists(t, filepath.Join(private, "sub"), "nothing created behind the blocking folder")
	fi, err := os.Stat(private)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "the folder's mode is not touched")

	require.NoError(t, embeddedpg.Reachable(base, ""))
	require.NoError(t, embeddedpg.Reachable(filepath.Join(base, "not", "yet", "created"), ""))
}

func TestPortTakenByAnotherProgram(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	port := uint32(l.Addr().(*net.TCPAddr).Port)

	dir := clusterDir(t)
	_, err = embeddedpg.Start(t.Context(), embeddedpg.Config{Dir: dir, Port: port})
	var pe *embeddedpg.PortInUseError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, port, pe.Port)
	require.Contains(t, err.Error(), strconv.Itoa(int(port)))
	require.Contains(t, err.Error(), "DATABASE_URL")
	requireNoPostgres(t, filepath.Join(dir, "data"))

	// Once the port is free the same directory starts on it.
	require.NoError(t, l.Close())
	s := startServer(t, embeddedpg.Config{Dir: dir, Port: port})
	require.Contains(t, s.URL(), fmt.Sprintf(":%d/", port))
}

func TestExplicitBinDirMustHoldTools(t *testing.T) {
	t.Parallel()
	bin := t.TempDir()
	_, err := embeddedpg.Start(t.Context(), embeddedpg.Config{Dir: clusterDir(t), BinDir: bin})
	require.ErrorContains(t, err, "initdb not found")
	require.Equal(t, 1, strings.Count(err.Error(), bin), "the folder is named once: %v", err)
}

func TestStartRespectsCancelledContext(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := embeddedpg.Start(ctx, embeddedpg.Config{Dir: dir})
	require.ErrorIs(t, err, context.Canceled)
	requireNoPostgres(t, filepath.Join(dir, "data"))

	// A cancelled start leaves nothing that blocks the next one.
	s := startServer(t, embeddedpg.Config{Dir: dir})
	require.NotEmpty(t, s.URL())
}

func TestRunningOnOtherPortIsRestarted(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	pgdata := filepath.Join(dir, "data")
	orphanServer(t, dir)
	oldPID := postmasterPID(t, pgdata)
	port := freePort(t)

	// The forgotten server runs on the old port; asking for another one
	// must stop it rather than run two postmasters on one PGDATA.
	s := startServer(t, embeddedpg.Config{Dir: dir, Port: port})
	require.False(t, s.Reused())
	require.Contains(t, s.URL(), fmt.Sprintf(":%d/", port))
	require.NotEqual(t, oldPID, postmasterPID(t, pgdata))
	require.Eventually(t, func() bool { return !alive(oldPID) }, 10*time.Second, 100*time.Millisecond,
		"old postmaster is gone")
	var one int
	require.NoError(t, connect(t, s.URL()).QueryRow(t.Context(), "SELECT 1").Scan(&one))
}

// waitFor polls cond until it holds; go test's -timeout is the backstop.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(t *testing.T) uint32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := uint32(l.Addr().(*net.TCPAddr).Port)
	require.NoError(t, l.Close())
	return port
}

func TestStartFailureIncludesServerLog(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	s, err := embeddedpg.Start(t.Context(), embeddedpg.Config{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, s.Stop(t.Context()))

	conf := filepath.Join(dir, "data", "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("\nbogus_setting_for_test = 1\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	_, err = embeddedpg.Start(t.Context(), embeddedpg.Config{Dir: dir})
	require.Error(t, err)
	require.Contains(t, err.Error(), "start embedded postgres")
	require.Contains(t, err.Error(), "bogus_setting_for_test", "the server log explains the failure")
	require.Contains(t, err.Error(), "DATABASE_URL")
	requireNoPostgres(t, filepath.Join(dir, "data"))
}
