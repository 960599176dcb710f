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
