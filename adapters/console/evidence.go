package console

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/web"
	"github.com/claimsd/claimsd/domain/claim"
	"github.com/claimsd/claimsd/domain/evidence"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

// The console's forms that carry files, and the pages that serve them.
// Files stream through evidenceflow as they arrive (see formStream): a
// form is never held whole in memory or in a temporary file.
const (
	pathNewClaim        = "/app/claims/new"
	pathAppEvidence     = "/app/claims/:id/evidence"
	pathAppFile         = "/app/claims/:id/evidence/:eid"
	pathSellerEvidence  = "/console/seller/claims/:id/evidence"
	pathSellerFile      = "/console/seller/claims/:id/evidence/:eid"
	pathStaffFile       = "/console/claims/:id/evidence/:eid"
	thumbnailPathSuffix = "/thumbnail"
)

// UploadPaths are the console's routes that move files, for
// httpapi.Deps.StreamPaths, as "METHOD path" with how many files one
// request may carry: the forms take up to a claim's limit of files
// (CLAIMSD_EVIDENCE_MAX_FILES) at once; the pages that serve a whole
// file are given the upload's time, since a large photo may take a phone
// a while.
//
//	e := httpapi.New(httpapi.Deps{…, StreamPaths: console.UploadPaths(cfg.EvidenceMaxFiles)})
func UploadPaths(maxFiles int) map[string]int {
	return map[string]int{
		http.MethodPost + " " + pathNewClaim:       maxFiles,
		http.MethodPost + " " + pathAppEvidence:    maxFiles,
		http.MethodPost + " " + pathSellerEvidence: maxFiles,
		http.MethodGet + " " + pathAppFile:         1,
		http.MethodGet + " " + pathSellerFile:      1,
		http.MethodGet + " " + pathStaffFile:       1,
	}
}

// evidenceRoutes registers the forms that add files to a claim and the
// pages that serve them, when the console has the evidence service.
// Evidence.Open decides who sees which file; one they may not see is
// the not-found page.
func (c *console) evidenceRoutes() {
	if c.Evidence == nil {
		return
	}
	c.upload(pathAppEvidence, c.appEvidencePost, RoleShopper)
	c.upload(pathSellerEvidence, c.sellerEvidencePost, RoleSeller)
	staff := []claimflow.Role{RoleAgent, RoleFinance, RoleAdmin}
	for _, r := range []struct {
		path  string
		roles []claimflow.Role
	}{{pathAppFile, []claimflow.Role{RoleShopper}}, {pathSellerFile, []claimflow.Role{RoleSeller}}, {pathStaffFile, staff}} {
		c.get(r.path, c.serveEvidence(false), r.roles...)
		c.get(r.path+thumbnailPathSuffix, c.serveEvidence(true), r.roles...)
	}
}

// serveEvidence serves a file or its thumbnail with web.EvidenceHeaders,
// as the API does: an ETag of its hash, 304 when the browser has it.
func (c *console) serveEvidence(thumb bool) echo.HandlerFunc {
	return func(ec echo.Context) error { return c.serveFile(ec, ec.Param("id"), thumb) }
}

// serveFile serves one of claimID's files the viewer may see, or its
// thumbnail; any other is not found.
func (c *console) serveFile(ec echo.Context, claimID string, thumb bool) error {
	ctx := ec.Request().Context()
	f, rc, err := c.Evidence.Open(ctx, viewerOf(ec), claimID, ec.Param("eid"), thumb)
	if err != nil {
		return err
	}
	defer func() { _ = rc.Close() }()
	if err := web.ServeEvidence(ec.Response(), ec.Request(), f, thumb, rc); err != nil {
		c.Logger.ErrorContext(ctx, "serve evidence", "evidence", f.ID, "err", err)
	}
	return nil
}

// ---- forms that carry files ----

// upload registers a form that may carry files, for the roles given. A
// multipart form is read as it streams: its first part must be the
// form's token, checked before anything else is read (the hidden inputs
// come first in each form); the handler reads the rest from streamOf. A
// form sent urlencoded is checked as every other form is.
func (c *console) upload(p string, h echo.HandlerFunc, roles ...claimflow.Role) {
	c.routes = append(c.routes, Route{Method: http.MethodPost, Path: p, Roles: roles})
	c.e.POST(p, c.page(h), append(c.chain(roles), c.checkStreamForm)...)
}

const streamKey = "console.stream"

// checkStreamForm checks the token of a form that may carry files. On a
// multipart form it reads only the first part, which must be the token.
func (c *console) checkStreamForm(next echo.HandlerFunc) echo.HandlerFunc {
	urlencoded := c.checkForm(next)
	return func(ec echo.Context) error {
		req := ec.Request()
		mt, params, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
		if err != nil || mt != echo.MIMEMultipartForm {
			return urlencoded(ec)
		}
		s := &formStream{body: &web.ReadRecorder{R: req.Body}}
		if params["boundary"] == "" {
			return c.formExpired(ec)
		}
		s.mr = multipart.NewReader(s.body, params["boundary"])
		part, err := s.mr.NextPart()
		if err != nil || part.FormName() != "csrf" || part.FileName() != "" {
			return c.formExpired(ec)
		}
		token, err := io.ReadAll(io.LimitReader(part, 512))
		sess := ec.Get(sessionKey).(*session)
		if err != nil || !c.sessions.validCSRF(sess.ID, string(token)) {
			return c.formExpired(ec)
		}
		ec.Set(streamKey, s)
		return next(ec)
	}
}

// streamOf returns the multipart form checkStreamForm opened; nil for a
// form sent urlencoded.
func streamOf(ec echo.Context) *formStream {
	s, _ := ec.Get(streamKey).(*formStream)
	return s
}

// formStream is a multipart form read part by part, in the order the
// browser sent them: its text fields first, then its files.
type formStream struct {
	mr   *multipart.Reader
	body *web.ReadRecorder
	// next is a part read but not handled yet: the first file part, once
	// fields has read up to it.
	next *multipart.Part
	// sent counts the files sent (non-empty file parts) that were not
	// stored, for the note that they must be chosen again.
	sent int
}

// fileField is the name of the forms' file inputs.
const fileField = "file"

// maxFormText is how much text a form with files may carry besides them
// (the body's allowance for it, httpapi's upload overhead, less the
// multipart framing).
const maxFormText = 48 << 10

// errFormTooLarge refuses a form whose text is over maxFormText.
var errFormTooLarge = errors.New("the form's text is larger than the console takes")

func isFilePart(p *multipart.Part) bool { return p.FormName() == fileField || p.FileName() != "" }

// fields reads the text fields up to the first file part (or the end).
func (s *formStream) fields() (url.Values, error) {
	out := url.Values{}
	left := int64(maxFormText)
	for {
		part, err := s.mr.NextPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if isFilePart(part) {
			s.next = part
			return out, nil
		}
		b, err := io.ReadAll(io.LimitReader(part, left+1))
		if err != nil {
			return out, err
		}
		if left -= int64(len(b)); left < 0 {
			return out, errFormTooLarge
		}
		out.Add(part.FormName(), string(b))
	}
}

// nextFile returns the next file part that holds bytes, with them (nil
// at the end). Empty file inputs (no name, no bytes) and text parts
// after the files are skipped.
func (s *formStream) nextFile() (*multipart.Part, io.Reader, error) {
	for {
		part := s.next
		s.next = nil
		if part == nil {
			var err error
			if part, err = s.mr.NextPart(); errors.Is(err, io.EOF) {
				return nil, nil, nil
			} else if err != nil {
				return nil, nil, err
			}
		}
		if !isFilePart(part) {
			continue
		}
		var one [1]byte
		n, err := io.ReadFull(part, one[:])
		if n == 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			if part.FileName() == "" {
				continue // an input left empty
			}
			return part, bytes.NewReader(nil), nil // a named file with nothing in it: refused as empty
		}
		if err != nil && n == 0 {
			return nil, nil, err
		}
		return part, io.MultiReader(bytes.NewReader(one[:n]), part), nil
	}
}

// drain reads the rest of the form, counting the files it held, so the
// page that follows is sent after the whole form is received.
func (s *formStream) drain() {
	for {
		part, _, err := s.nextFile()
		if part == nil || err != nil {
			return
		}
		s.sent++
	}
}

// refusal is a file not added to a claim and why, as the page says it.
type refusal struct {
	N    int    `json:"n"`           // its place among the files sent, from 1
	Name string `json:"f,omitempty"` // its name as sent, cleaned and cut short
	Why  string `json:"w"`
}

// uploadNotice is what happened to the files a form carried; it travels
// to the claim's page in the redirect, sealed (see sealNotice).
type uploadNotice struct {
	Added   int       `json:"a"`
	Refused []refusal `json:"r,omitempty"`
	// More counts refusals past those listed.
	More int `json:"m,omitempty"`
}

// noticeRefusals is how many refused files a notice names one by one.
const noticeRefusals = 12

// storeFiles adds each file of the form to the claim for v, in order,
// and says what became of each: a refused file (its type, size, the
// claim full) does not stop the next; a form that stops arriving stops
// them all.
func (c *console) storeFiles(ctx context.Context, v claimflow.Viewer, claimID string, s *formStream) uploadNotice {
	var out uploadNotice
	refuse := func(r refusal) {
		if len(out.Refused) < noticeRefusals {
			out.Refused = append(out.Refused, r)
		} else {
			out.More++
		}
	}
	for n := 1; ; n++ {
		part, r, err := s.nextFile()
		if err != nil {
			refuse(refusal{N: n, Why: bodyStopped(err)})
			return out
		}
		if part == nil {
			return out
		}
		name := cleanFileName(part.FileName())
		err = c.storeFile(ctx, v, claimID, r)
		if err == nil {
			out.Added++
			continue
		}
		if s.body.Err != nil {
			refuse(refusal{N: n, Name: name, Why: bodyStopped(s.body.Err)})
			return out
		}
		if ctx.Err() != nil {
			refuse(refusal{N: n, Name: name, Why: bodyStopped(ctx.Err())})
			return out
		}
		refuse(refusal{N: n, Name: name, Why: c.fileRefusal(ctx, err)})
	}
}

func (c *console) storeFile(ctx context.Context, v claimflow.Viewer, claimID string, r io.Reader) error {
	up, err := c.Evidence.Begin(ctx, v, claimID)
	if err != nil {
		return err
	}
	defer up.Abort(ctx)
	if err := up.Store(ctx, r); err != nil {
		return err
	}
	_, err = up.Commit(ctx, "", "")
	return err
}

// fileRefusal says why a file was refused: the domain's message for what
// the file is (or the claim's room, or the pace of uploads); a failure of
// ours is logged and said without its cause.
func (c *console) fileRefusal(ctx context.Context, err error) string {
	var (
		unsupported *evidence.UnsupportedError
		unreadable  *evidence.UnreadableError
		tooLarge    *evidence.TooLargeError
		tooMany     *evidence.TooManyError
		limited     *evidenceflow.RateLimitedError
		refused     *claim.RefusedError
	)
	switch {
	case errors.As(err, &unsupported), errors.As(err, &unreadable), errors.As(err, &tooLarge),
		errors.As(err, &tooMany), errors.As(err, &limited):
		return err.Error()
	case errors.As(err, &refused):
		return refused.Message
	}
	c.Logger.ErrorContext(ctx, "console upload failed", "err", err)
	return "it could not be stored because of a problem on our side; add it again in a moment"
}

// bodyStopped says why the rest of a form was not received.
func bodyStopped(err error) string {
	var mbe *http.MaxBytesError
	var te interface{ Timeout() bool }
	switch {
	case errors.As(err, &mbe):
		return "the files together were larger than one form takes; this file and any after it were not received. Send them a few at a time"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &te) && te.Timeout():
		return "the upload stopped or came too slowly; this file and any after it were not received. Try again on a better connection"
	}
	return "the upload was cut off; this file and any after it were not received"
}

// cleanFileName keeps a file's name fit to show: without a folder, in
// printable characters, at most 60 of them. The page escapes it too;
// nothing else uses it.
func cleanFileName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == 60 {
			b.WriteString("…")
			break
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// sealNotice encodes a notice for the redirect to claimID's page, with a
// MAC bound to the session and the claim: nobody can make a page show a
// notice of their own, or show one to someone else.
func (k sessionKeys) sealNotice(sessionID, claimID string, n uploadNotice) string {
	b, _ := json.Marshal(n) // plain fields: never fails
	payload := base64.RawURLEncoding.EncodeToString(b)
	sum := mac(k.form[0], "notice\n"+sessionID+"\n"+claimID+"\n"+payload)
	return payload + "." + base64.RawURLEncoding.EncodeToString(sum)
}

// openNotice returns the notice sealNotice sealed; ok is false for
// anything else.
func (k sessionKeys) openNotice(sessionID, claimID, sealed string) (n uploadNotice, ok bool) {
	payload, sig, found := strings.Cut(sealed, ".")
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if !found || err != nil {
		return n, false
	}
	for _, key := range k.form {
		if hmac.Equal(got, mac(key, "notice\n"+sessionID+"\n"+claimID+"\n"+payload)) {
			b, err := base64.RawURLEncoding.Strict().DecodeString(payload)
			if err != nil || json.Unmarshal(b, &n) != nil {
				return uploadNotice{}, false
			}
			return n, true
		}
	}
	return n, false
}

// filesRedirect sends the browser to a claim's page with what became of
// the files (the query's "files"), at anchor.
func (c *console) filesRedirect(ec echo.Context, page, claimID string, n uploadNotice, query url.Values, anchor string) error {
	if query == nil {
		query = url.Values{}
	}
	if n.Added > 0 || len(n.Refused) > 0 {
		query.Set("files", c.sessions.sealNotice(ec.Get(sessionKey).(*session).ID, claimID, n))
	}
	to := page + url.PathEscape(claimID)
	if q := query.Encode(); q != "" {
		to += "?" + q
	}
	return ec.Redirect(http.StatusSeeOther, to+anchor)
}

// noticeView is an upload notice as a page shows it.
type noticeView struct {
	Added   string
	Refused []string
	More    string
}

// uploadNoticeOf reads the notice the redirect carried to this page.
func (c *console) uploadNoticeOf(ec echo.Context, claimID string) *noticeView {
	sealed := ec.QueryParam("files")
	if sealed == "" {
		return nil
	}
	n, ok := c.sessions.openNotice(ec.Get(sessionKey).(*session).ID, claimID, sealed)
	if !ok {
		return nil
	}
	v := &noticeView{}
	switch n.Added {
	case 0:
	case 1:
		v.Added = "1 file was added."
	default:
		v.Added = fmt.Sprintf("%d files were added.", n.Added)
	}
	for _, r := range n.Refused {
		who := fmt.Sprintf("File %d", r.N)
		if r.Name != "" {
			who += " (" + r.Name + ")"
		}
		v.Refused = append(v.Refused, who+" was not added: "+r.Why+".")
	}
	if n.More > 0 {
		v.More = fmt.Sprintf("%d more files were not added.", n.More)
	}
	return v
}

// ---- files as pages show them ----

// fileView is one evidence file on a page.
type fileView struct {
	ID, Party, Kind, Caption, Size, SHA256, ShortSHA string
	URL, ThumbURL, Alt                               string
	Image                                            bool
	// Width and Height are the thumbnail's box on the page.
	Width, Height int
	At            time.Time
}

// thumbBox is the side of the box thumbnails are shown in, in CSS pixels.
const thumbBox = 160

func newFileView(f evidence.File, base string, n int) fileView {
	v := fileView{
		ID: f.ID, Party: string(f.Party), Kind: string(f.Kind), Caption: f.Caption, Size: evidence.HumanBytes(f.Size),
		SHA256: f.SHA256, ShortSHA: f.SHA256[:min(12, len(f.SHA256))], Image: evidence.IsImage(f.ContentType),
		URL: base + url.PathEscape(f.ClaimID) + "/evidence/" + url.PathEscape(f.ID), At: f.CreatedAt,
	}
	if v.Image && f.ThumbKey != "" {
		v.ThumbURL = v.URL + thumbnailPathSuffix
		v.Width, v.Height = thumbBox, thumbBox
		if f.Width > 0 && f.Height > 0 {
			if f.Width >= f.Height {
				v.Height = max(1, thumbBox*f.Height/f.Width)
			} else {
				v.Width = max(1, thumbBox*f.Width/f.Height)
			}
		}
		v.Alt = fmt.Sprintf("%s %d (%s)", strings.ToUpper(v.Kind[:1])+v.Kind[1:], n, f.ID)
	}
	return v
}

// uploadView is what a form that takes files says of the limits.
type uploadView struct {
	MaxFiles int
	MaxBytes string
	// Room is how many more files the claim takes, as far as the viewer
	// can tell (the other party's files count too).
	Room int
}

// claimFiles returns the claim's files v may see, for a page whose file
// routes start with base ("/app/claims/").
func (c *console) claimFiles(ctx context.Context, v claimflow.Viewer, claimID, base string) ([]fileView, *uploadView, error) {
	if c.Evidence == nil {
		return nil, nil, nil
	}
	files, err := c.Evidence.List(ctx, v, claimID)
	if err != nil {
		return nil, nil, err
	}
	out := make([]fileView, len(files))
	for i, f := range files {
		out[i] = newFileView(f, base, i+1)
	}
	lim := c.Evidence.Limits()
	return out, &uploadView{MaxFiles: lim.MaxFiles, MaxBytes: evidence.HumanBytes(lim.MaxBytes), Room: max(0, lim.MaxFiles-len(files))}, nil
}

// limitsView is the limits for a form with nothing to count yet.
func (c *console) limitsView() *uploadView {
	if c.Evidence == nil {
		return nil
	}
	lim := c.Evidence.Limits()
	return &uploadView{MaxFiles: lim.MaxFiles, MaxBytes: evidence.HumanBytes(lim.MaxBytes), Room: lim.MaxFiles}
}

// ---- adding files to a claim ----

// appEvidencePost adds the shopper's files to their claim and shows the
// claim with what became of each.
func (c *console) appEvidencePost(ec echo.Context) error {
	return c.addFiles(ec, "/app/claims/", "#evidence")
}

// sellerEvidencePost adds the seller's contest files to the claim
// charged to them, while they may contest the charge or are contesting.
func (c *console) sellerEvidencePost(ec echo.Context) error {
	return c.addFiles(ec, "/console/seller/claims/", "#contest-files")
}

func (c *console) addFiles(ec echo.Context, page, anchor string) error {
	ctx := ec.Request().Context()
	v := viewerOf(ec)
	rec, err := c.Claims.Get(ctx, v, ec.Param("id"))
	if err != nil {
		return err // another's claim is not found
	}
	s := streamOf(ec)
	if s == nil {
		return c.render(ec, http.StatusUnsupportedMediaType, "error", pageData{Title: "Send the files with the form",
			Data: errorData{Heading: "Send the files with the form", Message: "Files are added with the form on the claim's page."}})
	}
	if _, err := s.fields(); err != nil && !errors.Is(err, errFormTooLarge) {
		return c.filesRedirect(ec, page, rec.Claim.ID(), uploadNotice{Refused: []refusal{{N: 1, Why: bodyStopped(err)}}}, nil, anchor)
	}
	n := c.storeFiles(ctx, v, rec.Claim.ID(), s)
	return c.filesRedirect(ec, page, rec.Claim.ID(), n, nil, anchor)
}

// formExpired refuses a form without the session's token: 403, and
// nothing is done.
func (c *console) formExpired(ec echo.Context) error {
	return c.render(ec, http.StatusForbidden, "forbidden", pageData{Title: "Form expired",
		Data: forbiddenData{Message: "This form is not from your current sign-in (it may be from an old page or another site), so nothing was done. Reload the page and try again."}})
}
