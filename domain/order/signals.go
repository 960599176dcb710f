package order

import (
	"crypto/sha256"
	"strings"

	"github.com/claimsd/claimsd/domain/validation"
)

// MaxSignalLength is the longest identity signal taken, in characters.
const MaxSignalLength = validation.MaxSignalLength

// SignalKind is a kind of identity signal the platform may send with an
// order. The zero value is no kind; SignalKinds lists them all.
type SignalKind struct{ name string }

// The kinds of identity signal.
var (
	// SignalDevice is the device the order was placed from.
	SignalDevice = SignalKind{"device"}
	// SignalPaymentFingerprint is the payment method, as the provider
	// fingerprints it (a card's fingerprint, say).
	SignalPaymentFingerprint = SignalKind{"payment_fingerprint"}
	// SignalShippingAddress is where the order was shipped.
	SignalShippingAddress = SignalKind{"shipping_address"}
)

// SignalKinds lists the kinds, in the order the API names them.
var SignalKinds = []SignalKind{SignalDevice, SignalPaymentFingerprint, SignalShippingAddress}

// String returns the kind's name as the API writes it, e.g. "device".
func (k SignalKind) String() string { return k.name }

// Words returns the kind in plain words, e.g. "payment fingerprint".
func (k SignalKind) Words() string { return strings.ReplaceAll(k.name, "_", " ") }

// ParseSignalKind returns the kind named s.
func ParseSignalKind(s string) (SignalKind, bool) {
	for _, k := range SignalKinds {
		if k.name == s {
			return k, true
		}
	}
	return SignalKind{}, false
}

// BuyerSignals are the identity signals the platform sent for the buyer
// of an order, each an opaque string it already hashed; nil when not
// sent. New refuses anything that looks like the personal data itself.
type BuyerSignals struct {
	Device             *string
	PaymentFingerprint *string
	ShippingAddress    *string
}

// Signal is one identity signal of an order's buyer, as the platform sent
// it.
type Signal struct {
	Kind  SignalKind
	Value string
}

// signalDomain prefixes what Digest hashes, so a signal's digest can never
// equal the digest of anything else the engine hashes, nor of another
// kind's signal with the same value.
const signalDomain = "claimsd/buyer-signal/v1\x00"

// Digest is what the engine keeps of the signal: SHA-256 over a fixed
// prefix, the kind and the value, never the value itself. It is the same
// for the same signal on every install and after any key rotation, so
// links found once keep being found; the value is already the platform's
// hash, so no secret is needed to keep it from being read back (see
// docs/architecture.md, "Linked accounts").
//
//	h := sig.Digest() // 32 bytes
func (s Signal) Digest() []byte {
	h := sha256.New()
	h.Write([]byte(signalDomain))
	h.Write([]byte(s.Kind.name))
	h.Write([]byte{0})
	h.Write([]byte(s.Value))
	return h.Sum(nil)
}

// list returns the signals given, in SignalKinds order.
func (b BuyerSignals) list() []Signal {
	var out []Signal
	for _, s := range []struct {
		kind SignalKind
		v    *string
	}{{SignalDevice, b.Device}, {SignalPaymentFingerprint, b.PaymentFingerprint}, {SignalShippingAddress, b.ShippingAddress}} {
		if s.v != nil {
			out = append(out, Signal{Kind: s.kind, Value: *s.v})
		}
	}
	return out
}

// validate checks each signal given. Errors name the field as
// "buyer_signals.<kind>": raw_personal_data for what looks like an e-mail
// address, a card number, a phone number or a postal address; too_short,
// too_long and invalid_signal for the rest.
func (b BuyerSignals) validate() ([]Signal, error) {
	list := b.list()
	for _, s := range list {
		if err := validation.CheckSignal("buyer_signals."+s.Kind.name, s.Value); err != nil {
			return nil, err
		}
	}
	return list, nil
}
