package money

import "strings"

// ParseMajor reads an amount written in major units, as people type it
// ("150", "150.5", "150.50" for EUR; "150" for JPY), as minor units of
// cur, with integers only: no float ever holds money. ok is false for
// anything else: a sign, more decimals than the currency has, more than
// fifteen whole digits, or no digits.
//
//	n, ok := money.ParseMajor("12.50", money.MustCurrency("EUR")) // 1250, true
func ParseMajor(s string, cur Currency) (minor int64, ok bool) {
	whole, frac, hasFrac := strings.Cut(strings.TrimSpace(s), ".")
	exp := cur.Exponent()
	if whole == "" || len(whole) > 15 || (hasFrac && (frac == "" || len(frac) > exp)) {
		return 0, false
	}
	var n int64
	for _, r := range whole {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int64(r-'0')
	}
	for i := 0; i < exp; i++ {
		d := int64(0)
		if i < len(frac) {
			r := frac[i]
			if r < '0' || r > '9' {
				return 0, false
			}
			d = int64(r - '0')
		}
		n = n*10 + d
	}
	return n, true
}

// Example is an amount as it is typed in cur's major unit, for hints:
// "150" for JPY, "150.00" for EUR, "150.000" for KWD.
func Example(cur Currency) string {
	if e := cur.Exponent(); e > 0 {
		return "150." + strings.Repeat("0", e)
	}
	return "150"
}
