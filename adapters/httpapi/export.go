package httpapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
)

// Exports stream: rows are written as the database yields them, so a
// year of data never sits in memory. Until the first flushLimit bytes the
// response is held back, so an error found early (a bad seller, the
// database away) still gets a proper error response; after that an error
// aborts the connection, and the client sees a broken transfer rather than
// a short file that looks complete.
const flushLimit = 64 << 10

// csvFormat reports whether the caller asked for CSV: ?format=csv or an
// Accept header naming text/csv. Errors: 422 for another format.
func csvFormat(c echo.Context) (bool, error) {
	switch f := c.QueryParam("format"); f {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
		return acceptsCSV(c.Request().Header.Values(echo.HeaderAccept)), nil
	default:
		return false, newError(http.StatusUnprocessableEntity, "invalid_format", "must be json or csv", "format")
	}
}

// acceptsCSV reports whether Accept headers name text/csv, in any case
// (media types are case-insensitive), with a weight above zero (q=0 means
// "not this").
func acceptsCSV(accept []string) bool {
	for _, h := range accept {
		for _, r := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(r))
			if err != nil || mt != "text/csv" {
				continue
			}
			if q, ok := params["q"]; ok {
				if w, err := strconv.ParseFloat(q, 64); err != nil || w <= 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

// exportQuery reads what a period's export is asked with: the format
// and the period, both required. Errors: 400 naming the parameter.
func exportQuery(c echo.Context) (bool, finance.Period, error) {
	asCSV, err := csvFormat(c)
	if err != nil {
		return false, finance.Period{}, queryError(err)
	}
	from, to, err := periodOf(c.QueryParam("from"), c.QueryParam("to"), true)
	if err != nil {
		return false, finance.Period{}, queryError(err)
	}
	p, err := finance.NewPeriod(from, to)
	if err != nil {
		return false, finance.Period{}, queryError(err)
	}
	return asCSV, p, nil
}

// streamCSV sends a CSV download whose records each produces, one call of
// write per record.
func (a *api) streamCSV(c echo.Context, filename string, header []string, each func(write func([]string) error) error) error {
	s, err := a.newStream(c, true, filename, header, nil, "")
	if err != nil {
		return err
	}
	if err := each(func(r []string) error { return s.row(nil, r) }); err != nil {
		return s.fail(queryError(err))
	}
	if err := s.close(nil); err != nil {
		return s.fail(err)
	}
	return nil
}

// exportWriteTimeout bounds each write of an export to the client: a
// client that stops reading must not hold the export's database snapshot
// (and its connection) for long.
const exportWriteTimeout = 30 * time.Second

// exportLimit lets at most MaxExports exports run at once (each holds a
// database connection while it streams); the next is told to come back.
func (a *api) exportLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		select {
		case a.exportSlots <- struct{}{}:
			defer func() { <-a.exportSlots }()
			return next(c)
		default:
			c.Response().Header().Set("Retry-After", "5")
			return newError(http.StatusTooManyRequests, "too_many_exports",
				fmt.Sprintf("%d exports are running, the most at once; retry shortly", cap(a.exportSlots)), "")
		}
	}
}

// stream writes one export, as JSON or CSV.
type stream struct {
	c         echo.Context
	log       *slog.Logger
	csv       bool
	buf       bytes.Buffer
	cw        *csv.Writer
	committed bool
	rows      int
	// JSON: the array's name, and whether a row was written.
	list  string
	wrote bool
}

// newStream starts an export. filename names the CSV download; header is
// the CSV's header record; head is the JSON object's leading fields, up
// to the array named list.
func (a *api) newStream(c echo.Context, asCSV bool, filename string, header []string, head any, list string) (*stream, error) {
	s := &stream{c: c, log: a.Logger, csv: asCSV, list: list}
	if asCSV {
		s.cw = csv.NewWriter(&s.buf)
		s.cw.UseCRLF = true // RFC 4180
		if err := s.cw.Write(header); err != nil {
			return nil, err
		}
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8; header=present")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
		return s, nil
	}
	b, err := json.Marshal(head)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSuffix(b, []byte("}"))
	if len(b) > 1 {
		b = append(b, ',')
	}
	s.buf.Write(b)
	s.buf.WriteString(strconv.Quote(list) + ":[")
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSONCharsetUTF8)
	return s, nil
}

// row writes one row: v as JSON, or record as CSV.
func (s *stream) row(v any, record []string) error {
	s.rows++
	if s.csv {
		if err := s.cw.Write(record); err != nil {
			return err
		}
	} else {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if s.wrote {
			s.buf.WriteByte(',')
		}
		s.wrote = true
		s.buf.Write(b)
	}
	return s.flush(false)
}

// csvOnly writes a CSV record that has no JSON row (a totals line).
func (s *stream) csvOnly(record []string) error {
	if !s.csv {
		return nil
	}
	if err := s.cw.Write(record); err != nil {
		return err
	}
	return s.flush(false)
}

// flush sends what is held once it passes flushLimit, or all of it when
// final.
func (s *stream) flush(final bool) error {
	if s.csv {
		s.cw.Flush()
		if err := s.cw.Error(); err != nil {
			return err
		}
	}
	if !final && s.buf.Len() < flushLimit {
		return nil
	}
	w := s.c.Response()
	// Not every ResponseWriter has deadlines (a test's may not); where it
	// has, a client that stops reading fails the write.
	_ = http.NewResponseController(w.Writer).SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	if !s.committed {
		w.WriteHeader(http.StatusOK)
		s.committed = true
	}
	if _, err := w.Write(s.buf.Bytes()); err != nil {
		return err
	}
	s.buf.Reset()
	w.Flush()
	return nil
}

// close ends the export: tail's fields follow the JSON array.
func (s *stream) close(tail any) error {
	if !s.csv {
		b, err := json.Marshal(tail)
		if err != nil {
			return err
		}
		s.buf.WriteByte(']')
		b = bytes.TrimPrefix(b, []byte("{"))
		if len(b) > 1 {
			s.buf.WriteByte(',')
		}
		s.buf.Write(b)
	}
	return s.flush(true)
}

// fail handles an error met while streaming: before anything was sent it
// is returned for the error handler; after, the connection is aborted.
func (s *stream) fail(err error) error {
	if !s.committed {
		s.c.Response().Header().Del(echo.HeaderContentDisposition)
		s.c.Response().Header().Del(echo.HeaderContentType)
		return err
	}
	s.log.ErrorContext(s.c.Request().Context(), "export aborted", "route", s.c.Path(), "rows", s.rows, "err", err,
		"request_id", s.c.Response().Header().Get(echo.HeaderXRequestID))
	panic(http.ErrAbortHandler)
}

// cell makes text from outside (people's notes, ids the platform or a
// provider chose) safe to open in a spreadsheet: text that starts with a
// character a spreadsheet reads as a formula (= + - @, tab, carriage
// return) gets a leading apostrophe, which the spreadsheet shows as text
// (OWASP's advice on CSV injection). Numbers and times the engine formats
// itself are written as they are.
func cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// decimal renders minor units in the currency's major unit, exactly:
// 1999 EUR is "19.99", -5 JPY is "-5".
func decimal(m money.Money) string {
	exp := m.Currency().Exponent()
	a := m.Amount()
	neg := a < 0
	var digits string
	if neg {
		digits = strconv.FormatUint(uint64(-(a+1))+1, 10) // -MinInt64 overflows int64
	} else {
		digits = strconv.FormatInt(a, 10)
	}
	if exp > 0 {
		for len(digits) <= exp {
			digits = "0" + digits
		}
		digits = digits[:len(digits)-exp] + "." + digits[len(digits)-exp:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
