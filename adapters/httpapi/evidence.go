package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/web"
	"github.com/claimsd/claimsd/domain/evidence"
)

// evidenceFileDTO is one evidence file as the API shows it.
type evidenceFileDTO struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Party       string    `json:"party"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Caption     string    `json:"caption"`
	Width       *int      `json:"width,omitempty"`
	Height      *int      `json:"height,omitempty"`
	URL         string    `json:"url"`
	Thumbnail   string    `json:"thumbnail_url,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

func toEvidenceFileDTO(f evidence.File) evidenceFileDTO {
	d := evidenceFileDTO{ID: f.ID, Kind: string(f.Kind), Party: string(f.Party), ContentType: f.ContentType, Size: f.Size,
		SHA256: f.SHA256, Caption: f.Caption, CreatedAt: f.CreatedAt,
		URL: "/v1/claims/" + f.ClaimID + "/evidence/" + f.ID}
	if f.Width > 0 {
		w, h := f.Width, f.Height
		d.Width, d.Height = &w, &h
	}
	if f.ThumbKey != "" {
		d.Thumbnail = d.URL + "/thumbnail"
	}
	return d
}

// The parts of an upload other than the file, and the most each may hold.
var uploadFields = map[string]int64{"kind": 64, "caption": 4 * evidence.MaxCaption}

// postEvidence takes one file as multipart/form-data (file, and optional
// kind and caption, in any order) and answers 201 with the stored file.
// The file streams through: it is never held whole in memory.
func (a *api) postEvidence(c echo.Context) error {
	ctx := c.Request().Context()
	mt, params, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEMultipartForm || params["boundary"] == "" {
		return newError(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"send the file as multipart/form-data with a part named file (and optional kind and caption)", "")
	}
	up, err := a.Evidence.Begin(ctx, viewer(c), c.Param("id"))
	if err != nil {
		return err
	}
	defer up.Abort(ctx)
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return newError(http.StatusBadRequest, "malformed_multipart", "the multipart body cannot be read: "+err.Error(), "")
	}
	fields := map[string]string{}
	stored := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return clientError(err)
		}
		name := part.FormName()
		switch {
		case name == "file":
			if stored {
				return newError(http.StatusUnprocessableEntity, "one_file", "send one file per request", "file")
			}
			body := &web.ReadRecorder{R: part}
			if err := up.Store(ctx, body); err != nil {
				if body.Err != nil && errors.Is(err, body.Err) {
					return clientError(body.Err)
				}
				if errors.Is(err, context.DeadlineExceeded) {
					// Waiting for a decoder took the upload's time: the
					// engine is busy with other images.
					return &apiError{Status: http.StatusServiceUnavailable, Code: "busy", retryAfter: 60,
						Message: "the engine is busy opening other images; nothing was stored, send the file again in a minute"}
				}
				return err
			}
			stored = true
		case uploadFields[name] > 0:
			if _, seen := fields[name]; seen {
				return newError(http.StatusUnprocessableEntity, "duplicate_field", "is given more than once", name)
			}
			b, err := io.ReadAll(io.LimitReader(part, uploadFields[name]+1))
			if err != nil {
				return clientError(err)
			}
			if int64(len(b)) > uploadFields[name] {
				return newError(http.StatusUnprocessableEntity, "too_long", fmt.Sprintf("must be at most %d bytes", uploadFields[name]), name)
			}
			fields[name] = string(b)
			if name == "kind" {
				if _, err := evidence.ParseKind(fields[name]); err != nil && fields[name] != "" {
					return err
				}
			}
		default:
			return newError(http.StatusUnprocessableEntity, "unknown_field",
				"is not a part of an upload; send file, and optionally kind and caption", safeFieldName(name))
		}
		_ = part.Close()
	}
	if !stored {
		return newError(http.StatusUnprocessableEntity, "required", "is required: the file, as a part named file", "file")
	}
	f, err := up.Commit(ctx, fields["kind"], fields["caption"])
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, toEvidenceFileDTO(f).URL)
	return c.JSON(http.StatusCreated, toEvidenceFileDTO(f))
}

// safeFieldName keeps a client's part name printable and short before
// it is echoed in an error.
func safeFieldName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 64 {
			break
		}
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		} else {
			b.WriteRune('?')
		}
	}
	return b.String()
}

// clientError turns what reading an upload's body met into the API's
// error: the body's limit is 413, a client that stopped sending 408, a
// body that is not multipart 400.
func clientError(err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return newError(http.StatusRequestEntityTooLarge, "file_too_large",
			fmt.Sprintf("the upload is larger than allowed; a file may be at most %s", evidence.HumanBytes(mbe.Limit-uploadOverhead)), "file")
	case isTimeout(err):
		return newError(http.StatusRequestTimeout, "upload_too_slow",
			"the upload stopped or came too slowly and was cut off; try again on a better connection", "file")
	}
	return newError(http.StatusBadRequest, "malformed_multipart", "the multipart body cannot be read: "+err.Error(), "")
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// uploadOverhead is what an upload's body may hold besides the file: the
// multipart framing, kind and caption.
const uploadOverhead = 64 << 10

// listEvidence lists the claim's files the caller may see.
func (a *api) listEvidence(c echo.Context) error {
	files, err := a.Evidence.List(c.Request().Context(), viewer(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := make([]evidenceFileDTO, len(files))
	for i, f := range files {
		out[i] = toEvidenceFileDTO(f)
	}
	lim := a.Evidence.Limits()
	return c.JSON(http.StatusOK, map[string]any{"data": out, "max_files": lim.MaxFiles, "max_bytes": lim.MaxBytes})
}

// getEvidenceFile serves a file's bytes.
func (a *api) getEvidenceFile(c echo.Context) error { return a.serveEvidence(c, false) }

// getEvidenceThumbnail serves an image's thumbnail.
func (a *api) getEvidenceThumbnail(c echo.Context) error { return a.serveEvidence(c, true) }

func (a *api) serveEvidence(c echo.Context, thumb bool) error {
	ctx := c.Request().Context()
	f, rc, err := a.Evidence.Open(ctx, viewer(c), c.Param("id"), c.Param("eid"), thumb)
	if err != nil {
		return err
	}
	defer func() { _ = rc.Close() }()
	if err := web.ServeEvidence(c.Response(), c.Request(), f, thumb, rc); err != nil {
		a.Logger.ErrorContext(ctx, "serve evidence", "evidence", f.ID, "err", err)
	}
	return nil
}

// idleReader moves the connection's read deadline forward before each
// read, never past end: a client that sends nothing for idle, or is still
// sending at end, is cut off (the read fails with a timeout).
func idleReader(w http.ResponseWriter, body io.ReadCloser, idle time.Duration, end time.Time) io.ReadCloser {
	rc := http.NewResponseController(w)
	return &deadlineBody{ReadCloser: body, set: func() {
		at := time.Now().Add(idle)
		if at.After(end) {
			at = end
		}
		_ = rc.SetReadDeadline(at)
	}}
}

type deadlineBody struct {
	io.ReadCloser
	set func()
}

func (d *deadlineBody) Read(p []byte) (int, error) {
	d.set()
	return d.ReadCloser.Read(p)
}
