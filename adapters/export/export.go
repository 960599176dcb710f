// Package export streams the engine's downloads, CSV or JSON, for both
// front doors: the API's exports and the console's CSV downloads are
// written by the same code, so they escape, format and fail alike.
//
// Rows are written as the database yields them, so a year of data never
// sits in memory. Until the first HoldBack bytes the response is held
// back, so an error found early (a bad seller, the database away) still
// gets a proper error response or page; after that an error aborts the
// connection, and the client sees a broken transfer rather than a short
// file that looks complete.
//
//	s := export.NewCSV(w, "chargebacks-2026-11-01_2026-11-30.csv", export.ChargebackHeader, logAbort)
//	totals, err := fin.Chargebacks(ctx, f, func(cb financeflow.Chargeback) error {
//		return s.ChargebackRow(nil, cb)
//	})
//	if err != nil {
//		return s.Fail(err) // returned before anything was sent; the connection is cut after
//	}
//	return s.Close(nil)
package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"time"
)

// HoldBack is how much of an export is held before the response is
// committed: an error found before then is still answered properly. Past
// it, the export is sent in pieces of about this size.
const HoldBack = 64 << 10

// WriteTimeout bounds each write of an export to the client: a client
// that stops reading must not hold the export's database snapshot (and
// its connection) for long.
const WriteTimeout = 30 * time.Second

// Content types of the two formats.
const (
	ContentTypeCSV  = "text/csv; charset=utf-8; header=present"
	ContentTypeJSON = "application/json; charset=UTF-8"
)

// AbortFunc is told why an export already under way was cut short, and
// after how many rows, so the front door can log it in its own words.
type AbortFunc func(err error, rows int)

// Stream writes one export to a response, as CSV or as a JSON object
// whose array of rows is written as they come.
type Stream struct {
	w         http.ResponseWriter
	aborted   AbortFunc
	buf       bytes.Buffer
	cw        *csv.Writer // nil for JSON
	filename  string
	committed bool
	rows      int
	wrote     bool     // JSON: a row was written, so the next takes a comma
	record    []string // CSV: the record the layouts fill, row after row
}

// NewCSV starts a CSV download (RFC 4180: fields quoted where needed, CRLF
// line ends) named filename, whose first record is header. The name is
// kept to letters, digits and - _ . (see Filename).
func NewCSV(w http.ResponseWriter, filename string, header []string, aborted AbortFunc) *Stream {
	s := &Stream{w: w, aborted: aborted, filename: Filename(filename)}
	s.cw = csv.NewWriter(&s.buf)
	s.cw.UseCRLF = true
	_ = s.cw.Write(header) // into a buffer: errors only surface at Flush
	return s
}

// NewJSON starts a JSON export: an object whose leading fields are head's
// (a struct or map that encodes as an object; nil for none), then an
// array named list that Row fills, then the fields Close is given.
func NewJSON(w http.ResponseWriter, head any, list string, aborted AbortFunc) (*Stream, error) {
	s := &Stream{w: w, aborted: aborted}
	s.buf.WriteByte('{')
	if head != nil {
		b, err := json.Marshal(head)
		if err != nil {
			return nil, err
		}
		if b = bytes.TrimSuffix(bytes.TrimPrefix(b, []byte("{")), []byte("}")); len(b) > 0 {
			s.buf.Write(b)
			s.buf.WriteByte(',')
		}
	}
	name, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	s.buf.Write(name)
	s.buf.WriteString(":[")
	return s, nil
}

// Row writes one row: v as the JSON array's next element, or record as
// CSV.
func (s *Stream) Row(v any, record []string) error {
	s.rows++
	if s.cw != nil {
		if err := s.cw.Write(record); err != nil {
			return err
		}
		return s.flush(false)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if s.wrote {
		s.buf.WriteByte(',')
	}
	s.wrote = true
	s.buf.Write(b)
	return s.flush(false)
}

// CSVOnly writes CSV records that have no JSON row (an opening balance,
// totals: JSON carries them in the object's own fields). A JSON export
// ignores them.
func (s *Stream) CSVOnly(records ...[]string) error {
	if s.cw == nil {
		return nil
	}
	for _, r := range records {
		if err := s.cw.Write(r); err != nil {
			return err
		}
	}
	return s.flush(false)
}

// Close ends the export and sends what is held: for JSON, tail's fields
// (a struct or map that encodes as an object; nil for none) follow the
// array.
func (s *Stream) Close(tail any) error {
	if s.cw == nil {
		s.buf.WriteByte(']')
		if tail != nil {
			b, err := json.Marshal(tail)
			if err != nil {
				return err
			}
			if b = bytes.TrimSuffix(bytes.TrimPrefix(b, []byte("{")), []byte("}")); len(b) > 0 {
				s.buf.WriteByte(',')
				s.buf.Write(b)
			}
		}
		s.buf.WriteByte('}')
	}
	return s.flush(true)
}

// Committed reports whether the response has begun: from then on an error
// can only cut the connection.
func (s *Stream) Committed() bool { return s.committed }

// Fail handles an error met while streaming. Before anything was sent it
// returns err, for the front door to answer as it answers any error.
// After, it tells the AbortFunc and aborts the connection by panicking
// with http.ErrAbortHandler, which net/http (and echo's recovery) treat as
// "cut the connection, log nothing more": the client sees a failed
// transfer, never a complete-looking short file.
func (s *Stream) Fail(err error) error {
	if !s.committed {
		return err
	}
	if s.aborted != nil {
		s.aborted(err, s.rows)
	}
	panic(http.ErrAbortHandler) // wrapped, it would end the response cleanly
}

// flush sends what is held once it reaches HoldBack, or all of it when
// final, committing the response on the first send.
func (s *Stream) flush(final bool) error {
	if s.cw != nil {
		s.cw.Flush()
		if err := s.cw.Error(); err != nil {
			return err
		}
	}
	if !final && s.buf.Len() < HoldBack {
		return nil
	}
	rc := http.NewResponseController(s.w)
	// Not every ResponseWriter has deadlines (a test's may not); where it
	// has, a client that stops reading fails the write.
	_ = rc.SetWriteDeadline(time.Now().Add(WriteTimeout))
	if !s.committed {
		h := s.w.Header()
		if s.cw != nil {
			h.Set("Content-Type", ContentTypeCSV)
			h.Set("Content-Disposition", `attachment; filename="`+s.filename+`"`)
		} else {
			h.Set("Content-Type", ContentTypeJSON)
		}
		s.w.WriteHeader(http.StatusOK)
		s.committed = true
	}
	if _, err := s.w.Write(s.buf.Bytes()); err != nil {
		return err
	}
	s.buf.Reset()
	// A flush that fails means the client is gone; the next write says so.
	_ = rc.Flush()
	return nil
}
