package order_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/domain/order"
	"github.com/claimsd/claimsd/domain/validation"
)

const (
	hexHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	b64Hash = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
)

func TestNewTakesBuyerSignals(t *testing.T) {
	t.Parallel()
	dev, addr := hexHash, b64Hash
	o, err := order.New(params(func(p *order.Params) {
		p.BuyerSignals = order.BuyerSignals{Device: &dev, ShippingAddress: &addr}
	}))
	require.NoError(t, err)
	require.Equal(t, []order.Signal{
		{Kind: order.SignalDevice, Value: dev},
		{Kind: order.SignalShippingAddress, Value: addr},
	}, o.Signals())

	none, err := order.New(params(nil))
	require.NoError(t, err)
	require.Empty(t, none.Signals())
}

func TestBuyerSignalRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		give     string
		wantCode string
	}{
		{name: "e-mail address", give: "alice@example.com", wantCode: "raw_personal_data"},
		{name: "e-mail address in a longer value", give: "user:alice@mail.example.org", wantCode: "raw_personal_data"},
		{name: "card number", give: "4111111111111111", wantCode: "raw_personal_data"},
		{name: "card number with dashes", give: "4111-1111-1111-1111", wantCode: "raw_personal_data"},
		{name: "card number with spaces", give: "4111 1111 1111 1111", wantCode: "raw_personal_data"},
		{name: "thirteen digits, not Luhn-valid", give: "1234567890123", wantCode: "raw_personal_data"},
		{name: "nineteen digits", give: "1234567890123456789", wantCode: "raw_personal_data"},
		{name: "Luhn-valid card number inside a value", give: "card:4111111111111111", wantCode: "raw_personal_data"},
		{name: "phone number", give: "+4915112345678", wantCode: "raw_personal_data"},
		{name: "phone number with separators", give: "+49(151)123-45678", wantCode: "raw_personal_data"},
		{name: "phone number inside a value", give: "tel:+4915112345678", wantCode: "raw_personal_data"},
		{name: "postal address", give: "221B Baker Street, London", wantCode: "raw_personal_data"},
		{name: "a tab", give: "abc\tdef", wantCode: "raw_personal_data"},
		{name: "empty", give: "", wantCode: "too_short"},
		{name: "too long", give: strings.Repeat("a", order.MaxSignalLength+1), wantCode: "too_long"},
		{name: "not ASCII", give: "straße", wantCode: "invalid_signal"},
		{name: "control character", give: "abc\x00def", wantCode: "invalid_signal"},
	}
	for _, tt := range tests {
		for _, kind := range order.SignalKinds {
			v := tt.give
			var sig order.BuyerSignals
			switch kind {
			case order.SignalDevice:
				sig.Device = &v
			case order.SignalPaymentFingerprint:
				sig.PaymentFingerprint = &v
			case order.SignalShippingAddress:
				sig.ShippingAddress = &v
			}
			_, err := order.New(params(func(p *order.Params) { p.BuyerSignals = sig }))
			var ve *validation.Error
			require.ErrorAs(t, err, &ve, tt.name)
			require.Equal(t, "buyer_signals."+kind.String(), ve.Field, tt.name)
			require.Equal(t, tt.wantCode, ve.Code, tt.name)
		}
	}
}

func TestBuyerSignalTaken(t *testing.T) {
	t.Parallel()
	for _, give := range []string{
		hexHash, b64Hash, "a", strings.Repeat("f", order.MaxSignalLength),
		"sha256:" + hexHash,
		"0123456789012abc",             // 13 digits, then letters: part of a hash
		"abc1234567890123456",          // letters, then 16 digits
		"4111111111111112x",            // a run next to a letter
		"ref_1234567890123",            // apart, but not Luhn-valid
		"12345678901234567890",         // twenty digits: no card has so many
		"ab+12345678cd",                // base64 with a + before digits
		"x+1234567",                    // seven digits
		"name@localhost",               // an @ without a dot after it
		"a.b@c",                        // the dot comes before the @
		"dev_0a1b2c3d4e5f60718293a4b5", // an opaque id
	} {
		v := give
		_, err := order.New(params(func(p *order.Params) { p.BuyerSignals.Device = &v }))
		require.NoError(t, err, give)
	}
}

func TestSignalDigest(t *testing.T) {
	t.Parallel()
	dev := order.Signal{Kind: order.SignalDevice, Value: hexHash}
	require.Len(t, dev.Digest(), 32)
	require.Equal(t, dev.Digest(), order.Signal{Kind: order.SignalDevice, Value: hexHash}.Digest(), "deterministic")
	require.NotEqual(t, dev.Digest(), order.Signal{Kind: order.SignalShippingAddress, Value: hexHash}.Digest(), "kinds are kept apart")
	require.NotEqual(t, dev.Digest(), order.Signal{Kind: order.SignalDevice, Value: hexHash + "0"}.Digest())
	require.False(t, bytes.Contains(dev.Digest(), []byte(hexHash[:8])))
}

func TestParseSignalKind(t *testing.T) {
	t.Parallel()
	for _, k := range order.SignalKinds {
		got, ok := order.ParseSignalKind(k.String())
		require.True(t, ok)
		require.Equal(t, k, got)
	}
	_, ok := order.ParseSignalKind("email")
	require.False(t, ok)
	require.Equal(t, "payment fingerprint", order.SignalPaymentFingerprint.Words())
}
