package policyflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// DiffEntry is one setting that differs between two documents: its path
// (as a policy's validation names fields, "tiers[1].instant_limits.EUR")
// and its JSON value on each side, nil where the side has none.
type DiffEntry struct {
	Path string          `json:"path"`
	From json.RawMessage `json:"from"`
	To   json.RawMessage `json:"to"`
}

// DiffDocuments compares two policy documents setting by setting. The
// version itself is left out: it always differs.
func DiffDocuments(a, b []byte) ([]DiffEntry, error) {
	fa, err := flatten(a)
	if err != nil {
		return nil, err
	}
	fb, err := flatten(b)
	if err != nil {
		return nil, err
	}
	var out []DiffEntry
	for path, va := range fa {
		if path == "version" {
			continue
		}
		if vb, ok := fb[path]; !ok || !bytes.Equal(va, vb) {
			out = append(out, DiffEntry{Path: path, From: va, To: fb[path]})
		}
	}
	for path, vb := range fb {
		if _, ok := fa[path]; !ok && path != "version" {
			out = append(out, DiffEntry{Path: path, To: vb})
		}
	}
	slices.SortFunc(out, func(x, y DiffEntry) int { return comparePaths(x.Path, y.Path) })
	return out, nil
}

// flatten maps every leaf of a JSON document to its compact value.
func flatten(doc []byte) (map[string]json.RawMessage, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("policy document: %w", err)
	}
	out := map[string]json.RawMessage{}
	var walk func(prefix string, v any) error
	walk = func(prefix string, v any) error {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				if err := walk(p, e); err != nil {
					return err
				}
			}
			return nil
		case []any:
			for i, e := range x {
				if err := walk(prefix+"["+strconv.Itoa(i)+"]", e); err != nil {
					return err
				}
			}
			if len(x) == 0 {
				out[prefix] = json.RawMessage("[]")
			}
			return nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		out[prefix] = b
		return nil
	}
	return out, walk("", v)
}

// comparePaths orders paths so tiers[2] comes before tiers[10].
func comparePaths(a, b string) int {
	for a != "" && b != "" {
		ia, ib := digitsAt(a), digitsAt(b)
		if ia > 0 && ib > 0 {
			na, _ := strconv.Atoi(a[:ia])
			nb, _ := strconv.Atoi(b[:ib])
			if na != nb {
				return na - nb
			}
			a, b = a[ia:], b[ib:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitsAt(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
