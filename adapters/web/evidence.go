package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/evidence"
)

// EvidenceHeaders sets the headers a file (or its thumbnail) is
// served with, by the API and the console alike: its sniffed type,
// nosniff, a CSP that runs nothing, attachment for a PDF (never shown in
// the engine's origin), and no caching by anyone but the browser.
func EvidenceHeaders(h http.Header, f evidence.File, thumb bool) {
	ct, size, name, disp := f.ContentType, f.Size, evidence.FileName(f), "inline"
	if thumb {
		ct, size, name = evidence.TypeJPEG, f.ThumbSize, f.ID+"-thumbnail.jpg"
	}
	if ct == evidence.TypePDF {
		disp = "attachment"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Referrer-Policy", "no-referrer")
}

// ReadRecorder reads R and keeps the first error it gave other than
// io.EOF, so an upload that failed on reading the request (a client that
// stopped sending, a body over its limit) is told from one that failed
// on our side.
type ReadRecorder struct {
	R   io.Reader
	Err error
}

func (rr *ReadRecorder) Read(p []byte) (int, error) {
	n, err := rr.R.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && rr.Err == nil {
		rr.Err = err
	}
	return n, err
}

// WriteTimeout bounds each write of a file to the client: a client that
// stops reading is cut off.
const WriteTimeout = 30 * time.Second

// ServeEvidence answers r with a file, or its thumbnail, read from rc:
// 304 when If-None-Match holds its ETag (the sha256 of what is served),
// else 200 with EvidenceHeaders and the bytes. It returns rc's error if
// reading failed once the status was sent (the short body tells the
// client); a client that went away is no error.
func ServeEvidence(w http.ResponseWriter, r *http.Request, f evidence.File, thumb bool, rc io.Reader) error {
	h := w.Header()
	etag := `"` + f.SHA256 + `"`
	if thumb {
		etag = `"t-` + f.SHA256 + `"`
	}
	h.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		h.Set("Cache-Control", "private, no-cache")
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	EvidenceHeaders(h, f, thumb)
	w.WriteHeader(http.StatusOK)
	rctl := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := rc.Read(buf)
		if n > 0 {
			_ = rctl.SetWriteDeadline(time.Now().Add(WriteTimeout))
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil // the client went away; the status is sent
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
