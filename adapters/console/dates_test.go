package console_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// TestDateFieldsAgreeWithTheirHints: every day a form asks for is a date
// picker, and no hint beside one prescribes a format: the picker shows
// the browser's own (mm/dd/yyyy, dd.mm.yyyy, ...), so a hint saying
// YYYY-MM-DD would contradict what the person sees.
func TestDateFieldsAgreeWithTheirHints(t *testing.T) {
	t.Parallel()
	b := setupFinance(t, utcToday().Add(9*time.Hour))
	sellerID := b.name("sel_dates")
	b.closed(t, "sel_dates", 1000, "EUR")
	format := regexp.MustCompile(`(?i)yyyy|mm/dd|dd/mm|\d{4}-\d{2}-\d{2}`)
	dayFields := map[string]bool{"from": true, "to": true, "as_of": true}
	for _, p := range []struct{ role, sub, path string }{
		{"finance", "fin", "/console/finance/chargebacks"},
		{"finance", "fin", "/console/finance/sellers/" + sellerID + "/statement"},
		{"finance", "fin", "/console/finance/reconciliations"},
		{"finance", "fin", "/console/finance/trial-balance"},
		{"seller", sellerID, "/console/seller/statement"},
	} {
		r := b.do(t, http.MethodGet, p.path, b.signIn(t, p.role, p.sub).cookie, nil)
		require.Equal(t, http.StatusOK, r.Code, p.path)
		doc, err := html.Parse(strings.NewReader(r.Body))
		require.NoError(t, err)
		byID := map[string]*html.Node{}
		var inputs []*html.Node
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				if id := attrOf(n, "id"); id != "" {
					byID[id] = n
				}
				if n.Data == "input" {
					inputs = append(inputs, n)
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
		dates := 0
		for _, in := range inputs {
			name, typ := attrOf(in, "name"), attrOf(in, "type")
			if dayFields[name] {
				require.Equal(t, "date", typ, "%s: the %s field is a date picker", p.path, name)
			}
			if typ != "date" {
				continue
			}
			dates++
			require.Regexp(t, `^(\d{4}-\d{2}-\d{2})?$`, attrOf(in, "value"), "%s: a picker takes YYYY-MM-DD", p.path)
			for _, id := range strings.Fields(attrOf(in, "aria-describedby")) {
				hint := textOf(byID[id])
				require.NotRegexp(t, format, hint, "%s: the hint of %s names a format the picker does not show", p.path, name)
			}
		}
		require.NotZero(t, dates, "%s has no date field", p.path)
	}
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	if n == nil {
		return ""
	}
	if n.Type == html.TextNode {
		return n.Data
	}
	var sb strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		sb.WriteString(textOf(c))
	}
	return sb.String()
}
