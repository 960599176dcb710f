package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/validation"
)

// decodeJSON reads the body strictly into dst: one JSON value, no unknown
// fields, no trailing data. It returns the raw body too, for idempotency
// hashing. Errors become 400s that name the field.
func decodeJSON(c echo.Context, dst any) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return newError(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json", "")
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return err // *http.MaxBytesError when over the limit
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return newError(http.StatusBadRequest, "empty_body", "the request needs a JSON body", "")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(body, err)
	}
	if dec.More() {
		return newError(http.StatusBadRequest, "malformed_json", "the body must hold exactly one JSON object", "")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return newError(http.StatusBadRequest, "malformed_json", "the body must hold exactly one JSON object", "")
	}
	return nil
}

func decodeError(body []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ):
		if p := pathAt(body, typ.Offset); p != "" {
			typ.Field = p
		}
		return typ // mapped in toAPIError
	case errors.As(err, &syn):
		return err // mapped in toAPIError
	case errors.Is(err, io.ErrUnexpectedEOF):
		return newError(http.StatusBadRequest, "malformed_json", "the body ends before the JSON does", "")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field, _ := strconv.Unquote(name)
		return newError(http.StatusBadRequest, "unknown_field", "this field is not part of the request", field)
	}
	return newError(http.StatusBadRequest, "malformed_json", "the body is not valid JSON", "")
}

// pathAt returns the path, in the API's form ("items[2].quantity"), of the
// value that ends at byte offset in body. encoding/json reports a wrong
// type with its byte offset and a path without array indexes; walking the
// tokens up to that offset restores the indexes.
func pathAt(body []byte, offset int64) string {
	type frame struct {
		array bool
		key   string
		index int
	}
	var stack []frame
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	expectKey := false
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.array {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		}
		return b.String()
	}
	// value records that one value was read in the current container.
	value := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				expectKey = true
			}
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		end := dec.InputOffset()
		switch t := tok.(type) {
		case json.Delim:
			if (t == '{' || t == '[') && end >= offset {
				return path() // a container where another type belongs
			}
			switch t {
			case '{':
				stack = append(stack, frame{})
				expectKey = true
			case '[':
				stack = append(stack, frame{array: true})
				expectKey = false
			case '}', ']':
				if end >= offset {
					return path()
				}
				stack = stack[:len(stack)-1]
				value()
			}
		default:
			if n := len(stack); expectKey && n > 0 && !stack[n-1].array {
				stack[n-1].key = t.(string)
				expectKey = false
				continue
			}
			if end >= offset {
				return path()
			}
			value()
		}
	}
}

// parseTime reads an optional RFC 3339 timestamp from a request field.
func parseTime(field string, s *string) (*time.Time, error) {
	if s == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return nil, newError(http.StatusUnprocessableEntity, "invalid_timestamp", "must be an RFC 3339 timestamp such as 2026-11-27T10:00:00Z", field)
	}
	t = t.UTC()
	return &t, nil
}

// dateLayout is a calendar date in query parameters and bodies.
const dateLayout = "2006-01-02"

// parseBound reads a period bound: an RFC 3339 instant, or a date, which
// stands for the start of that UTC day (from) or its end (to: the whole
// day is included).
func parseBound(field, s string, end bool) (time.Time, error) {
	if t, err := time.Parse(dateLayout, s); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, newError(http.StatusUnprocessableEntity, "invalid_timestamp",
			"must be a date such as 2026-11-27 or an RFC 3339 timestamp such as 2026-11-27T10:00:00Z", field)
	}
	return t.UTC(), nil
}

// periodOf reads a period from two strings, either of which may be
// required; a missing optional bound is the zero time.
func periodOf(fromS, toS string, required bool) (from, to time.Time, err error) {
	if fromS == "" && required {
		return from, to, newError(http.StatusUnprocessableEntity, "required", "is required: a date such as 2026-11-01 or an RFC 3339 timestamp", "from")
	}
	if toS == "" && required {
		return from, to, newError(http.StatusUnprocessableEntity, "required", "is required: a date such as 2026-11-30 (included) or an RFC 3339 timestamp (excluded)", "to")
	}
	if fromS != "" {
		if from, err = parseBound("from", fromS, false); err != nil {
			return from, to, err
		}
	}
	if toS != "" {
		if to, err = parseBound("to", toS, true); err != nil {
			return from, to, err
		}
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return from, to, newError(http.StatusUnprocessableEntity, "invalid_period", "must be after from", "to")
	}
	return from, to, nil
}

// queryError answers a bad query parameter with 400, as every list route
// does (a bad value in a body is 422).
func queryError(err error) error {
	var ve *validation.Error
	if errors.As(err, &ve) {
		return newError(http.StatusBadRequest, ve.Code, ve.Message, ve.Field)
	}
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity {
		c := *ae
		c.Status = http.StatusBadRequest
		return &c
	}
	return err
}
