// Package stripemock starts stripe-mock, Stripe's API simulator, for tests
// that call Stripe through the real SDK over HTTP.
//
//	base := stripemock.URL(t) // e.g. http://127.0.0.1:41234, stopped at cleanup
package stripemock

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const stripeMockModule = "github.com/stripe/stripe-mock@v0.203.0"

// installStripeMock installs stripe-mock from the Go module proxy once per
// test binary when it is not there yet, so the README's test command needs
// no set-up step of its own.
var installStripeMock = sync.OnceValue(func() error {
	if findStripeMock() != "" {
		return nil
	}
	out, err := exec.Command("go", "install", stripeMockModule).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go install %s: %w: %s", stripeMockModule, err, out)
	}
	return nil
})

// URL returns the base URL of a stripe-mock: STRIPE_MOCK_URL if
// set, else one started for this test from $(go env GOPATH)/bin or PATH
// (installed there first if missing) and killed at cleanup.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("STRIPE_MOCK_URL"); u != "" {
		return u
	}
	if err := installStripeMock(); err != nil {
		t.Fatal(err)
	}
	bin := findStripeMock()
	if bin == "" {
		t.Fatalf("stripe-mock is not in $(go env GOPATH)/bin or PATH after `go install %s`; "+
			"point STRIPE_MOCK_URL at a running one", stripeMockModule)
	}

	// Port 0 on both listeners: the system picks free ports, so parallel
	// runs never collide, and stripe-mock prints the HTTP one.
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	addr := make(chan string, 1)
	go func() {
		const prefix = "Listening for HTTP at address: "
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				addr <- strings.TrimSpace(a)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout) // keep the pipe drained
	}()
	var hostPort string
	select {
	case hostPort = <-addr:
	case <-time.After(30 * time.Second):
		t.Fatal("stripe-mock did not report its HTTP address within 30s")
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", hostPort, time.Second)
		if err == nil {
			_ = conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock at %s does not accept connections: %v", hostPort, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "http://" + hostPort
}

func findStripeMock() string {
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			bin := filepath.Join(dir, "bin", "stripe-mock")
			if _, err := os.Stat(bin); err == nil {
				return bin
			}
		}
	}
	if bin, err := exec.LookPath("stripe-mock"); err == nil {
		return bin
	}
	return ""
}
