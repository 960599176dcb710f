package validation

import (
	"strings"
	"unicode/utf8"
)

// CheckID validates an identifier that the platform chooses (order, seller,
// shopper, SKU): 1 to 64 characters of letters, digits and "-_.:".
func CheckID(field, id string) *Error {
	if id == "" {
		return New(field, "required", "is required")
	}
	if len(id) > 64 {
		return New(field, "invalid_id", "must be at most 64 characters")
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '-' || r == '_' || r == '.' || r == ':'
		if !ok {
			return New(field, "invalid_id", "may hold only letters, digits and - _ . :")
		}
	}
	return nil
}

// CheckText validates free text: required (and not blank) when min > 0,
// at most max bytes.
func CheckText(field, s string, min, max int) *Error {
	if len(s) < min || (min > 0 && strings.TrimSpace(s) == "") {
		if min == 1 || strings.TrimSpace(s) == "" {
			return New(field, "required", "is required")
		}
		return Newf(field, "too_short", "must be at least %d characters", min)
	}
	if len(s) > max {
		return Newf(field, "too_long", "must be at most %d characters", max)
	}
	if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
		return New(field, "invalid_text", "must be valid UTF-8 text without NUL characters")
	}
	return nil
}
