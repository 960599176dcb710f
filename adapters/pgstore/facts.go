package pgstore

import (
	"encoding/json"
	"math"
	"time"
)

// decodeFacts reads a claim's stored facts (decision_facts as text). A
// backtest reads one for every claim it replays, and encoding/json took
// most of a replay's time in the engine (6.6 of 8 µs a claim), so the
// facts as the engine writes them, and PostgreSQL renders them, are read
// by hand: an object of the known keys, each once, with plain ASCII
// strings, integers, booleans, times and a null delivery date. Anything
// else (escapes, other spellings of a key, floats, nulls elsewhere) is
// left to encoding/json, whose result the hand-read one always equals
// (FuzzDecodeFacts holds it to that).
func decodeFacts(data []byte, fj *factsJSON) error {
	var fast factsJSON
	if (&factsReader{data: data}).read(&fast) {
		*fj = fast
		return nil
	}
	return json.Unmarshal(data, fj)
}

// factsReader reads one facts object; every method reports false for
// input it does not handle, and leaves the rest to encoding/json.
type factsReader struct {
	data []byte
	i    int
	seen uint32 // a bit per key
}

func (r *factsReader) read(fj *factsJSON) bool {
	if !r.byte('{') {
		return false
	}
	if r.peek() == '}' {
		r.i++
		return r.end()
	}
	for {
		key, ok := r.str()
		if !ok || !r.byte(':') {
			return false
		}
		if !r.value(key, fj) {
			return false
		}
		r.space()
		if r.i >= len(r.data) {
			return false
		}
		switch r.data[r.i] {
		case ',':
			r.i++
			r.space()
		case '}':
			r.i++
			return r.end()
		default:
			return false
		}
	}
}

// value reads key's value into its field.
func (r *factsReader) value(key []byte, fj *factsJSON) bool {
	var bit uint32
	var ok bool
	switch string(key) { // no allocation: the compiler compares in place
	case "claim_reason":
		bit = 1 << 0
		fj.ClaimReason, ok = r.text()
	case "amount":
		bit = 1 << 1
		fj.Amount, ok = r.int64()
	case "currency":
		bit = 1 << 2
		fj.Currency, ok = r.text()
	case "order_amount":
		bit = 1 << 3
		fj.OrderAmount, ok = r.int64()
	case "paid_at":
		bit = 1 << 4
		ok = r.time(&fj.PaidAt)
	case "delivered_at":
		bit = 1 << 5
		r.space()
		if r.literal("null") {
			fj.DeliveredAt, ok = nil, true
			break
		}
		t := new(time.Time)
		if ok = r.time(t); ok {
			fj.DeliveredAt = t
		}
	case "items_already_claimed":
		bit = 1 << 6
		fj.ItemsAlreadyClaimed, ok = r.bool()
	case "seller_risk_score":
		bit = 1 << 7
		fj.SellerRiskScore, ok = r.int()
	case "seller_verified":
		bit = 1 << 8
		fj.SellerVerified, ok = r.bool()
	case "seller_counterfeit_claims_90d":
		bit = 1 << 9
		fj.SellerCounterfeitClaims90d, ok = r.int()
	case "shopper_first_order_at":
		bit = 1 << 10
		ok = r.time(&fj.ShopperFirstOrderAt)
	case "shopper_claims_90d":
		bit = 1 << 11
		fj.ShopperClaims90d, ok = r.int()
	case "shopper_refunded_90d":
		bit = 1 << 12
		fj.ShopperRefunded90d, ok = r.int64()
	case "seller_standing":
		bit = 1 << 13
		fj.SellerStanding, ok = r.text()
	case "seller_standing_score":
		bit = 1 << 14
		fj.SellerStandingScore, ok = r.int()
	case "linked_shoppers":
		bit = 1 << 15
		fj.LinkedShoppers, ok = r.int()
	case "linked_claims_90d":
		bit = 1 << 16
		fj.LinkedClaims90d, ok = r.int()
	case "linked_refunded_90d":
		bit = 1 << 17
		fj.LinkedRefunded90d, ok = r.int64()
	case "linked_signals":
		bit = 1 << 18
		fj.LinkedSignals, ok = r.texts()
	default:
		return false
	}
	if !ok || r.seen&bit != 0 {
		return false
	}
	r.seen |= bit
	return true
}

func (r *factsReader) space() {
	for r.i < len(r.data) {
		switch r.data[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *factsReader) peek() byte {
	r.space()
	if r.i < len(r.data) {
		return r.data[r.i]
	}
	return 0
}

// byte reads c after any space.
func (r *factsReader) byte(c byte) bool {
	if r.peek() != c {
		return false
	}
	r.i++
	return true
}

// end reports whether only space is left.
func (r *factsReader) end() bool {
	r.space()
	return r.i == len(r.data)
}

// str reads a string of printable ASCII without escapes, and returns its
// contents without the quotes.
func (r *factsReader) str() ([]byte, bool) {
	if !r.byte('"') {
		return nil, false
	}
	start := r.i
	for r.i < len(r.data) {
		c := r.data[r.i]
		switch {
		case c == '"':
			r.i++
			return r.data[start : r.i-1], true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, false
		}
		r.i++
	}
	return nil, false
}

func (r *factsReader) text() (string, bool) {
	s, ok := r.str()
	return string(s), ok
}

// texts reads an array of strings.
func (r *factsReader) texts() ([]string, bool) {
	if !r.byte('[') {
		return nil, false
	}
	out := []string{} // encoding/json makes [] an empty slice, not nil
	if r.peek() == ']' {
		r.i++
		return out, true
	}
	for {
		s, ok := r.text()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			return out, true
		default:
			return nil, false
		}
	}
}

func (r *factsReader) literal(word string) bool {
	if len(r.data)-r.i < len(word) || string(r.data[r.i:r.i+len(word)]) != word {
		return false
	}
	r.i += len(word)
	return true
}

func (r *factsReader) bool() (bool, bool) {
	r.space()
	switch {
	case r.literal("true"):
		return true, true
	case r.literal("false"):
		return false, true
	}
	return false, false
}

// int64 reads an integer as JSON writes one: an optional minus, then 0 or
// digits not starting with 0; a fraction or an exponent is refused.
func (r *factsReader) int64() (int64, bool) {
	r.space()
	start := r.i
	if r.i < len(r.data) && r.data[r.i] == '-' {
		r.i++
	}
	digits := r.i
	for r.i < len(r.data) && r.data[r.i] >= '0' && r.data[r.i] <= '9' {
		r.i++
	}
	switch {
	case r.i == digits, r.data[digits] == '0' && r.i-digits > 1:
		return 0, false
	case r.i < len(r.data) && (r.data[r.i] == '.' || r.data[r.i] == 'e' || r.data[r.i] == 'E'):
		return 0, false
	}
	// In the range of int64, as encoding/json requires; without
	// strconv, whose argument would be a new string for each number.
	var u uint64
	for _, c := range r.data[digits:r.i] {
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if r.data[start] == '-' {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

func (r *factsReader) int() (int, bool) {
	n, ok := r.int64()
	if !ok || int64(int(n)) != n {
		return 0, false
	}
	return int(n), true
}

// time reads a string through time.Time's own UnmarshalJSON, as
// encoding/json does.
func (r *factsReader) time(t *time.Time) bool {
	r.space()
	start := r.i
	if _, ok := r.str(); !ok {
		return false
	}
	return t.UnmarshalJSON(r.data[start:r.i]) == nil
}
