package intel

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
)

// seedLabel is what DeriveSeed signs with the secret; the version lets a
// later key be derived from the same secret without reusing this one.
const seedLabel = "claimsd/intelligence-packet-signing/v1"

// Signer signs the intelligence packets sent to rights holders and
// enforcement, so a recipient holding the public key can check a packet
// came from the engine unchanged. Build one with NewSigner.
//
//	s, err := intel.NewSigner(intel.DeriveSeed(secret))
//	sig := s.Sign(packet) // publish s.PublicKeyPEM() and s.KeyID()
type Signer struct {
	priv  ed25519.PrivateKey
	pub   ed25519.PublicKey
	keyID string
}

// NewSigner returns a Signer for the Ed25519 key of seed, which must be
// ed25519.SeedSize (32) bytes.
func NewSigner(seed []byte) (*Signer, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("signing seed must be %d bytes, got %d", ed25519.SeedSize, len(seed))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	return &Signer{priv: priv, pub: pub, keyID: "ed25519:" + hex.EncodeToString(sum[:8])}, nil
}

// DeriveSeed derives the signing seed from a secret the engine already
// keeps: HMAC-SHA256(secret, "claimsd/intelligence-packet-signing/v1"),
// 32 bytes. The same secret always gives the same key.
func DeriveSeed(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(seedLabel))
	return m.Sum(nil)
}

// KeyID names the key: "ed25519:" and the first 16 hex characters of the
// SHA-256 of the public key, so a recipient can tell which key signed
// when keys change.
func (s *Signer) KeyID() string { return s.keyID }

// PublicKey returns a copy of the public key.
func (s *Signer) PublicKey() ed25519.PublicKey { return append(ed25519.PublicKey{}, s.pub...) }

// PublicKeyPEM returns the public key as a PKIX "PUBLIC KEY" PEM block,
// which OpenSSL reads:
//
//	openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in packet.json -sigfile packet.sig
func (s *Signer) PublicKeyPEM() string {
	der, err := x509.MarshalPKIXPublicKey(s.pub)
	if err != nil {
		// An Ed25519 public key always marshals.
		panic(fmt.Sprintf("marshal ed25519 public key: %v", err))
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// Sign returns the raw 64-byte Ed25519 signature of b.
func (s *Signer) Sign(b []byte) []byte { return ed25519.Sign(s.priv, b) }

// Verify reports whether sig is pub's signature of b. A key or signature
// of the wrong size is false, never a panic.
func Verify(pub ed25519.PublicKey, b, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(pub, b, sig)
}
