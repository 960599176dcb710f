package embeddedpg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	embeddedpostgres "github.com/fergusstrange/embedded-postgres"
)

// Folders inside the cluster directory used only by the download fallback.
const (
	distSubdir    = "pgdist"         // extracted binaries (pgdist/bin/pg_ctl)
	distRuntime   = "pgdist-runtime" // the library's scratch folder, removed after
	distProbe     = "pgdist-probe"   // fake PGDATA, see downloadBinaries
	distVersion   = embeddedpostgres.V16
	distPGVersion = "16"
)

var requiredTools = []string{"initdb", "pg_ctl", "postgres"}

// findBinaries returns the folder holding initdb, pg_ctl and postgres. The
// order prefers what the operator chose, then what the system provides, and
// only downloads as a last resort.
func findBinaries(ctx context.Context, binDir, clusterDir string, log *slog.Logger) (string, error) {
	if binDir != "" {
		if err := hasTools(binDir); err != nil {
			return "", fmt.Errorf("configured PostgreSQL bin folder: %w", err)
		}
		return filepath.Abs(binDir)
	}
	for _, tool := range []string{"pg_ctl", "initdb"} {
		if p, err := exec.LookPath(tool); err == nil {
			// Debian links /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin;
			// the other tools only exist next to the link target.
			if real, err := filepath.EvalSymlinks(p); err == nil {
				if d := filepath.Dir(real); hasTools(d) == nil {
					return d, nil
				}
			}
		}
	}
	if p, err := exec.LookPath("pg_config"); err == nil {
		out, err := exec.CommandContext(ctx, p, "--bindir").Output()
		if d := strings.TrimSpace(string(out)); err == nil && hasTools(d) == nil {
			return d, nil
		}
	}
	if d := newestDebianBinDir(); d != "" {
		return d, nil
	}
	log.Info("no PostgreSQL binaries installed, downloading them", "dir", filepath.Join(clusterDir, distSubdir))
	return downloadBinaries(ctx, clusterDir)
}

func hasTools(dir string) error {
	for _, t := range requiredTools {
		fi, err := os.Stat(filepath.Join(dir, t))
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s not found in %s", t, dir)
		}
		if err != nil {
			return err // names the path
		}
		if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("%s in %s is not executable", t, dir)
		}
	}
	return nil
}

// newestDebianBinDir picks the highest /usr/lib/postgresql/<major>/bin.
func newestDebianBinDir() string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(p string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(p)), 64)
		return v
	}
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) > version(matches[j]) })
	for _, d := range matches {
		if hasTools(d) == nil {
			return d
		}
	}
	return ""
}

// downloadBinaries uses embedded-postgres only to fetch and unpack binaries,
// then hands them to our own pg_ctl logic. Its Start cannot drop root
// privileges, so running the server through it would fail as root; instead
// we point it at a fake PGDATA (PG_VERSION only) so it skips initdb, and its
// pg_ctl start fails harmlessly after the binaries are extracted.
func downloadBinaries(ctx context.Context, clusterDir string) (string, error) {
	target := filepath.Join(clusterDir, distSubdir)
	bin := filepath.Join(target, "bin")
	if hasTools(bin) == nil {
		return bin, nil
	}
	probe := filepath.Join(clusterDir, distProbe)
	runtimeDir := filepath.Join(clusterDir, distRuntime)
	defer func() {
		_ = os.RemoveAll(probe)
		_ = os.RemoveAll(runtimeDir)
	}()
	if err := os.MkdirAll(probe, 0o700); err != nil {
		return "", fmt.Errorf("prepare binary download: %w", err)
	}
	if err := os.WriteFile(filepath.Join(probe, "PG_VERSION"), []byte(distPGVersion+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("prepare binary download: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("prepare binary download: %w", err)
	}
	port := uint32(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()

	db := embeddedpostgres.NewDatabase(embeddedpostgres.DefaultConfig().
		Version(distVersion).
		Port(port).
		BinariesPath(target).
		RuntimePath(runtimeDir).
		DataPath(probe).
		Logger(io.Discard))

	// The library's HTTP download has no timeout or context, so wait for it
	// in a goroutine and give up on ctx; the goroutine ends with the request.
	done := make(chan error, 1)
	go func() { done <- db.Start() }()
	var startErr error
	select {
	case startErr = <-done:
	case <-ctx.Done():
		return "", fmt.Errorf("download PostgreSQL binaries: %w", ctx.Err())
	}
	if startErr == nil {
		// Not expected with a fake PGDATA, but never leave a server behind.
		_ = db.Stop()
	}
	if err := hasTools(bin); err != nil {
		if startErr == nil {
			startErr = err
		}
		return "", fmt.Errorf("no PostgreSQL binaries found (looked at PATH, pg_config, /usr/lib/postgresql/*/bin) "+
			"and downloading them did not work: %s; install PostgreSQL (e.g. apt-get install postgresql), "+
			"point the embedded PostgreSQL bin folder at it, or set DATABASE_URL", firstLine(startErr))
	}
	return bin, nil
}

// firstLine trims the library's errors, which append whole log files.
func firstLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}
