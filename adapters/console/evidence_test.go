package console_test

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"image"
	_ "image/jpeg" // decodes served photos and thumbnails
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/domain/evidence"
)

// formPart is one part of a multipart form: a field, or a file when file
// is set (an empty file input is a file part with no name and no bytes).
type formPart struct {
	name, value string
	file        bool
	filename    string
	data        []byte
}

func field(name, value string) formPart { return formPart{name: name, value: value} }

func filePart(filename string, data []byte) formPart {
	return formPart{name: "file", file: true, filename: filename, data: data}
}

// emptyInput is what a browser sends for a file input left empty.
var emptyInput = formPart{name: "file", file: true}

// postMultipart sends a multipart form of the session's, its parts in
// the order given, as a browser sends them.
func (b *testBundle) postMultipart(t *testing.T, s signedIn, path string, parts ...formPart) response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		if !p.file {
			require.NoError(t, w.WriteField(p.name, p.value))
			continue
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.filename))
		h.Set("Content-Type", "application/octet-stream")
		pw, err := w.CreatePart(h)
		require.NoError(t, err)
		_, err = pw.Write(p.data)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	req := httptest.NewRequest(http.MethodPost, path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.AddCookie(s.cookie)
	rec := newRecorder(b, req)
	return response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
}

// claimFields are a good claim form's text parts, the token first as the
// page puts it.
func claimFields(s signedIn, key, orderID string) []formPart {
	return []formPart{
		field("csrf", s.csrf), field("key", key), field("order_id", orderID), field("reason", "counterfeit"),
		field("description", "The logo is misprinted and the box has no serial number."),
		field("evidence_kind_0", "photo"), field("evidence_url_0", ""),
	}
}

// mediaFile reads one of the media reader's real test files.
func mediaFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "media", "testdata", name))
	require.NoError(t, err)
	return b
}

// hasGPS reports whether a JPEG carries EXIF GPS data.
func hasGPS(b []byte) bool {
	return bytes.Contains(b, []byte{0x88, 0x25}) && bytes.Contains(b, []byte("Exif\x00\x00")) ||
		bytes.Contains(b, []byte("GPS"))
}

// exe is the start of a Windows executable, sent as a photo.
var exe = append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), bytes.Repeat([]byte{0}, 200)...)

var filedLocation = regexp.MustCompile(`^/app/claims/(clm_[0-9A-Za-z]+)\?`)

// files lists a claim's evidence as an agent sees it (every file).
func (b *testBundle) files(t *testing.T, claimID string) []evidence.File {
	t.Helper()
	fs, err := b.proofs.List(context.Background(), agent, claimID)
	require.NoError(t, err)
	return fs
}

// storedBlobs counts the blobs stored for a claim, and the notes of
// blobs waiting to be deleted: a refused file leaves neither.
func storedBlobs(t *testing.T, claimID string) (blobs, notes int) {
	t.Helper()
	return pgtest.EvidenceBlobs(t, store, claimID)
}

// uploadsBy counts the evidence rows anyone recorded as created by role:sub.
func uploadsBy(t *testing.T, role, sub string) int {
	t.Helper()
	var n int
	require.NoError(t, store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM evidence WHERE created_by = $1`, role+":"+sub).Scan(&n))
	return n
}

// fileWithForm files a claim through the form with files and returns the
// claim's id and the claim page the redirect leads to.
func (b *testBundle) fileWithForm(t *testing.T, s signedIn, orderID string, files ...formPart) (string, response) {
	t.Helper()
	key, _ := b.newClaimForm(t, s)
	return b.fileWithKey(t, s, key, orderID, files...)
}

// fileWithKey is fileWithForm with the form's key given.
func (b *testBundle) fileWithKey(t *testing.T, s signedIn, key, orderID string, files ...formPart) (string, response) {
	t.Helper()
	r := b.postMultipart(t, s, "/app/claims/new", append(claimFields(s, key, orderID), files...)...)
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	loc := r.Header.Get("Location")
	m := filedLocation.FindStringSubmatch(loc)
	require.NotNil(t, m, loc)
	page := b.do(t, http.MethodGet, loc, s.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code, page.Body)
	return m[1], page
}

func TestShopperFilesAClaimWithPhotoAndReceipt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_files")
	orderID := b.shopperOrder(t, "sel_files", shopper, sneakers(4000), 3*day, day)
	s := b.signIn(t, "shopper", shopper)

	key, form := b.newClaimForm(t, s)
	require.Contains(t, form.Body, `enctype="multipart/form-data"`)
	require.Contains(t, form.Body, `<input type="file" id="app-new-camera" name="file" accept="image/*" capture="environment">`)
	require.Contains(t, form.Body, `multiple accept="image/jpeg,image/png,image/webp,application/pdf"`)
	require.Contains(t, form.Body, "Up to 10 files, at most 10 MB each: JPEG, PNG or WebP photos, or PDF documents.")
	require.Less(t, strings.LastIndex(form.Body, `name="description"`), strings.Index(form.Body, `type="file"`), "the files come after every text field")
	require.Less(t, strings.LastIndex(form.Body, `name="evidence_url_`), strings.Index(form.Body, `type="file"`))
	require.Less(t, strings.Index(form.Body, `name="csrf"`), strings.Index(form.Body, `name="order_id"`), "the token comes first")

	gps, pdf := mediaFile(t, "photo-gps.jpg"), mediaFile(t, "receipt.pdf")
	require.True(t, hasGPS(gps), "the test photo carries GPS")
	id, page := b.fileWithKey(t, s, key, orderID, emptyInput, filePart("IMG_0001.jpg", gps), filePart("receipt.pdf", pdf))

	files := b.files(t, id)
	require.Len(t, files, 2)
	photo, receipt := byType(t, files, evidence.TypeJPEG), byType(t, files, evidence.TypePDF)
	require.Equal(t, evidence.TypeJPEG, photo.ContentType)
	require.Equal(t, evidence.KindPhoto, photo.Kind)
	require.Equal(t, evidence.PartyShopper, photo.Party)
	require.Equal(t, evidence.TypePDF, receipt.ContentType)
	require.Equal(t, evidence.KindDocument, receipt.Kind)

	require.Contains(t, page.Body, "Your claim was sent.")
	require.Contains(t, page.Body, "2 files were added.")
	require.NotContains(t, page.Body, "was not added")
	files1 := section(t, page.Body, "app-files-h")
	photoURL := "/app/claims/" + id + "/evidence/" + photo.ID
	require.Regexp(t, `<a class="evidence-thumb" href="`+regexp.QuoteMeta(photoURL)+`"><img src="`+regexp.QuoteMeta(photoURL+"/thumbnail")+`" alt="Photo \d \(`+photo.ID+`\)" width="\d+" height="\d+"`, files1)
	require.Contains(t, files1, `<a class="evidence-pdf" href="/app/claims/`+id+`/evidence/`+receipt.ID+`" download>PDF document <span class="mono">`+receipt.ID+`</span> (`+evidence.HumanBytes(receipt.Size)+`)</a>`)
	require.Contains(t, files1, `action="/app/claims/`+id+`/evidence" enctype="multipart/form-data"`, "room for more")

	// The photo is served without its GPS, as the page's link says.
	r := b.do(t, http.MethodGet, photoURL, s.cookie, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Equal(t, "image/jpeg", r.Header.Get("Content-Type"))
	require.Equal(t, "default-src 'none'; sandbox", r.Header.Get("Content-Security-Policy"))
	require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
	require.Equal(t, `inline; filename=`+photo.ID+`.jpg`, r.Header.Get("Content-Disposition"))
	require.Equal(t, "private, no-cache", r.Header.Get("Cache-Control"))
	require.False(t, hasGPS([]byte(r.Body)), "the GPS position was removed")
	_, _, err := image.Decode(strings.NewReader(r.Body))
	require.NoError(t, err)
	// Asked again with its ETag: 304, nothing sent.
	req := httptest.NewRequest(http.MethodGet, photoURL, nil)
	req.AddCookie(s.cookie)
	req.Header.Set("If-None-Match", r.Header.Get("ETag"))
	rec := newRecorder(b, req)
	require.Equal(t, http.StatusNotModified, rec.Code)
	require.Empty(t, rec.Body.Bytes())

	thumb := b.do(t, http.MethodGet, photoURL+"/thumbnail", s.cookie, nil)
	require.Equal(t, http.StatusOK, thumb.Code)
	require.Equal(t, "image/jpeg", thumb.Header.Get("Content-Type"))
	cfg, _, err := image.DecodeConfig(strings.NewReader(thumb.Body))
	require.NoError(t, err)
	require.LessOrEqual(t, max(cfg.Width, cfg.Height), evidence.ThumbSide)

	doc := b.do(t, http.MethodGet, "/app/claims/"+id+"/evidence/"+receipt.ID, s.cookie, nil)
	require.Equal(t, http.StatusOK, doc.Code)
	require.Equal(t, "application/pdf", doc.Header.Get("Content-Type"))
	require.Equal(t, "attachment; filename="+receipt.ID+".pdf", doc.Header.Get("Content-Disposition"))
	require.Equal(t, string(pdf), doc.Body)
	// A PDF has no thumbnail.
	require.Equal(t, http.StatusNotFound, b.do(t, http.MethodGet, "/app/claims/"+id+"/evidence/"+receipt.ID+"/thumbnail", s.cookie, nil).Code)

	// The agent sees both, with who sent them and their hash.
	ana := b.signIn(t, "agent", "ana")
	ap := b.do(t, http.MethodGet, "/console/claims/"+id, ana.cookie, nil)
	require.Equal(t, http.StatusOK, ap.Code)
	ev := section(t, ap.Body, "evidence-files-h")
	require.Contains(t, ev, `<img src="/console/claims/`+id+`/evidence/`+photo.ID+`/thumbnail"`)
	require.Contains(t, ev, `href="/console/claims/`+id+`/evidence/`+receipt.ID+`" download>`)
	require.Contains(t, ev, "<dt>From</dt><dd>shopper</dd>")
	require.Contains(t, ev, `<dd class="mono">`+photo.SHA256[:12]+`…</dd>`)
	full := b.do(t, http.MethodGet, "/console/claims/"+id+"/evidence/"+photo.ID, ana.cookie, nil)
	require.Equal(t, http.StatusOK, full.Code)
	require.Equal(t, r.Body, full.Body)

	// Sending the same form again (a second press) files nothing more
	// and stores its files no second time.
	r = b.postMultipart(t, s, "/app/claims/new", append(claimFields(s, key, orderID), filePart("IMG_0001.jpg", gps))...)
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	require.Len(t, b.files(t, id), 2)
}

func TestClaimFormRefusesBadFilesButFilesTheClaim(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_badfiles")
	orderID := b.shopperOrder(t, "sel_badfiles", shopper, sneakers(4000), 3*day, day)
	s := b.signIn(t, "shopper", shopper)

	id, page := b.fileWithForm(t, s, orderID,
		filePart(`<b>evil</b>/../photo.jpg`, exe),
		filePart("photo.heic", mediaFile(t, "photo.heic")),
		filePart("note.txt", nil),
		filePart("IMG_0002.jpg", mediaFile(t, "photo-ii.jpg")))
	require.Len(t, b.files(t, id), 1, "only the real photo was added")
	require.Contains(t, page.Body, "Your claim was sent.")
	require.Contains(t, page.Body, "1 file was added.")
	notice := page.Body[strings.Index(page.Body, `id="upload-refused"`):]
	notice = notice[:strings.Index(notice, "</div>")]
	esc := template.HTMLEscapeString
	require.Contains(t, notice, "File 1 (photo.jpg) was not added: "+esc((&evidence.UnsupportedError{Found: "an executable"}).Error())+".")
	require.Contains(t, notice, "File 2 (photo.heic) was not added: "+esc((&evidence.UnsupportedError{Found: "HEIC"}).Error())+".")
	require.Contains(t, notice, "File 3 (note.txt) was not added: ")
	require.NotContains(t, page.Body, "<b>evil</b>")
	blobs, notes := storedBlobs(t, id)
	require.Equal(t, 2, blobs, "the photo and its thumbnail; nothing of the refused files")
	require.Zero(t, notes)

	// A name made to mislead is escaped and cut short.
	long := strings.Repeat("<i>x", 20) + ".jpg"
	id, page = b.fileWithForm(t, s, b.shopperOrder(t, "sel_badfiles", shopper, sneakers(4000), 3*day, day), filePart(long, exe))
	require.Empty(t, b.files(t, id))
	require.NotContains(t, page.Body, "<i>x")
	require.Contains(t, page.Body, "File 1 ("+esc(string([]rune(long)[:60]))+"…) was not added")
}

func TestClaimFormWithFilesChecksTheTokenFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_csrf")
	orderID := b.shopperOrder(t, "sel_csrf", shopper, sneakers(4000), 3*day, day)
	s := b.signIn(t, "shopper", shopper)
	key, _ := b.newClaimForm(t, s)
	photo := filePart("IMG_0001.jpg", mediaFile(t, "photo-ii.jpg"))
	good := claimFields(s, key, orderID)
	for name, parts := range map[string][]formPart{
		"no token":            good[1:],
		"a wrong token":       append([]formPart{field("csrf", "bm90LXRoZS10b2tlbg")}, good[1:]...),
		"the token not first": append([]formPart{good[1], good[0]}, good[2:]...),
		"a file first":        append([]formPart{photo}, good...),
	} {
		r := b.postMultipart(t, s, "/app/claims/new", append(parts, photo)...)
		require.Equal(t, http.StatusForbidden, r.Code, name)
		require.Contains(t, r.Body, "This form is not from your current sign-in", name)
	}
	require.Empty(t, b.shopperClaims(t, shopper), "nothing was filed")
	require.Zero(t, uploadsBy(t, "shopper", shopper), "nothing was stored")
}

func TestClaimFormTakesTenFiles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_eleven")
	orderID := b.shopperOrder(t, "sel_eleven", shopper, sneakers(4000), 3*day, day)
	s := b.signIn(t, "shopper", shopper)
	photo := mediaFile(t, "photo-ii.jpg")
	var files []formPart
	for i := 1; i <= 11; i++ {
		files = append(files, filePart(fmt.Sprintf("IMG_%04d.jpg", i), photo))
	}
	id, page := b.fileWithForm(t, s, orderID, files...)
	require.Len(t, b.files(t, id), 10)
	require.Contains(t, page.Body, "10 files were added.")
	require.Contains(t, page.Body, "File 11 (IMG_0011.jpg) was not added: "+(&evidence.TooManyError{Limit: 10}).Error()+".")
	require.NotContains(t, section(t, page.Body, "app-files-h"), `action="/app/claims/`+id+`/evidence"`, "a full claim offers no form")
	require.Contains(t, section(t, page.Body, "app-files-h"), "This claim holds 10 files, as many as a claim takes.")
}

func TestClaimFormRefusedKeepsNoFiles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_invalid")
	orderID := b.shopperOrder(t, "sel_invalid", shopper, sneakers(4000), 3*day, day)
	s := b.signIn(t, "shopper", shopper)
	key, _ := b.newClaimForm(t, s)
	parts := claimFields(s, key, orderID)
	parts[4] = field("description", "   ")
	r := b.postMultipart(t, s, "/app/claims/new", append(parts, filePart("IMG_0001.jpg", mediaFile(t, "photo-gps.jpg")))...)
	require.Equal(t, http.StatusUnprocessableEntity, r.Code, r.Body)
	require.Contains(t, r.Body, "Describe what is wrong.")
	require.Contains(t, r.Body, "the photos and documents you chose were not kept: choose them again.")
	require.Contains(t, r.Body, `value="`+orderID+`" checked`, "the form as typed")
	require.Empty(t, b.shopperClaims(t, shopper))
	require.Zero(t, uploadsBy(t, "shopper", shopper))

	// Without files, the form says nothing of them.
	r = b.postMultipart(t, s, "/app/claims/new", append(parts, emptyInput, emptyInput)...)
	require.Equal(t, http.StatusUnprocessableEntity, r.Code, r.Body)
	require.NotContains(t, r.Body, "choose them again")
}

func TestShopperAddsFilesToTheirClaim(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_adds")
	s := b.signIn(t, "shopper", shopper)
	id := b.fileThroughForm(t, s, b.shopperOrder(t, "sel_adds", shopper, sneakers(4000), 3*day, day))
	r := b.postMultipart(t, s, "/app/claims/"+id+"/evidence", field("csrf", s.csrf),
		filePart("IMG_0003.jpg", mediaFile(t, "photo-ii.jpg")), filePart("scan.png", mediaFile(t, "text.png")), emptyInput)
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	require.True(t, strings.HasPrefix(r.Header.Get("Location"), "/app/claims/"+id+"?files="), r.Header.Get("Location"))
	require.True(t, strings.HasSuffix(r.Header.Get("Location"), "#evidence"))
	require.Len(t, b.files(t, id), 2)
	page := b.do(t, http.MethodGet, withoutFragment(r.Header.Get("Location")), s.cookie, nil)
	require.Contains(t, page.Body, "2 files were added.")

	// The notice is sealed to the session and the claim: another
	// session, or an edited one, shows none.
	other := b.signIn(t, "shopper", shopper)
	require.NotContains(t, b.do(t, http.MethodGet, withoutFragment(r.Header.Get("Location")), other.cookie, nil).Body, "files were added")
	loc, err := url.Parse(r.Header.Get("Location"))
	require.NoError(t, err)
	sealed := loc.Query().Get("files")
	forged := "eyJhIjo5fQ" + sealed[strings.Index(sealed, "."):]
	require.NotContains(t, b.do(t, http.MethodGet, "/app/claims/"+id+"?files="+forged, s.cookie, nil).Body, "files were added")

	// Another shopper may neither add files nor see them.
	stranger := b.signIn(t, "shopper", b.name("shp_stranger"))
	r = b.postMultipart(t, stranger, "/app/claims/"+id+"/evidence", field("csrf", stranger.csrf), filePart("x.jpg", mediaFile(t, "photo-ii.jpg")))
	require.Equal(t, http.StatusNotFound, r.Code)
	f := b.files(t, id)[0]
	for _, p := range []string{"", "/thumbnail"} {
		r := b.do(t, http.MethodGet, "/app/claims/"+id+"/evidence/"+f.ID+p, stranger.cookie, nil)
		require.Equal(t, http.StatusNotFound, r.Code)
		require.Contains(t, r.Body, "There is no such page")
		require.Equal(t, contentSecurityPolicy, r.Header.Get("Content-Security-Policy"), "the console's own 404 page")
	}
	require.Len(t, b.files(t, id), 2)
}

const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func TestSellerAddsContestFilesAndNeverSeesTheShoppers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.chargedClaim(t, "sel_proof", b.clock.Now())
	sellerID, shopper := b.name("sel_proof"), b.get(t, id).Claim.ShopperID()

	// The shopper adds a photo.
	mia := b.signIn(t, "shopper", shopper)
	r := b.postMultipart(t, mia, "/app/claims/"+id+"/evidence", field("csrf", mia.csrf), filePart("IMG_0001.jpg", mediaFile(t, "photo-gps.jpg")))
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	shopperFile := b.files(t, id)[0]

	seller := b.signIn(t, "seller", sellerID)
	page := b.do(t, http.MethodGet, "/console/seller/claims/"+id, seller.cookie, nil)
	require.Equal(t, http.StatusOK, page.Code)
	files := section(t, page.Body, "contest-files-h")
	require.Contains(t, files, "You have not added any files. The shopper's files are not shown to sellers.")
	require.Contains(t, files, `action="/console/seller/claims/`+id+`/evidence" enctype="multipart/form-data"`)
	require.NotContains(t, page.Body, shopperFile.ID)

	r = b.postMultipart(t, seller, "/console/seller/claims/"+id+"/evidence", field("csrf", seller.csrf),
		filePart("invoice.pdf", mediaFile(t, "receipt.pdf")), filePart("label.webp", mediaFile(t, "meta.webp")))
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	require.True(t, strings.HasSuffix(r.Header.Get("Location"), "#contest-files"))
	all := b.files(t, id)
	require.Len(t, all, 3)
	invoice, label := byType(t, all, evidence.TypePDF), byType(t, all, evidence.TypeWebP)
	require.Equal(t, evidence.PartySeller, invoice.Party)

	page = b.do(t, http.MethodGet, withoutFragment(r.Header.Get("Location")), seller.cookie, nil)
	files = section(t, page.Body, "contest-files-h")
	require.Contains(t, files, "2 files were added.")
	require.Contains(t, files, `href="/console/seller/claims/`+id+`/evidence/`+invoice.ID+`" download>`)
	require.Contains(t, files, `<img src="/console/seller/claims/`+id+`/evidence/`+label.ID+`/thumbnail"`)
	require.NotContains(t, page.Body, shopperFile.ID, "the shopper's files are never on the seller's page")
	for _, p := range []string{"", "/thumbnail"} {
		r := b.do(t, http.MethodGet, "/console/seller/claims/"+id+"/evidence/"+shopperFile.ID+p, seller.cookie, nil)
		require.Equal(t, http.StatusNotFound, r.Code, "the seller asks for the shopper's file%s", p)
		require.NotContains(t, r.Body, "\xff\xd8")
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/console/seller/claims/"+id+"/evidence/"+label.ID, seller.cookie, nil).Code)
	// Nor does the shopper see the seller's contest papers.
	require.NotContains(t, b.do(t, http.MethodGet, "/app/claims/"+id, mia.cookie, nil).Body, invoice.ID)
	require.Equal(t, http.StatusNotFound, b.do(t, http.MethodGet, "/app/claims/"+id+"/evidence/"+invoice.ID, mia.cookie, nil).Code)
	// Another seller gets nothing.
	other := b.signIn(t, "seller", b.name("sel_other"))
	require.Equal(t, http.StatusNotFound, b.do(t, http.MethodGet, "/console/seller/claims/"+id+"/evidence/"+label.ID, other.cookie, nil).Code)

	// The agent sees all three, each with its party.
	ana := b.signIn(t, "agent", "ana")
	ev := section(t, b.do(t, http.MethodGet, "/console/claims/"+id, ana.cookie, nil).Body, "evidence-files-h")
	require.Equal(t, 1, strings.Count(ev, "<dt>From</dt><dd>shopper</dd>"))
	require.Equal(t, 2, strings.Count(ev, "<dt>From</dt><dd>seller</dd>"))

	// A claim with no open charge takes no seller files: no form, and a
	// form sent anyway is refused with the reason.
	review := b.reviewClaim(t, "sel_proof")
	page = b.do(t, http.MethodGet, "/console/seller/claims/"+review, seller.cookie, nil)
	require.NotContains(t, page.Body, "/evidence\"")
	r = b.postMultipart(t, seller, "/console/seller/claims/"+review+"/evidence", field("csrf", seller.csrf), filePart("invoice.pdf", mediaFile(t, "receipt.pdf")))
	require.Equal(t, http.StatusSeeOther, r.Code, r.Body)
	page = b.do(t, http.MethodGet, withoutFragment(r.Header.Get("Location")), seller.cookie, nil)
	require.Contains(t, page.Body, "File 1 (invoice.pdf) was not added: a seller adds evidence to a charge they may still contest or are contesting; this claim has none.")
	require.Empty(t, b.files(t, review))
}

// TestUploadPathsGetTheStreamLimits: the console's forms with files get
// a body as large as their files (the API's default body limit is far
// smaller), and nothing else of the console does.
func TestUploadPathsGetTheStreamLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shopper := b.name("shp_big")
	orderID := b.shopperOrder(t, "sel_big", shopper, sneakers(4000), 3*day, day)
	s := b.signIn(t, "shopper", shopper)
	// Four photos of about 1 MB each: past the API's 256 KiB, within a
	// form's allowance.
	photo := mediaFile(t, "photo-ii.jpg")
	var files []formPart
	for i := range 4 {
		padded := append(append([]byte{}, photo[:2]...), jpegComment(1<<20)...)
		padded = append(padded, photo[2:]...)
		files = append(files, filePart(fmt.Sprintf("big%d.jpg", i), padded))
	}
	id, page := b.fileWithForm(t, s, orderID, files...)
	require.Contains(t, page.Body, "4 files were added.", page.Body)
	require.Len(t, b.files(t, id), 4)
	for _, f := range b.files(t, id) {
		require.Less(t, f.Size, int64(64<<10), "the padding was metadata, and went")
	}
}

// jpegComment is JPEG COM segments holding about n bytes, which the
// media reader removes.
func jpegComment(n int) []byte {
	var out []byte
	for n > 0 {
		size := min(n, 65000)
		out = append(out, 0xFF, 0xFE, byte((size+2)>>8), byte(size+2))
		out = append(out, bytes.Repeat([]byte("x"), size)...)
		n -= size
	}
	return out
}

// byType is the one file of a content type among files.
func byType(t *testing.T, files []evidence.File, contentType string) evidence.File {
	t.Helper()
	for _, f := range files {
		if f.ContentType == contentType {
			return f
		}
	}
	t.Fatalf("no %s among the files", contentType)
	return evidence.File{}
}
