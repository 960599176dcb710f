package validation

import (
	"strings"
	"unicode"
)

// MaxSignalLength is the longest identity signal taken, in characters:
// room for a SHA-512 in hex, and far more than any hash in base64.
const MaxSignalLength = 128

// CheckSignal refuses a signal that is not an opaque hash: 1 to
// MaxSignalLength characters of printable ASCII without spaces, and
// nothing that looks like the personal data it stands for. The platform sends identity signals
// (a shopper's device, a seller's payment account) already hashed; this
// is what keeps the raw data out.
func CheckSignal(field, v string) *Error {
	if what := rawPersonalData(v); what != "" {
		return Newf(field, "raw_personal_data",
			"looks like %s; send the platform's hash of it, never the data itself", what)
	}
	switch {
	case v == "":
		return New(field, "too_short", "must be at least 1 character; leave the signal out when there is none")
	case len(v) > MaxSignalLength:
		return Newf(field, "too_long", "must be at most %d characters", MaxSignalLength)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return New(field, "invalid_signal", "must be printable ASCII without spaces, such as a hash in hex or base64")
		}
	}
	return nil
}

// rawPersonalData says what v looks like when it looks like personal data
// rather than a hash of it, else "". The checks are built so that hashes
// in hex or base64 pass: a run of digits counts only where it stands
// apart from letters, as a number written in text does.
func rawPersonalData(v string) string {
	switch {
	case emailLike(v):
		return "an e-mail address"
	case cardLike(v):
		return "a card number"
	case phoneLike(v):
		return "a phone number"
	case strings.IndexFunc(v, unicode.IsSpace) >= 0:
		return "a postal address or other text with spaces"
	}
	return ""
}

// emailLike: an @ with a dot somewhere after it.
func emailLike(v string) bool {
	at := strings.IndexByte(v, '@')
	return at >= 0 && strings.IndexByte(v[at+1:], '.') >= 0
}

// cardLike: 13 to 19 digits, with spaces or dashes between them,
// that make up the whole value, or that stand apart from letters and
// digits and pass the Luhn check (as every card number does).
func cardLike(v string) bool {
	for i := 0; i < len(v); {
		digits, end := digitRun(v, i, " -")
		if len(digits) == 0 {
			i++
			continue
		}
		if n := len(digits); n >= 13 && n <= 19 {
			whole := i == 0 && end == len(v)
			if whole || (apart(v, i, end) && luhn(digits)) {
				return true
			}
		}
		i = end
	}
	return false
}

// phoneLike: a + followed by at least 8 digits, with the separators phone
// numbers are written with, standing apart from letters and digits.
func phoneLike(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] != '+' {
			continue
		}
		start := i + 1
		for start < len(v) && strings.IndexByte(" -(.", v[start]) >= 0 {
			start++
		}
		digits, end := digitRun(v, start, " -().")
		if len(digits) >= 8 && apart(v, i, end) {
			return true
		}
	}
	return false
}

// digitRun reads the digits from v[i], letting up to two separators (bytes
// of seps, as in "4111-1111" or "(151) 123") stand between two of them; it
// returns the digits and the index just after the last one.
func digitRun(v string, i int, seps string) ([]byte, int) {
	var digits []byte
	end, gap := i, 0
	for j := i; j < len(v); j++ {
		c := v[j]
		switch {
		case isDigit(c):
			digits, end, gap = append(digits, c), j+1, 0
		case len(digits) > 0 && gap < 2 && strings.IndexByte(seps, c) >= 0:
			gap++
		default:
			return digits, end
		}
	}
	return digits, end
}

// apart reports whether v[start:end] has no letter or digit on either side.
func apart(v string, start, end int) bool {
	return (start == 0 || !isAlnum(v[start-1])) && (end == len(v) || !isAlnum(v[end]))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// luhn reports whether digits pass the Luhn check.
func luhn(digits []byte) bool {
	sum := 0
	for i := range digits {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
