package export_test

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/finance"
)

func TestCell(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		give, want string
	}{
		{give: "", want: ""},
		{give: "=1+1", want: "'=1+1"},
		{give: `=HYPERLINK("http://evil.example","x")`, want: `'=HYPERLINK("http://evil.example","x")`},
		{give: "+31 20 555 0100", want: "'+31 20 555 0100"},
		{give: "-2+3", want: "'-2+3"},
		{give: "@SUM(A1:A9)", want: "'@SUM(A1:A9)"},
		{give: "\t=1", want: "'\t=1"},
		{give: "\r=1", want: "'\r=1"},
		// Ids others chose are text from outside too.
		{give: "=ord_1", want: "'=ord_1"},
		{give: "-re_42", want: "'-re_42"},
		{give: "ord_1", want: "ord_1"},
		{give: "clm_01HZX3", want: "clm_01HZX3"},
		{give: "re-1=2", want: "re-1=2"},
		{give: "Paid by wire", want: "Paid by wire"},
		{give: "'quoted", want: "'quoted"},
	} {
		require.Equal(t, tt.want, export.Cell(tt.give), "%q", tt.give)
	}
}

// TestCSVQuotesAsRFC4180: fields with a comma, a quote or a line break are
// quoted, quotes doubled, records end in CRLF; an escaped cell is quoted
// like any other.
func TestCSVQuotesAsRFC4180(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	s := export.NewCSV(w, "t.csv", []string{"a", "b"}, nil)
	require.NoError(t, s.Row(nil, []string{"x,y", `say "hi"`}))
	require.NoError(t, s.Row(nil, []string{export.Cell("=1,2"), "two\nlines"}))
	require.NoError(t, s.Close(nil))
	require.Equal(t, "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n\"'=1,2\",\"two\r\nlines\"\r\n", w.Body.String(), "line breaks in a field are CRLF too")
	recs, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	require.NoError(t, err)
	require.Equal(t, [][]string{{"a", "b"}, {"x,y", `say "hi"`}, {"'=1,2", "two\nlines"}}, recs)
	require.Equal(t, export.ContentTypeCSV, w.Header().Get("Content-Type"))
	require.Equal(t, `attachment; filename="t.csv"`, w.Header().Get("Content-Disposition"))
}

func TestFilename(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		give, want string
	}{
		{give: "statement-sel_1-2026-11-01_2026-11-30.csv", want: "statement-sel_1-2026-11-01_2026-11-30.csv"},
		{give: `statement-a"b;c/d\e.csv`, want: "statement-a_b_c_d_e.csv"},
		{give: "reconciliation-é.csv", want: "reconciliation-_.csv"},
	} {
		require.Equal(t, tt.want, export.Filename(tt.give))
	}
}

func TestFileDate(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		give finance.Period
		want string
	}{
		{give: finance.Period{From: day, To: day.AddDate(0, 1, 0)}, want: "2026-11-01_2026-11-30"},
		{give: finance.Period{From: day, To: day.AddDate(0, 0, 1)}, want: "2026-11-01_2026-11-01"},
		{give: finance.Period{From: day.Add(12 * time.Hour), To: day.AddDate(0, 0, 1)}, want: "20261101T120000Z_20261102T000000Z"},
		{give: finance.Period{From: day.In(time.FixedZone("X", 3600)), To: day.AddDate(0, 0, 2)}, want: "2026-11-01_2026-11-02"},
	} {
		require.Equal(t, tt.want, export.FileDate(tt.give))
	}
}

// row is a CSV record of about 100 bytes.
func row(i int) []string {
	return []string{strconv.Itoa(i), strings.Repeat("x", 96)}
}

// TestHoldBackThenAbort: an error in the first 64 KiB is returned with
// nothing sent, so the door answers it properly; one after them cuts the
// connection, telling the door why and after how many rows.
func TestHoldBackThenAbort(t *testing.T) {
	t.Parallel()
	boom := errors.New("database went away")

	t.Run("early error is returned", func(t *testing.T) {
		t.Parallel()
		w := httptest.NewRecorder()
		aborted := false
		s := export.NewCSV(w, "early.csv", []string{"n", "text"}, func(error, int) { aborted = true })
		for i := 0; i < 600; i++ { // about 60 KiB
			require.NoError(t, s.Row(nil, row(i)))
		}
		require.False(t, s.Committed())
		require.ErrorIs(t, s.Fail(boom), boom)
		require.False(t, aborted)
		require.False(t, w.Flushed)
		require.Zero(t, w.Body.Len(), "nothing sent")
		require.Empty(t, w.Header().Get("Content-Type"), "the error's answer sets its own")
		require.Empty(t, w.Header().Get("Content-Disposition"), "an error is not a download")
	})

	t.Run("late error aborts", func(t *testing.T) {
		t.Parallel()
		w := httptest.NewRecorder()
		var gotErr error
		gotRows := -1
		s := export.NewCSV(w, "late.csv", []string{"n", "text"}, func(err error, rows int) { gotErr, gotRows = err, rows })
		n := 0
		for ; !s.Committed(); n++ {
			require.NoError(t, s.Row(nil, row(n)))
		}
		require.GreaterOrEqual(t, w.Body.Len(), export.HoldBack)
		require.Less(t, w.Body.Len(), export.HoldBack+200, "sent as soon as the hold-back is full")
		require.True(t, w.Flushed)
		require.Equal(t, export.ContentTypeCSV, w.Header().Get("Content-Type"))
		require.PanicsWithValue(t, http.ErrAbortHandler, func() { _ = s.Fail(boom) })
		require.ErrorIs(t, gotErr, boom)
		require.Equal(t, n, gotRows)
	})

	t.Run("late error in JSON aborts", func(t *testing.T) {
		t.Parallel()
		w := httptest.NewRecorder()
		s, err := export.NewJSON(w, nil, "rows", nil)
		require.NoError(t, err)
		for i := 0; !s.Committed(); i++ {
			require.NoError(t, s.Row(map[string]any{"n": i, "text": strings.Repeat("x", 96)}, nil))
		}
		require.Equal(t, export.ContentTypeJSON, w.Header().Get("Content-Type"))
		require.PanicsWithValue(t, http.ErrAbortHandler, func() { _ = s.Fail(boom) })
	})
}

// TestLateFailureBreaksTheTransfer: over a real connection, an export cut
// after the hold-back reaches the client as a failed transfer, never as a
// body that ends cleanly.
func TestLateFailureBreaksTheTransfer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := export.NewCSV(w, "cut.csv", []string{"n", "text"}, nil)
		for i := 0; i < 2000; i++ { // about 200 KiB
			if err := s.Row(nil, row(i)); err != nil {
				_ = s.Fail(err)
				return
			}
		}
		_ = s.Fail(errors.New("the snapshot's connection broke"))
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.GreaterOrEqual(t, len(body), export.HoldBack)
}

func TestJSONObjectAroundTheRows(t *testing.T) {
	t.Parallel()
	type head struct {
		SellerID string `json:"seller_id"`
	}
	type tail struct {
		Totals []int `json:"totals"`
	}
	for _, tt := range []struct {
		name       string
		head, tail any
		rows       []any
		want       string
	}{
		{name: "head, rows and tail", head: head{"sel_1"}, tail: tail{[]int{3}}, rows: []any{1, "<b>"},
			want: `{"seller_id":"sel_1","entries":[1,"\u003cb\u003e"],"totals":[3]}`},
		{name: "no rows", head: head{"sel_1"}, tail: tail{[]int{}}, want: `{"seller_id":"sel_1","entries":[],"totals":[]}`},
		{name: "no head or tail", rows: []any{map[string]int{"a": 1}}, want: `{"entries":[{"a":1}]}`},
		{name: "empty head and tail", head: struct{}{}, tail: struct{}{}, want: `{"entries":[]}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			s, err := export.NewJSON(w, tt.head, "entries", nil)
			require.NoError(t, err)
			for _, r := range tt.rows {
				require.NoError(t, s.Row(r, nil))
			}
			require.NoError(t, s.CSVOnly([]string{"ignored"}))
			require.NoError(t, s.Close(tt.tail))
			require.Equal(t, tt.want, w.Body.String())
			require.True(t, json.Valid(w.Body.Bytes()))
			require.Equal(t, export.ContentTypeJSON, w.Header().Get("Content-Type"))
			require.Empty(t, w.Header().Get("Content-Disposition"))
		})
	}
}

// TestBigExportIsSentInPieces: past the hold-back, nothing more than about
// HoldBack is ever held, however long the export.
func TestBigExportIsSentInPieces(t *testing.T) {
	t.Parallel()
	w := &countingWriter{header: http.Header{}}
	s := export.NewCSV(w, "big.csv", []string{"n", "text"}, nil)
	for i := 0; i < 20000; i++ { // about 2 MiB
		require.NoError(t, s.Row(nil, row(i)))
	}
	require.NoError(t, s.Close(nil))
	require.Greater(t, w.writes, 25)
	require.LessOrEqual(t, w.largest, export.HoldBack+200)
	require.Equal(t, 1, w.headers)
}

type countingWriter struct {
	header           http.Header
	writes, headers  int
	largest, written int
}

func (w *countingWriter) Header() http.Header { return w.header }
func (w *countingWriter) WriteHeader(int)     { w.headers++ }
func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	w.largest = max(w.largest, len(p))
	w.written += len(p)
	return len(p), nil
}

func TestSlots(t *testing.T) {
	t.Parallel()
	s := export.NewSlots(2)
	require.Equal(t, 2, s.Size())
	r1, ok := s.Take()
	require.True(t, ok)
	r2, ok := s.Take()
	require.True(t, ok)
	_, ok = s.Take()
	require.False(t, ok, "all taken")
	r1()
	r3, ok := s.Take()
	require.True(t, ok, "a released slot is free again")
	r2()
	r3()
	require.Equal(t, 1, export.NewSlots(0).Size(), "at least one")
}
