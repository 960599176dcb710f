package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The tests in this file run claimsd with its embedded PostgreSQL (no
// DATABASE_URL), as people trying it do, several processes on one data
// directory.

// embeddedEnv is the environment of a claimsd using the embedded
// PostgreSQL in a fresh data directory, and that directory. Its parents are
// opened up so that, as root, the database user can reach it and the
// cluster stays inside the test's folder.
func embeddedEnv(t *testing.T) (map[string]string, string) {
	t.Helper()
	tmp := t.TempDir()
	require.NoError(t, os.Chmod(tmp, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(tmp), 0o755))
	dir := filepath.Join(tmp, "data")
	return map[string]string{
		"CLAIMSD_DATA_DIR":   dir,
		"CLAIMSD_JWT_SECRET": procSecret,
		"CLAIMSD_LOG_FORMAT": "text",
	}, dir
}

// runCommand runs the claimsd binary with args to the end, with the
// environment in env only (plus PATH and HOME).
func runCommand(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(claimsdBinary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// readyz returns /readyz's status code and reason.
func readyz(addr string) (int, string, error) {
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var body struct {
		Reason string `json:"reason"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return resp.StatusCode, "", err
	}
	return resp.StatusCode, body.Reason, nil
}

// requireReady requires /readyz to answer 200 now.
func requireReady(t *testing.T, c *procChild, addr string) {
	t.Helper()
	code, reason, err := readyz(addr)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "%s is not ready: %s\n%s", c.name, reason, tail(c.logPath, 30))
}

// waitReason polls /readyz until it answers 503 with a reason containing
// want, failing at once if the process exits.
func waitReason(t *testing.T, c *procChild, addr, want string) string {
	t.Helper()
	for {
		code, reason, err := readyz(addr)
		if err == nil && code == http.StatusServiceUnavailable && strings.Contains(reason, want) {
			return reason
		}
		select {
		case <-c.done:
			t.Fatalf("%s exited: %v", c.name, c.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fileAndSettle files a claim on a fresh order through a and waits until
// the workers have closed it, so the API and the workers both reached the
// database.
func fileAndSettle(t *testing.T, c *procChild, a procAPI, prefix string) {
	t.Helper()
	o := seedOrders(t, a, prefix, 1, 1)[0]
	id, err := submitClaim(a, o)
	require.NoError(t, err)
	for {
		code, body, err := a.do(http.MethodGet, "/v1/claims/"+id, "agent", "ana", nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code, body)
		if body["status"] == "closed" {
			return
		}
		select {
		case <-c.done:
			t.Fatalf("%s exited before claim %s closed: %v", c.name, id, c.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// clusterPostgres lists the live postgres processes of the cluster in
// dataDir (postgres works in its data directory).
func clusterPostgres(t *testing.T, dataDir string) []int {
	t.Helper()
	want, err := os.Stat(filepath.Join(dataDir, "pg", "data"))
	require.NoError(t, err)
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
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := strings.LastIndexByte(string(stat), ')'); err != nil || i < 0 || strings.HasPrefix(string(stat[i+1:]), " Z") {
			continue
		}
		if cwd, err := os.Stat(filepath.Join("/proc", e.Name(), "cwd")); err == nil && os.SameFile(cwd, want) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitNoClusterPostgres waits until no PostgreSQL process works in the
// cluster under dataDir. A stopped server's processes are gone at once;
// those a killed postmaster left behind end when they next notice it is
// gone, which on a loaded machine can take a moment. Should one never
// end, the package's test timeout reports it, with the processes left.
func waitNoClusterPostgres(t *testing.T, dataDir string) {
	t.Helper()
	for pids := clusterPostgres(t, dataDir); len(pids) > 0; pids = clusterPostgres(t, dataDir) {
		t.Logf("postgres processes still in the cluster: %v", pids)
		time.Sleep(100 * time.Millisecond)
	}
}

// postmaster reads the embedded cluster's postmaster.pid: its PID and
// port; ok is false while there is none.
func postmaster(dataDir string) (pid, port int, ok bool) {
	b, err := os.ReadFile(filepath.Join(dataDir, "pg", "data", "postmaster.pid"))
	if err != nil {
		return 0, 0, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return 0, 0, false
	}
	pid, err1 := strconv.Atoi(strings.TrimSpace(lines[0]))
	port, err2 := strconv.Atoi(strings.TrimSpace(lines[3]))
	return pid, port, err1 == nil && err2 == nil
}

// TestServesShareTheEmbeddedDatabase starts serve twice on one data
// directory (the second on another port, as by mistake) and runs
// seed-demo beside them: whichever stops first leaves the database to the
// other, which keeps answering and working claims, and the last one stops
// it.
func TestServesShareTheEmbeddedDatabase(t *testing.T) {
	t.Parallel()
	env, dataDir := embeddedEnv(t)
	addr1, addr2, addr3 := freeAddr(t), freeAddr(t), freeAddr(t)
	first := startChild(t, "claimsd-1", childEnv(env, addr1))
	first.waitReady(t, addr1)
	second := startChild(t, "claimsd-2", childEnv(env, addr2))
	second.waitReady(t, addr2)
	require.Contains(t, tail(second.logPath, 100), "another claimsd process uses the embedded database too")

	// A one-off command beside them uses the database quietly and leaves
	// it running.
	out, errOut, err := runCommand(t, env, "seed-demo")
	require.NoError(t, err, errOut)
	require.Contains(t, out, "ord_1001")
	require.NotContains(t, errOut, "previous")
	require.NotContains(t, errOut, "level=WARN")
	require.NotContains(t, errOut, "level=ERROR")
	requireReady(t, first, addr1)

	second.stop(t)
	requireReady(t, first, addr1)
	fileAndSettle(t, first, newProcAPI(addr1), "after_second")

	// The other way round: the process that started the database stops
	// first, and the one still using it carries on.
	third := startChild(t, "claimsd-3", childEnv(env, addr3))
	third.waitReady(t, addr3)
	first.stop(t)
	requireReady(t, third, addr3)
	fileAndSettle(t, third, newProcAPI(addr3), "after_first")

	third.stop(t)
	waitNoClusterPostgres(t, dataDir) // the last process to stop stops the database
}

// TestEmbeddedDatabaseComesBack kills the embedded PostgreSQL under a
// running engine, which must start it again and work on; while another
// program holds its port, /readyz says what to do.
func TestEmbeddedDatabaseComesBack(t *testing.T) {
	t.Parallel()
	env, dataDir := embeddedEnv(t)
	addr := freeAddr(t)
	c := startChild(t, "claimsd", childEnv(env, addr))
	c.waitReady(t, addr)
	a := newProcAPI(addr)
	fileAndSettle(t, c, a, "before")

	pid, _, ok := postmaster(dataDir)
	require.True(t, ok)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	// Ready again once the engine says its database runs again (it has
	// dropped the old server's connections by then): right after the
	// kill, /readyz can still answer from a connection not yet broken.
	waitRunsAgain(t, c, 1)
	c.waitReady(t, addr)
	fileAndSettle(t, c, a, "restarted")

	// Kill it again and take its port before the engine looks (it looks
	// every second); should the engine be quicker, try again.
	var squatter net.Listener
	for squatter == nil {
		c.waitReady(t, addr)
		pid, port, ok := postmaster(dataDir)
		require.True(t, ok)
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		for {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err == nil {
				squatter = l
				break
			}
			if again, _, ok := postmaster(dataDir); ok && again != pid {
				break // the engine started it again first
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	t.Cleanup(func() { _ = squatter.Close() })
	reason := waitReason(t, c, addr, "used by another program")
	require.Contains(t, reason, "free the port")

	restarts := strings.Count(tail(c.logPath, 1<<20), runsAgain)
	require.NoError(t, squatter.Close())
	waitRunsAgain(t, c, restarts+1)
	c.waitReady(t, addr)
	fileAndSettle(t, c, a, "port_freed")
	c.stop(t)
	waitNoClusterPostgres(t, dataDir)
}

// runsAgain is what the engine logs once its database runs again and it
// has dropped the connections the old server left broken.
const runsAgain = "the embedded postgres had stopped; it runs again"

// waitRunsAgain waits until the engine has logged that its database runs
// again n times.
func waitRunsAgain(t *testing.T, c *procChild, n int) {
	t.Helper()
	for strings.Count(tail(c.logPath, 1<<20), runsAgain) < n {
		select {
		case <-c.done:
			t.Fatalf("%s exited: %v", c.name, c.err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
