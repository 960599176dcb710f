package intel_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/intel"
)

func newSigner(t *testing.T, secret string) *intel.Signer {
	t.Helper()
	s, err := intel.NewSigner(intel.DeriveSeed([]byte(secret)))
	require.NoError(t, err)
	return s
}

func TestNewSignerSeedSize(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		give    int
		wantErr bool
	}{
		{give: 0, wantErr: true},
		{give: 31, wantErr: true},
		{give: 32},
		{give: 33, wantErr: true},
		{give: 64, wantErr: true},
	} {
		s, err := intel.NewSigner(make([]byte, tt.give))
		if tt.wantErr {
			require.Error(t, err, tt.give)
			require.Nil(t, s)
			continue
		}
		require.NoError(t, err, tt.give)
		require.NotNil(t, s)
	}
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	s := newSigner(t, "secret-1")
	msg := []byte(`{"case":"case_1","sellers":["a","b"]}`)
	sig := s.Sign(msg)
	require.Len(t, sig, ed25519.SignatureSize)
	require.True(t, intel.Verify(s.PublicKey(), msg, sig))
	require.True(t, ed25519.Verify(s.PublicKey(), msg, sig), "a plain Ed25519 signature")

	t.Run("any byte changed fails", func(t *testing.T) {
		t.Parallel()
		for i := range msg {
			bad := bytes.Clone(msg)
			bad[i] ^= 0x01
			require.False(t, intel.Verify(s.PublicKey(), bad, sig), "byte %d", i)
		}
		require.False(t, intel.Verify(s.PublicKey(), msg[:len(msg)-1], sig), "truncated")
		require.False(t, intel.Verify(s.PublicKey(), append(bytes.Clone(msg), ' '), sig), "extended")
	})
	t.Run("a changed signature fails", func(t *testing.T) {
		t.Parallel()
		for i := range sig {
			bad := bytes.Clone(sig)
			bad[i] ^= 0x80
			require.False(t, intel.Verify(s.PublicKey(), msg, bad), "byte %d", i)
		}
	})
	t.Run("another key fails", func(t *testing.T) {
		t.Parallel()
		other := newSigner(t, "secret-2")
		require.False(t, intel.Verify(other.PublicKey(), msg, sig))
	})
	t.Run("malformed keys and signatures fail without panicking", func(t *testing.T) {
		t.Parallel()
		require.False(t, intel.Verify(nil, msg, sig))
		require.False(t, intel.Verify(s.PublicKey()[:31], msg, sig))
		require.False(t, intel.Verify(s.PublicKey(), msg, nil))
		require.False(t, intel.Verify(s.PublicKey(), msg, sig[:63]))
	})
	t.Run("the public key returned is a copy", func(t *testing.T) {
		t.Parallel()
		pub := s.PublicKey()
		pub[0] ^= 0xff
		require.True(t, intel.Verify(s.PublicKey(), msg, sig))
	})
}

func TestDeriveSeed(t *testing.T) {
	t.Parallel()
	a := intel.DeriveSeed([]byte("secret-1"))
	require.Len(t, a, ed25519.SeedSize)
	require.Equal(t, a, intel.DeriveSeed([]byte("secret-1")))
	require.NotEqual(t, a, intel.DeriveSeed([]byte("secret-2")))
	require.NotEqual(t, a, intel.DeriveSeed(nil))
	// The construction is part of the contract: a change of label or
	// hash would change every published key.
	m := hmac.New(sha256.New, []byte("secret-1"))
	m.Write([]byte("claimsd/intelligence-packet-signing/v1"))
	require.Equal(t, m.Sum(nil), a)
}

func TestPublicKeyPEMAndKeyID(t *testing.T) {
	t.Parallel()
	s := newSigner(t, "secret-1")
	block, rest := pem.Decode([]byte(s.PublicKeyPEM()))
	require.NotNil(t, block)
	require.Empty(t, rest)
	require.Equal(t, "PUBLIC KEY", block.Type)
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	require.NoError(t, err)
	require.Equal(t, s.PublicKey(), pub)

	require.Regexp(t, regexp.MustCompile(`^ed25519:[0-9a-f]{16}$`), s.KeyID())
	sum := sha256.Sum256(s.PublicKey())
	require.Equal(t, "ed25519:"+hex.EncodeToString(sum[:])[:16], s.KeyID())
	require.NotEqual(t, s.KeyID(), newSigner(t, "secret-2").KeyID())
}

// TestOpenSSLVerifies checks the promise made to recipients: OpenSSL
// verifies a packet and its raw signature file with the PEM key.
func TestOpenSSLVerifies(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("openssl", "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "OpenSSL 3") {
		t.Skip("needs OpenSSL 3 (pkeyutl -rawin)")
	}
	s := newSigner(t, "secret-1")
	dir := t.TempDir()
	packet := []byte(`{"case":"case_1"}` + "\n")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	key := write("key.pem", []byte(s.PublicKeyPEM()))
	in := write("packet.json", packet)
	good := write("packet.sig", s.Sign(packet))
	bad := write("bad.sig", s.Sign([]byte("something else")))

	verify := func(sig string) error {
		return exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", key, "-rawin", "-in", in, "-sigfile", sig).Run()
	}
	require.NoError(t, verify(good))
	require.Error(t, verify(bad))
}
