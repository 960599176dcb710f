package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// engine is a claimsd process claimsbench started.
type engine struct {
	cmd    *exec.Cmd
	base   string
	secret []byte
	dbURL  string // "" with the embedded database
	drop   func()
	dir    string
}

// startEngine builds (unless -claimsd names one) and starts claimsd serve
// on a free loopback port, on a fresh database of the -db server, and
// waits until it is ready.
func startEngine(ctx context.Context, o options, logf func(string, ...any)) (*engine, error) {
	dir, err := os.MkdirTemp("", "claimsbench-")
	if err != nil {
		return nil, err
	}
	e := &engine{dir: dir, drop: func() {}}
	bin := o.claimsd
	if bin == "" {
		bin = filepath.Join(dir, "claimsd")
		logf("building claimsd")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/claimsd")
		if out, err := build.CombinedOutput(); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("build claimsd (run claimsbench from the module's root, or give -claimsd): %v\n%s", err, out)
		}
	}
	if o.db != "" {
		url, drop, err := freshDatabase(ctx, o.db)
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		e.dbURL, e.drop = url, drop
		addStatsExtensions(ctx, url)
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	e.secret = []byte(hex.EncodeToString(raw))
	port, err := freePort()
	if err != nil {
		e.stop(false)
		return nil, err
	}
	e.base = "http://127.0.0.1:" + strconv.Itoa(port)
	env := append(os.Environ(),
		"CLAIMSD_HTTP_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"CLAIMSD_JWT_SECRET="+string(e.secret),
		"CLAIMSD_DATA_DIR="+filepath.Join(dir, "data"),
		"CLAIMSD_LOG_LEVEL=warn",
		"DATABASE_URL="+e.dbURL,
	)
	if o.pprof != "" {
		env = append(env, "CLAIMSD_PPROF_ADDR="+o.pprof)
	}
	if o.webhook {
		env = append(env, "CLAIMSD_WEBHOOK_ALLOW_PRIVATE=true") // the receiver is on 127.0.0.1
	}
	if o.nats != "" {
		env = append(env, "CLAIMSD_NATS_URL="+o.nats)
	}
	e.cmd = exec.Command(bin, "serve")
	e.cmd.Env = env
	logFile, err := os.Create(filepath.Join(dir, "claimsd.log"))
	if err != nil {
		e.stop(false)
		return nil, err
	}
	e.cmd.Stdout, e.cmd.Stderr = logFile, logFile
	if err := e.cmd.Start(); err != nil {
		e.stop(false)
		return nil, fmt.Errorf("start claimsd: %w", err)
	}
	logf("claimsd started (pid %d, %s, log %s)", e.cmd.Process.Pid, e.base, logFile.Name())
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(e.base + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return e, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			e.stop(true)
			return nil, fmt.Errorf("claimsd did not become ready; see %s", logFile.Name())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the engine (SIGTERM, then SIGKILL) and drops its database
// unless keep.
func (e *engine) stop(keep bool) {
	if e.cmd != nil && e.cmd.Process != nil {
		_ = e.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = e.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = e.cmd.Process.Kill()
			<-done
		}
	}
	if !keep {
		e.drop()
		_ = os.RemoveAll(e.dir)
	}
}

// freshDatabase creates an empty database on server's PostgreSQL and
// returns its URL and what drops it.
func freshDatabase(ctx context.Context, server string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, fmt.Errorf("connect to -db: %w", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	name := fmt.Sprintf("claimsbench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, server); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
			_ = c.Close(ctx)
		}
	}
	return u.String(), drop, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// procSample is a process's resident memory and CPU time so far.
type procSample struct {
	rssBytes int64
	cpu      time.Duration
}

// sampleProc reads /proc/<pid>/status and /proc/<pid>/stat.
func sampleProc(pid int) (procSample, error) {
	var s procSample
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return s, fmt.Errorf("VmRSS %q: %w", v, err)
			}
			s.rssBytes = kb << 10
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the command name (which may hold spaces) in ")".
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return s, errors.New("unreadable /proc stat")
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 13 {
		return s, errors.New("short /proc stat")
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	s.cpu = time.Duration(utime+stime) * time.Second / ticks
	return s, nil
}
