package blobstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/blobstore"
	"github.com/claimsd/claimsd/adapters/blobstore/blobtest"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

const versitygwModule = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

func TestS3(t *testing.T) {
	t.Parallel()
	blobs, _ := newS3(t, "claimsd/")
	blobtest.Run(t, func(*testing.T) evidenceflow.Blobs { return blobs })
}

// TestS3MissingBucket: NewS3 names the bucket it did not find and does
// not create it.
func TestS3MissingBucket(t *testing.T) {
	t.Parallel()
	_, cfg := newS3(t, "")
	cfg.Bucket = "no-such-bucket"
	_, err := blobstore.NewS3(context.Background(), cfg)
	require.ErrorContains(t, err, `bucket "no-such-bucket" does not exist`)

	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	require.NoError(t, err)
	exists, err := client.BucketExists(context.Background(), cfg.Bucket)
	require.NoError(t, err)
	require.False(t, exists)
}

// TestS3Memory: a 20 MB blob goes in and out without the heap growing
// with it. Not parallel: it measures the process's heap.
func TestS3Memory(t *testing.T) {
	blobs, _ := newS3(t, "")
	peak, allocated := blobtest.Memory(t, blobs, 20<<20)
	t.Logf("s3, 20 MiB put and read: live heap grew at most %.2f MiB; %.1f MiB allocated in all", mib(peak), mib(allocated))
	require.Less(t, peak, uint64(4<<20), "the live heap grew with the blob")
}

// newS3 starts a versitygw of its own for t (stopped at cleanup) with a
// bucket made for it, and returns a store on that bucket.
func newS3(t *testing.T, prefix string) (*blobstore.S3, blobstore.S3Config) {
	t.Helper()
	cfg := startVersitygw(t)
	cfg.Bucket = "evidence"
	cfg.Prefix = prefix

	ctx := context.Background()
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Region: cfg.Region})
	require.NoError(t, err)
	require.NoError(t, client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}))

	blobs, err := blobstore.NewS3(ctx, cfg)
	require.NoError(t, err)
	return blobs, cfg
}

// startVersitygw runs versitygw's posix backend over a temporary folder
// on a free loopback port, with random keys, and waits until it answers
// S3 requests. Without versitygw the test fails (CI installs it) unless
// CLAIMSD_SKIP_S3=1.
func startVersitygw(t *testing.T) blobstore.S3Config {
	t.Helper()
	bin := findVersitygw()
	if bin == "" {
		if os.Getenv("CLAIMSD_SKIP_S3") == "1" {
			t.Skip("versitygw is not installed and CLAIMSD_SKIP_S3=1")
		}
		t.Fatalf("versitygw, the S3 server these tests run against, is not in $(go env GOPATH)/bin or PATH: "+
			"install it with `go install %s` (about 2 minutes), or set CLAIMSD_SKIP_S3=1 to skip the S3 tests", versitygwModule)
	}
	cfg := blobstore.S3Config{Region: "us-east-1", AccessKey: randomHex(t, 10), SecretKey: randomHex(t, 20)}

	// A port picked free may be taken before versitygw binds it: try a
	// few.
	for attempt := 1; ; attempt++ {
		cfg.Endpoint = freeLoopbackAddr(t)
		cmd := exec.Command(bin, "--quiet", "--access", cfg.AccessKey, "--secret", cfg.SecretKey,
			"--region", cfg.Region, "--port", cfg.Endpoint, "posix", t.TempDir())
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()

		err := waitForS3(cfg, exited)
		if err == nil {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			return cfg
		}
		_ = cmd.Process.Kill()
		<-exited
		if attempt == 3 {
			t.Fatalf("versitygw on %s: %v\n%s", cfg.Endpoint, err, out.String())
		}
	}
}

// waitForS3 waits until the server answers a signed request (30 s at most,
// to report a server that hangs rather than wait for ever).
func waitForS3(cfg blobstore.S3Config, exited <-chan error) error {
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Region: cfg.Region})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := client.ListBuckets(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within 30s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func findVersitygw() string {
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			bin := filepath.Join(dir, "bin", "versitygw")
			if _, err := os.Stat(bin); err == nil {
				return bin
			}
		}
	}
	if bin, err := exec.LookPath("versitygw"); err == nil {
		return bin
	}
	return ""
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}
