package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/validation"
)

// decodeJSON reads the body strictly into dst: one JSON value, no unknown
// fields (names match exactly, as the published schema reads them), no key
// twice in an object, only valid UTF-8, no trailing data. Errors become
// 400s that name the field.
func decodeJSON(c echo.Context, dst any) error {
	req := c.Request()
	types := req.Header.Values(echo.HeaderContentType)
	if err := checkContentType(types); err != nil {
		return err
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return err // *http.MaxBytesError when over the limit
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return newError(http.StatusBadRequest, "empty_body", "the request needs a JSON body", "")
	}
	if len(types) == 0 {
		return newError(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"the body has no Content-Type: send it as application/json", "Content-Type")
	}
	if err := checkJSON(body, reflect.TypeOf(dst)); err != nil {
		return err
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

// checkContentType refuses a body sent as anything but JSON: the media
// type is compared without regard to case (APPLICATION/JSON is JSON), a
// charset other than UTF-8 is refused (JSON is UTF-8), other parameters are
// ignored. No Content-Type at all passes here: decodeJSON refuses it once
// it knows a body was sent.
func checkContentType(values []string) error {
	switch len(values) {
	case 0:
		return nil
	case 1:
	default:
		return newError(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"send one Content-Type header: application/json", "Content-Type")
	}
	mt, params, err := mime.ParseMediaType(values[0])
	if err != nil || mt != echo.MIMEApplicationJSON {
		return newError(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json", "Content-Type")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return newError(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"send the body as UTF-8: application/json with charset=utf-8 or no charset", "Content-Type")
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

// pathFrame is one level of a path into a JSON body: an object's key or
// an array's index.
type pathFrame struct {
	array bool
	key   string
	index int
}

// jsonPath renders frames in the API's form: "items[2].quantity".
func jsonPath(frames []pathFrame) string {
	var b strings.Builder
	for _, f := range frames {
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

// pathAt returns the path, in the API's form ("items[2].quantity"), of the
// value that ends at byte offset in body. encoding/json reports a wrong
// type with its byte offset and a path without array indexes; walking the
// tokens up to that offset restores the indexes.
func pathAt(body []byte, offset int64) string {
	var stack []pathFrame
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	expectKey := false
	path := func() string { return jsonPath(stack) }
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
				stack = append(stack, pathFrame{})
				expectKey = true
			case '[':
				stack = append(stack, pathFrame{array: true})
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

// checkJSON walks body's tokens before it is decoded into a *T (t) and
// refuses what encoding/json would quietly take but a reader of the
// published schema would read otherwise: a field name that matches one of
// T's only when case is ignored (encoding/json takes "ORDER_ID" for
// order_id), a key given twice in one object (encoding/json keeps the
// last), and text that is not valid UTF-8 or holds a lone UTF-16
// surrogate escape (encoding/json turns both into U+FFFD). Errors are 400s
// naming the field by its path. A body that is not JSON at all is left to
// the decoder, which says where it breaks.
// maxJSONDepth is how deeply a request body may nest objects and arrays:
// the API's deepest request is three levels, so a body past this is not
// one of them, and refusing it early keeps a crafted one cheap.
const maxJSONDepth = 32

func checkJSON(body []byte, t reflect.Type) error {
	type frame struct {
		pathFrame
		seen   map[string]bool
		fields map[string]reflect.Type // a struct's JSON names; nil: any name
		elem   reflect.Type            // an array's or map's element type
	}
	var stack []frame
	// path is the path of the value being read; key, when not nil, the
	// path of that key in the object being read (an empty one: the object).
	path := func(key *string) string {
		fs := make([]pathFrame, 0, len(stack))
		for _, f := range stack {
			fs = append(fs, f.pathFrame)
		}
		if key != nil {
			fs = fs[:len(fs)-1]
			if *key != "" {
				fs = append(fs, pathFrame{key: *key})
			}
		}
		return jsonPath(fs)
	}
	// next is the type of the value about to be read.
	next := func() reflect.Type {
		n := len(stack)
		switch {
		case n == 0:
			return t
		case stack[n-1].array, stack[n-1].fields == nil:
			return stack[n-1].elem
		}
		return stack[n-1].fields[stack[n-1].key]
	}
	expectKey := false
	value := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				expectKey = true
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or not JSON: the decoder reports it
		}
		raw := bytes.TrimLeft(body[start:dec.InputOffset()], " \t\r\n,:")
		switch tk := tok.(type) {
		case json.Delim:
			if (tk == '{' || tk == '[') && len(stack) >= maxJSONDepth {
				return newError(http.StatusBadRequest, "too_deep", fmt.Sprintf("the body nests more than %d levels; no request of this API needs more", maxJSONDepth), path(nil))
			}
			switch tk {
			case '{':
				fields, elem := jsonShape(next())
				stack = append(stack, frame{seen: map[string]bool{}, fields: fields, elem: elem})
				expectKey = true
			case '[':
				_, elem := jsonShape(next())
				stack = append(stack, frame{pathFrame: pathFrame{array: true}, elem: elem})
				expectKey = false
			case '}', ']':
				stack = stack[:len(stack)-1]
				value()
			}
		case string:
			top := len(stack) - 1
			if expectKey && top >= 0 && !stack[top].array {
				if !validJSONText(raw) {
					return newError(http.StatusBadRequest, "invalid_utf8",
						"holds a field name that is not valid UTF-8 (or a \\u escape of a lone surrogate)", path(new(string)))
				}
				f := &stack[top]
				if f.seen[tk] {
					return newError(http.StatusBadRequest, "duplicate_field",
						"is given more than once; give each field once", path(&tk))
				}
				f.seen[tk] = true
				if f.fields != nil {
					if _, ok := f.fields[tk]; !ok {
						msg := "this field is not part of the request"
						for name := range f.fields {
							if strings.EqualFold(name, tk) {
								msg = fmt.Sprintf("this field is not part of the request; field names are case-sensitive: did you mean %q?", name)
							}
						}
						return newError(http.StatusBadRequest, "unknown_field", msg, path(&tk))
					}
				}
				f.key, expectKey = tk, false
				continue
			}
			if !validJSONText(raw) {
				return newError(http.StatusBadRequest, "invalid_utf8",
					"must be valid UTF-8 text (without \\u escapes of lone surrogates)", path(nil))
			}
			value()
		default:
			value()
		}
	}
}

// jsonShape returns what a JSON object or array decoded into t may hold:
// for a struct, its fields by their exact JSON names; for a map, slice or
// array, its element type. Nil fields mean any name is taken (a map, an
// interface, a type that decodes itself, or a type not known).
func jsonShape(t reflect.Type) (fields map[string]reflect.Type, elem reflect.Type) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return nil, nil
	}
	switch t.Kind() {
	case reflect.Struct:
		fields = map[string]reflect.Type{}
		addJSONFields(t, fields)
		return fields, nil
	case reflect.Map, reflect.Slice, reflect.Array:
		return nil, t.Elem()
	}
	return nil, nil
}

// addJSONFields adds t's fields under the names encoding/json gives them,
// embedded structs' fields included.
func addJSONFields(t reflect.Type, into map[string]reflect.Type) {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if sf.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addJSONFields(ft, into)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		into[name] = sf.Type
	}
}

// validJSONText reports whether raw, a JSON string token as sent, is
// valid UTF-8 and its \u escapes name no lone UTF-16 surrogate.
func validJSONText(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	hex4 := func(at int) rune {
		if at+4 > len(raw) {
			return -1
		}
		n, err := strconv.ParseUint(string(raw[at:at+4]), 16, 32)
		if err != nil {
			return -1
		}
		return rune(n)
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r := hex4(i + 1)
		i += 4
		switch {
		case r >= 0xDC00 && r < 0xE000:
			return false // a low surrogate with no high one before it
		case r >= 0xD800 && r < 0xDC00:
			if i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if lo := hex4(i + 3); lo >= 0xDC00 && lo < 0xE000 {
					i += 6
					continue
				}
			}
			return false // a high surrogate with no low one after it
		}
	}
	return true
}

// parseTime reads an optional RFC 3339 timestamp from a request field,
// within the span the engine takes (validation.CheckTime).
func parseTime(field string, s *string) (*time.Time, error) {
	if s == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return nil, newError(http.StatusUnprocessableEntity, "invalid_timestamp", "must be an RFC 3339 timestamp such as 2026-11-27T10:00:00Z", field)
	}
	t = t.UTC()
	if err := validation.CheckTime(field, t); err != nil {
		return nil, err
	}
	return &t, nil
}

// dateLayout is a calendar date in query parameters and bodies.
const dateLayout = "2006-01-02"

// parseBound reads a period bound: an RFC 3339 instant, or a date, which
// stands for the start of that UTC day (from) or its end (to: the whole
// day is included). Either must lie within the span the engine takes
// (validation.CheckTime, validation.CheckDate).
func parseBound(field, s string, end bool) (time.Time, error) {
	if t, err := time.Parse(dateLayout, s); err == nil {
		if err := validation.CheckDate(field, t, end); err != nil {
			return time.Time{}, err
		}
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
	t = t.UTC()
	if err := validation.CheckTime(field, t); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

// periodOf reads a period from two strings, either of which may be
// required. An empty string is a bound not given, and only that: a bound
// given is never mistaken for a missing one, whatever its value. A missing
// optional bound is returned as the zero time, which no bound given can be
// (parseBound keeps them within the span the engine takes).
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
	if fromS != "" && toS != "" && !to.After(from) {
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
