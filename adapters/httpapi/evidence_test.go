package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decodes the served files and thumbnails
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/blobstore"
	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/media"
	"github.com/claimsd/claimsd/adapters/pgstore/pgtest"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

// upload is a multipart body for b.do.
type upload struct {
	contentType string
	data        []byte
}

// part is one part of an upload: a field, or a file when filename is set.
type part struct {
	name, filename, contentType string
	data                        []byte
}

func multipartBody(t *testing.T, parts ...part) upload {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.filename != "" {
			disp += fmt.Sprintf(`; filename=%q`, p.filename)
		}
		h.Set("Content-Disposition", disp)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		pw, err := w.CreatePart(h)
		require.NoError(t, err)
		_, err = pw.Write(p.data)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return upload{contentType: w.FormDataContentType(), data: buf.Bytes()}
}

// fileUpload is an upload of one file with an optional kind and caption.
func fileUpload(t *testing.T, name string, data []byte, fields ...string) upload {
	t.Helper()
	parts := []part{}
	for i := 0; i+1 < len(fields); i += 2 {
		parts = append(parts, part{name: fields[i], data: []byte(fields[i+1])})
	}
	parts = append(parts, part{name: "file", filename: name, contentType: "image/jpeg", data: data})
	return multipartBody(t, parts...)
}

// mediaFile reads one of the media reader's real test files.
func mediaFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "media", "testdata", name))
	require.NoError(t, err)
	return b
}

// blobKeys counts the stored blobs of a claim, and the notes of blobs
// waiting to be deleted.
func blobKeys(t *testing.T, claimID string) (blobs, notes int) {
	t.Helper()
	return pgtest.EvidenceBlobs(t, store, claimID)
}

func (b *testBundle) evidence(t *testing.T, claimID, token string) []any {
	t.Helper()
	r := b.do(t, http.MethodGet, "/v1/claims/"+claimID+"/evidence", token, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	return r.json(t)["data"].([]any)
}

// hasGPS reports whether a JPEG carries EXIF GPS data: an APP1 Exif
// segment with the GPS IFD's tag, or the text of its fields.
func hasGPS(b []byte) bool {
	return bytes.Contains(b, []byte{0x88, 0x25}) && bytes.Contains(b, []byte("Exif\x00\x00")) ||
		bytes.Contains(b, []byte("GPS"))
}

func TestEvidenceUploadAndServe(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cl := b.claimIn(t, "closed", b.newSeller(t, "sel_ev"))
	id, shopper := cl["id"].(string), b.token(t, "shopper", cl["shopper_id"].(string))
	agent := b.token(t, "agent", "ana")

	gps := mediaFile(t, "photo-gps.jpg")
	require.True(t, hasGPS(gps), "the test photo carries GPS to begin with")

	r := b.do(t, http.MethodPost, "/v1/claims/"+id+"/evidence", shopper,
		fileUpload(t, `../../etc/passwd<script>.jpg`, gps, "kind", "photo", "caption", "The logo is misprinted"))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	f := r.json(t)
	require.Equal(t, "photo", f["kind"])
	require.Equal(t, "shopper", f["party"])
	require.Equal(t, "image/jpeg", f["content_type"])
	require.Equal(t, "The logo is misprinted", f["caption"])
	require.NotContains(t, string(r.Body), "passwd", "the upload's file name is never echoed")
	require.Equal(t, f["url"], r.Header.Get("Location"))

	// Served without its GPS, hashed as served.
	r = b.do(t, http.MethodGet, f["url"].(string), shopper, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.False(t, hasGPS(r.Body), "the served photo has no GPS")
	sum := sha256.Sum256(r.Body)
	require.Equal(t, hex.EncodeToString(sum[:]), f["sha256"])
	require.EqualValues(t, len(r.Body), f["size"])
	require.Equal(t, "image/jpeg", r.Header.Get("Content-Type"))
	require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "default-src 'none'; sandbox", r.Header.Get("Content-Security-Policy"))
	require.Contains(t, r.Header.Get("Content-Disposition"), "inline")
	require.Contains(t, r.Header.Get("Content-Disposition"), f["id"].(string)+".jpg")
	_, _, err := image.Decode(bytes.NewReader(r.Body))
	require.NoError(t, err, "the served photo is a JPEG")
	// The ETag answers 304.
	r2 := b.do(t, http.MethodGet, f["url"].(string), agent, nil, "If-None-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusNotModified, r2.Code)

	// The thumbnail: a small JPEG.
	r = b.do(t, http.MethodGet, f["thumbnail_url"].(string), agent, nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Equal(t, "image/jpeg", r.Header.Get("Content-Type"))
	cfg, _, err := image.DecodeConfig(bytes.NewReader(r.Body))
	require.NoError(t, err)
	require.LessOrEqual(t, max(cfg.Width, cfg.Height), 320)

	// A PNG and a PDF; the PDF is an attachment.
	r = b.do(t, http.MethodPost, "/v1/claims/"+id+"/evidence", shopper, fileUpload(t, "screen.png", mediaFile(t, "text.png")))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	require.Equal(t, "image/png", r.json(t)["content_type"])
	require.Equal(t, "photo", r.json(t)["kind"])
	r = b.do(t, http.MethodPost, "/v1/claims/"+id+"/evidence", shopper, fileUpload(t, "receipt.pdf", mediaFile(t, "receipt.pdf"), "kind", "receipt"))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	pdf := r.json(t)
	require.Equal(t, "application/pdf", pdf["content_type"])
	require.Nil(t, pdf["thumbnail_url"])
	r = b.do(t, http.MethodGet, pdf["url"].(string), agent, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Equal(t, "application/pdf", r.Header.Get("Content-Type"))
	require.Contains(t, r.Header.Get("Content-Disposition"), "attachment")
	require.Equal(t, mediaFile(t, "receipt.pdf"), r.Body)
	r = b.do(t, http.MethodGet, pdf["url"].(string)+"/thumbnail", agent, nil)
	require.Equal(t, http.StatusNotFound, r.Code, "a PDF has no thumbnail")

	// Staff and the shopper list all three, oldest first.
	list := b.evidence(t, id, agent)
	require.Len(t, list, 3)
	require.Len(t, b.evidence(t, id, shopper), 3)
	for _, role := range []string{"finance", "admin"} {
		require.Len(t, b.evidence(t, id, b.token(t, role, "staff")), 3, role)
	}
}

func TestEvidenceRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cl := b.claimIn(t, "closed", b.newSeller(t, "sel_evbad"))
	id, shopper := cl["id"].(string), b.token(t, "shopper", cl["shopper_id"].(string))
	path := "/v1/claims/" + id + "/evidence"
	jpeg := mediaFile(t, "photo-ii.jpg")

	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte{0}, 4096)...)
	big := append(append([]byte{}, jpeg...), bytes.Repeat([]byte{0xAB}, 11<<20)...)
	for _, tt := range []struct {
		name  string
		body  any
		ctype string
		want  int
		code  string
		field string
	}{
		{"an executable named photo.jpg", fileUpload(t, "photo.jpg", elf), "", http.StatusUnsupportedMediaType, "unsupported_file_type", "file"},
		{"HEIC", fileUpload(t, "photo.heic", mediaFile(t, "photo.heic")), "", http.StatusUnsupportedMediaType, "unsupported_file_type", "file"},
		{"HTML", fileUpload(t, "photo.jpg", []byte("<html><script>alert(1)</script></html>")), "", http.StatusUnsupportedMediaType, "unsupported_file_type", "file"},
		{"11 MB", fileUpload(t, "big.jpg", big), "", http.StatusRequestEntityTooLarge, "file_too_large", "file"},
		{"a truncated JPEG", fileUpload(t, "cut.jpg", jpeg[:len(jpeg)/2]), "", http.StatusUnprocessableEntity, "unreadable_file", "file"},
		{"an empty file", fileUpload(t, "empty.jpg", nil), "", http.StatusUnprocessableEntity, "unreadable_file", "file"},
		{"no file", multipartBody(t, part{name: "kind", data: []byte("photo")}), "", http.StatusUnprocessableEntity, "required", "file"},
		{"two files", multipartBody(t, part{name: "file", filename: "a.jpg", data: jpeg}, part{name: "file", filename: "b.jpg", data: jpeg}), "", http.StatusUnprocessableEntity, "one_file", "file"},
		{"an unknown kind", fileUpload(t, "a.jpg", jpeg, "kind", "selfie"), "", http.StatusUnprocessableEntity, "unknown_kind", "kind"},
		{"an unknown kind after the file", multipartBody(t, part{name: "file", filename: "a.jpg", data: jpeg}, part{name: "kind", data: []byte("selfie")}), "", http.StatusUnprocessableEntity, "unknown_kind", "kind"},
		{"a caption too long", multipartBody(t, part{name: "file", filename: "a.jpg", data: jpeg}, part{name: "caption", data: bytes.Repeat([]byte("é"), 501)}), "", http.StatusUnprocessableEntity, "invalid_caption", "caption"},
		{"a caption with control characters", fileUpload(t, "a.jpg", jpeg, "caption", "a\x00b"), "", http.StatusUnprocessableEntity, "invalid_caption", "caption"},
		{"an unknown part", fileUpload(t, "a.jpg", jpeg, "shopper_id", "someone"), "", http.StatusUnprocessableEntity, "unknown_field", "shopper_id"},
		{"JSON", map[string]any{"file": "x"}, "", http.StatusUnsupportedMediaType, "unsupported_media_type", ""},
		{"multipart without a boundary", "x", "multipart/form-data", http.StatusUnsupportedMediaType, "unsupported_media_type", ""},
		{"a broken multipart body", "--nope\r\nnot a part", "multipart/form-data; boundary=nope", http.StatusBadRequest, "malformed_multipart", ""},
	} {
		var headers []string
		if tt.ctype != "" {
			headers = []string{"Content-Type", tt.ctype}
		}
		r := b.do(t, http.MethodPost, path, shopper, tt.body, headers...)
		e := r.errorOf(t)
		require.Equal(t, tt.want, r.Code, "%s: %s", tt.name, r.Body)
		require.Equal(t, tt.code, e["code"], tt.name)
		if tt.field != "" {
			require.Equal(t, tt.field, e["field"], tt.name)
		}
		require.NotEmpty(t, e["message"], tt.name)
		require.Empty(t, b.evidence(t, id, shopper), "%s stored nothing", tt.name)
		blobs, notes := blobKeys(t, id)
		require.Zero(t, blobs, "%s left no blob", tt.name)
		require.Zero(t, notes, "%s left no note", tt.name)
	}
	// A claim that does not exist, or a bad id.
	for _, bad := range []string{"clm_none", "x%20y", string(bytes.Repeat([]byte("9"), 300))} {
		r := b.do(t, http.MethodPost, "/v1/claims/"+bad+"/evidence", shopper, fileUpload(t, "a.jpg", jpeg))
		require.Equal(t, http.StatusNotFound, r.Code, string(r.Body))
	}

	// Ten files fill the claim; the eleventh is refused and stores nothing.
	for i := range 10 {
		r := b.do(t, http.MethodPost, path, shopper, fileUpload(t, "a.jpg", jpeg))
		require.Equal(t, http.StatusCreated, r.Code, "file %d: %s", i+1, r.Body)
	}
	r := b.do(t, http.MethodPost, path, shopper, fileUpload(t, "a.jpg", jpeg))
	require.Equal(t, http.StatusUnprocessableEntity, r.Code, string(r.Body))
	require.Equal(t, "too_many_files", r.errorOf(t)["code"])
	require.Len(t, b.evidence(t, id, shopper), 10)
	blobs, _ := blobKeys(t, id)
	require.Equal(t, 20, blobs, "ten files and their thumbnails, no more")
}

// TestEvidenceWhoSeesWhat: the shopper's files reach staff and the
// shopper; never the seller or another shopper (404, as for nothing);
// the seller's contest files reach staff and the seller, not the shopper;
// a rights holder sees the shopper's photos once the claim is a
// confirmed counterfeit of their brand.
func TestEvidenceWhoSeesWhat(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sellerID := b.newSeller(t, "sel_evwho")
	cl := b.claimIn(t, "closed", sellerID)
	id, shopperID := cl["id"].(string), cl["shopper_id"].(string)
	shopper, seller := b.token(t, "shopper", shopperID), b.token(t, "seller", sellerID)
	other, otherSeller := b.token(t, "shopper", b.name("shp_other")), b.token(t, "seller", b.newSeller(t, "sel_evwho2"))
	agent := b.token(t, "agent", "ana")
	path := "/v1/claims/" + id + "/evidence"

	r := b.do(t, http.MethodPost, path, shopper, fileUpload(t, "a.jpg", mediaFile(t, "photo-ii.jpg")))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	photo := r.json(t)
	r = b.do(t, http.MethodPost, path, shopper, fileUpload(t, "r.pdf", mediaFile(t, "receipt.pdf"), "kind", "receipt"))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	receipt := r.json(t)
	r = b.do(t, http.MethodPost, path, seller, fileUpload(t, "invoice.pdf", mediaFile(t, "receipt.pdf"), "kind", "document", "caption", "Supplier invoice"))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	contest := r.json(t)
	require.Equal(t, "seller", contest["party"])

	ids := func(list []any) []string {
		var out []string
		for _, f := range list {
			out = append(out, f.(map[string]any)["id"].(string))
		}
		return out
	}
	// The test's clock stands still, so the three share a time: compare as sets.
	require.ElementsMatch(t, []string{photo["id"].(string), receipt["id"].(string), contest["id"].(string)}, ids(b.evidence(t, id, agent)))
	require.ElementsMatch(t, []string{photo["id"].(string), receipt["id"].(string)}, ids(b.evidence(t, id, shopper)), "the shopper sees their own")
	require.Equal(t, []string{contest["id"].(string)}, ids(b.evidence(t, id, seller)), "the seller sees only their contest files")

	// Each file is on the claim's timeline, seen by staff and by the party
	// who added it only, and goes out as claim.evidence_added.
	added := func(role, sub string) []string {
		var out []string
		for _, ev := range b.events(t, id, role, sub) {
			ev := ev.(map[string]any)
			if ev["type"] == "evidence_added" {
				require.Equal(t, ev["from"], ev["to"], "adding a file changes no status")
				if data, ok := ev["data"].(map[string]any); ok {
					out = append(out, data["evidence_id"].(string))
				} else {
					out = append(out, "")
				}
			}
		}
		return out
	}
	require.ElementsMatch(t, []string{photo["id"].(string), receipt["id"].(string), contest["id"].(string)}, added("agent", "ana"))
	require.ElementsMatch(t, []string{photo["id"].(string), receipt["id"].(string)}, added("shopper", shopperID), "the shopper's own")
	require.ElementsMatch(t, []string{contest["id"].(string)}, added("seller", sellerID), "the seller's own: never the shopper's")
	var outbound int
	require.NoError(t, store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM events WHERE claim_id = $1 AND type = 'claim.evidence_added'`, id).Scan(&outbound))
	require.Equal(t, 3, outbound)

	notFound := b.do(t, http.MethodGet, "/v1/claims/clm_none/evidence", agent, nil)
	require.Equal(t, http.StatusNotFound, notFound.Code)
	for _, tt := range []struct{ who, token, path string }{
		{"the seller, the shopper's photo", seller, photo["url"].(string)},
		{"the seller, the shopper's thumbnail", seller, photo["thumbnail_url"].(string)},
		{"the seller, the shopper's receipt", seller, receipt["url"].(string)},
		{"the shopper, the seller's file", shopper, contest["url"].(string)},
		{"another shopper, the photo", other, photo["url"].(string)},
		{"another shopper, the list", other, path},
		{"another seller, the list", otherSeller, path},
		{"another seller, the seller's file", otherSeller, contest["url"].(string)},
		{"a rights holder, no brand", b.token(t, "rights_holder", "rh_none"), path},
		{"a rights holder, no brand, the photo", b.token(t, "rights_holder", "rh_none"), photo["url"].(string)},
	} {
		r := b.do(t, http.MethodGet, tt.path, tt.token, nil)
		require.Equal(t, http.StatusNotFound, r.Code, "%s: %s", tt.who, r.Body)
		require.NotContains(t, string(r.Body), "\xff\xd8", tt.who)
	}
	// Another seller cannot upload to the claim; a seller without an open
	// charge is refused; nothing is stored either way.
	r = b.do(t, http.MethodPost, path, otherSeller, fileUpload(t, "a.jpg", mediaFile(t, "photo-ii.jpg")))
	require.Equal(t, http.StatusNotFound, r.Code, string(r.Body))
	review := b.claimIn(t, "in_review", sellerID)
	r = b.do(t, http.MethodPost, "/v1/claims/"+review["id"].(string)+"/evidence", seller, fileUpload(t, "a.jpg", mediaFile(t, "photo-ii.jpg")))
	require.Equal(t, http.StatusConflict, r.Code, string(r.Body))
	require.Equal(t, "no_open_charge", r.errorOf(t)["code"])
	require.Len(t, b.evidence(t, id, agent), 3)
}

// TestEvidenceRightsHolder: a brand's rights holder sees the shopper's
// photos of a counterfeit of their brand once it is confirmed (here by
// their verdict), not the shopper's receipts, nor before.
func TestEvidenceRightsHolder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc := b.token(t, "service", "platform")
	brand, holder := b.name("brand_ev"), b.name("rh_ev")
	r := b.do(t, http.MethodPut, "/v1/brands/"+brand, svc, map[string]any{"name": "Evidence Brand", "rights_holders": []string{holder}})
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	sellerID := b.newSeller(t, "sel_evrh")
	shopperID := b.name("shp_evrh")
	orderID := b.name("ord_evrh")
	order := orderBody(b, sellerID, shopperID, "pay_"+orderID)
	order["items"].([]map[string]any)[0]["brand"] = brand
	r = b.do(t, http.MethodPut, "/v1/orders/"+orderID, svc, order)
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	shopper := b.token(t, "shopper", shopperID)
	r = b.do(t, http.MethodPost, "/v1/claims", shopper, claimBody(orderID))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	id := r.json(t)["id"].(string)
	runRefund(t, id, b.now)
	runChargeSeller(t, id, b.now)
	path := "/v1/claims/" + id + "/evidence"
	r = b.do(t, http.MethodPost, path, shopper, fileUpload(t, "a.jpg", mediaFile(t, "photo-gps.jpg")))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	photo := r.json(t)
	r = b.do(t, http.MethodPost, path, shopper, fileUpload(t, "r.pdf", mediaFile(t, "receipt.pdf"), "kind", "receipt"))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))

	rh := b.token(t, "rights_holder", holder)
	r = b.do(t, http.MethodGet, path, rh, nil)
	require.Equal(t, http.StatusNotFound, r.Code, "pending, not confirmed: %s", r.Body)
	r = b.do(t, http.MethodPut, "/v1/brands/"+brand+"/counterfeits/"+id+"/verdict", rh,
		map[string]any{"verdict": "counterfeit", "note": "The serial number was never issued."})
	require.Contains(t, []int{200, 201}, r.Code, string(r.Body))

	list := b.evidence(t, id, rh)
	require.Len(t, list, 1, "the photo, not the receipt")
	require.Equal(t, photo["id"], list[0].(map[string]any)["id"])
	r = b.do(t, http.MethodGet, photo["url"].(string), rh, nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.False(t, hasGPS(r.Body), "a rights holder gets the photo without its metadata")
	// Both reads are in the intelligence access log, as every rights
	// holder's read is.
	r = b.do(t, http.MethodGet, "/v1/intelligence/access-log?limit=500", b.token(t, "admin", "root"), nil)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	var logged []string
	for _, e := range r.json(t)["entries"].([]any) {
		e := e.(map[string]any)
		if e["subject"] == holder && e["resource"] == "claim:"+id && e["action"] != "verdict" {
			logged = append(logged, e["action"].(string))
		}
	}
	require.ElementsMatch(t, []string{"evidence", "evidence_file"}, logged)
	// Another brand's rights holder sees nothing.
	r = b.do(t, http.MethodGet, path, b.token(t, "rights_holder", b.name("rh_other")), nil)
	require.Equal(t, http.StatusNotFound, r.Code)
}

// TestEvidenceSweep: blobs of an upload that never got its row are
// deleted after an hour, and deleting evidence rows deletes their blobs.
func TestEvidenceSweep(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cl := b.claimIn(t, "closed", b.newSeller(t, "sel_evsweep"))
	id, shopper := cl["id"].(string), b.token(t, "shopper", cl["shopper_id"].(string))
	r := b.do(t, http.MethodPost, "/v1/claims/"+id+"/evidence", shopper, fileUpload(t, "a.jpg", mediaFile(t, "photo-ii.jpg")))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))

	ctx := context.Background()
	// An upload whose process died after storing: a note and a blob, no row.
	orphan := "evidence/" + id + "/evd_orphan"
	_, err := store.Pool().Exec(ctx, `INSERT INTO evidence_blob_gc VALUES ($1, 'pending', $2)`, orphan, b.now.Add(-2*time.Hour))
	require.NoError(t, err)
	_, err = store.Pool().Exec(ctx, `INSERT INTO evidence_blobs VALUES ($1, 0, '\x01')`, orphan)
	require.NoError(t, err)
	blobs, _ := blobKeys(t, id)
	require.Equal(t, 3, blobs)

	_, err = b.evidenceSvc.Sweep(ctx)
	require.NoError(t, err)
	blobs, _ = blobKeys(t, id)
	require.Equal(t, 2, blobs, "the orphan is gone, the file and its thumbnail stay")

	// The claim's data erased: its evidence rows deleted, then the sweep.
	_, err = store.Pool().Exec(ctx, `DELETE FROM evidence WHERE claim_id = $1`, id)
	require.NoError(t, err)
	_, err = b.evidenceSvc.Sweep(ctx)
	require.NoError(t, err)
	blobs, notes := blobKeys(t, id)
	require.Zero(t, blobs)
	require.Zero(t, notes)
}

// TestEvidenceSlowClientCutOff: an upload that stops sending is cut off
// once it has sent nothing for StreamIdle, over a real connection, and
// stores nothing; one that keeps sending slowly but steadily gets through.
func TestEvidenceSlowClientCutOff(t *testing.T) {
	t.Parallel()
	b := setupOn(t, store, func(d *httpapi.Deps) { d.StreamIdle = 300 * time.Millisecond })
	srv := httptest.NewServer(b.e)
	t.Cleanup(srv.Close)
	cl := b.claimIn(t, "closed", b.newSeller(t, "sel_evslow"))
	id, shopper := cl["id"].(string), b.token(t, "shopper", cl["shopper_id"].(string))
	body := fileUpload(t, "a.jpg", mediaFile(t, "photo-ii.jpg"))

	send := func(stall bool) (int, error) {
		pr, pw := io.Pipe()
		go func() {
			half := len(body.data) / 2
			_, _ = pw.Write(body.data[:half])
			if stall {
				// Nothing more until the server has given up on us.
				time.Sleep(2 * time.Second)
				_ = pw.CloseWithError(errors.New("client gave up"))
				return
			}
			for i := half; i < len(body.data); i += 4096 {
				time.Sleep(20 * time.Millisecond)
				_, _ = pw.Write(body.data[i:min(i+4096, len(body.data))])
			}
			_ = pw.Close()
		}()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/claims/"+id+"/evidence", pr)
		require.NoError(t, err)
		req.Header.Set("Content-Type", body.contentType)
		req.Header.Set("Authorization", "Bearer "+shopper)
		resp, err := srv.Client().Do(req)
		if err != nil {
			return 0, err
		}
		defer func() { _ = resp.Body.Close() }()
		out, _ := io.ReadAll(resp.Body)
		t.Logf("stall=%v: %d %s", stall, resp.StatusCode, out)
		return resp.StatusCode, nil
	}
	code, err := send(true)
	if err == nil {
		// The server answered before closing: 408, not a success.
		require.Equal(t, http.StatusRequestTimeout, code)
	}
	require.Empty(t, b.evidence(t, id, shopper), "the stalled upload stored nothing")
	blobs, notes := blobKeys(t, id)
	require.Zero(t, blobs)
	require.Zero(t, notes)

	code, err = send(false)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code, "a slow but steady upload gets through")
	require.Len(t, b.evidence(t, id, shopper), 1)
}

// registerBinaryBodies lets the document's validator read the files the
// evidence routes serve as the opaque bytes they are.
var registerBinaryBodies = sync.OnceFunc(func() {
	for _, ct := range []string{"image/jpeg", "image/png", "image/webp", "application/pdf"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
})

// evidence checks the evidence routes' requests and answers against the
// document: an upload and each refusal, the list, a file, a thumbnail.
func (cf *conformance) evidence(t *testing.T) {
	registerBinaryBodies()
	b := cf.b
	sellerID := b.newSeller(t, "sel_oaev")
	cl := b.claimIn(t, "closed", sellerID)
	id := cl["id"].(string)
	shopper, seller := b.token(t, "shopper", cl["shopper_id"].(string)), b.token(t, "seller", sellerID)
	agent := b.token(t, "agent", "ana")
	path := "/v1/claims/" + id + "/evidence"
	photo := mediaFile(t, "photo-gps.jpg")

	r := cf.run(t, apiCall{name: "evidence: uploaded", method: http.MethodPost, path: path, token: shopper,
		body: fileUpload(t, "a.jpg", photo, "kind", "photo", "caption", "The logo"), want: 201})
	f := r.json(t)
	review := b.claimIn(t, "in_review", sellerID)
	for _, c := range []apiCall{
		{name: "evidence: seller's document", token: seller, body: fileUpload(t, "r.pdf", mediaFile(t, "receipt.pdf"), "kind", "document"), want: 201},
		{name: "evidence: broken multipart", token: shopper, body: upload{contentType: "multipart/form-data; boundary=x", data: []byte("--x\r\nbroken")}, want: 400, rejected: true},
		{name: "evidence: no token", body: fileUpload(t, "a.jpg", photo), want: 401, rejected: true},
		{name: "evidence: agent", token: agent, body: fileUpload(t, "a.jpg", photo), want: 403},
		{name: "evidence: another shopper", token: b.token(t, "shopper", b.name("shp_oaev")), body: fileUpload(t, "a.jpg", photo), want: 404},
		{name: "evidence: seller without an open charge", path: "/v1/claims/" + review["id"].(string) + "/evidence", token: seller, body: fileUpload(t, "a.jpg", photo), want: 409},
		{name: "evidence: too large", token: shopper, body: fileUpload(t, "a.jpg", append(append([]byte{}, photo...), make([]byte, 10<<20)...)), want: 413},
		{name: "evidence: JSON", token: shopper, body: map[string]any{"file": "x"}, want: 415, rejected: true},
		{name: "evidence: an executable", token: shopper, body: fileUpload(t, "a.jpg", []byte("MZ\x90\x00"+strings.Repeat("\x00", 600))), want: 415},
		{name: "evidence: truncated", token: shopper, body: fileUpload(t, "a.jpg", photo[:len(photo)/2]), want: 422},
		{name: "evidence: unknown kind", token: shopper, body: fileUpload(t, "a.jpg", photo, "kind", "selfie"), want: 422, rejected: true},
		{name: "evidence: no file", token: shopper, body: multipartBody(t, part{name: "kind", data: []byte("photo")}), want: 422, rejected: true},
	} {
		c.method = http.MethodPost
		if c.path == "" {
			c.path = path
		}
		cf.run(t, c)
	}
	holder := b.token(t, "rights_holder", b.name("rh_oaev"))
	for _, c := range []apiCall{
		{name: "evidence: list", path: path, token: agent, want: 200},
		{name: "evidence: list, seller", path: path, token: seller, want: 200},
		{name: "evidence: list, no token", path: path, want: 401, rejected: true},
		{name: "evidence: list, service", path: path, token: cf.b.token(t, "service", "platform"), want: 403},
		{name: "evidence: list, a rights holder of no brand", path: path, token: holder, want: 404},
		{name: "evidence: file", path: f["url"].(string), token: shopper, want: 200},
		{name: "evidence: file, not modified", path: f["url"].(string), token: agent, headers: []string{"If-None-Match", `"` + f["sha256"].(string) + `"`}, want: 304},
		{name: "evidence: file, no token", path: f["url"].(string), want: 401, rejected: true},
		{name: "evidence: file, service", path: f["url"].(string), token: cf.b.token(t, "service", "platform"), want: 403},
		{name: "evidence: file, the seller", path: f["url"].(string), token: seller, want: 404},
		{name: "evidence: thumbnail", path: f["thumbnail_url"].(string), token: agent, want: 200},
		{name: "evidence: thumbnail, not modified", path: f["thumbnail_url"].(string), token: agent, headers: []string{"If-None-Match", `"t-` + f["sha256"].(string) + `"`}, want: 304},
		{name: "evidence: thumbnail, no token", path: f["thumbnail_url"].(string), want: 401, rejected: true},
		{name: "evidence: thumbnail, service", path: f["thumbnail_url"].(string), token: cf.b.token(t, "service", "platform"), want: 403},
		{name: "evidence: thumbnail, the seller", path: f["thumbnail_url"].(string), token: seller, want: 404},
	} {
		c.method = http.MethodGet
		cf.run(t, c)
	}
}

// TestEvidenceRateLimit: a shopper's uploads past the limit get 429
// with Retry-After, and store nothing.
func TestEvidenceRateLimit(t *testing.T) {
	t.Parallel()
	b := setupOn(t, store, func(d *httpapi.Deps) {
		d.Evidence = evidenceflow.NewService(store, d.Claims, blobstore.NewPostgres(store.Pool()), media.Reader{},
			evidenceflow.Config{Limiter: claimflow.NewClaimLimiter(1, 2, d.Now)}, d.Now)
	})
	cl := b.claimIn(t, "closed", b.newSeller(t, "sel_evrate"))
	id, shopper := cl["id"].(string), b.token(t, "shopper", cl["shopper_id"].(string))
	path := "/v1/claims/" + id + "/evidence"
	for range 2 {
		r := b.do(t, http.MethodPost, path, shopper, fileUpload(t, "a.jpg", mediaFile(t, "photo-ii.jpg")))
		require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	}
	r := b.do(t, http.MethodPost, path, shopper, fileUpload(t, "a.jpg", mediaFile(t, "photo-ii.jpg")))
	require.Equal(t, http.StatusTooManyRequests, r.Code, string(r.Body))
	require.Equal(t, "rate_limited", r.errorOf(t)["code"])
	require.NotEmpty(t, r.Header.Get("Retry-After"))
	require.Len(t, b.evidence(t, id, shopper), 2)
	// Another shopper is not slowed.
	other := b.claimIn(t, "closed", b.newSeller(t, "sel_evrate2"))
	r = b.do(t, http.MethodPost, "/v1/claims/"+other["id"].(string)+"/evidence", b.token(t, "shopper", other["shopper_id"].(string)),
		fileUpload(t, "a.jpg", mediaFile(t, "photo-ii.jpg")))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
}

// TestEvidenceLastPlaceRace: uploads racing for a claim's last place:
// exactly one gets it, the others are refused, and no blob outlives its
// refused upload.
func TestEvidenceLastPlaceRace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cl := b.claimIn(t, "closed", b.newSeller(t, "sel_evrace"))
	id, shopper := cl["id"].(string), b.token(t, "shopper", cl["shopper_id"].(string))
	path := "/v1/claims/" + id + "/evidence"
	photo := mediaFile(t, "photo-ii.jpg")
	for range 9 {
		r := b.do(t, http.MethodPost, path, shopper, fileUpload(t, "a.jpg", photo))
		require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	}
	const racers = 8
	codes := make(chan int, racers)
	var wg sync.WaitGroup
	for range racers {
		wg.Go(func() { codes <- b.do(t, http.MethodPost, path, shopper, fileUpload(t, "a.jpg", photo)).Code })
	}
	wg.Wait()
	close(codes)
	won := 0
	for c := range codes {
		if c == http.StatusCreated {
			won++
			continue
		}
		require.Equal(t, http.StatusUnprocessableEntity, c)
	}
	require.Equal(t, 1, won, "one upload takes the last place")
	require.Len(t, b.evidence(t, id, shopper), 10)
	blobs, notes := blobKeys(t, id)
	require.Equal(t, 20, blobs, "ten files and their thumbnails: the refused uploads' blobs are gone")
	require.Zero(t, notes)
}

// TestEvidenceDecodeBudget: an image whose decoding alone would take
// more than the engine's decode budget is refused before it is decoded,
// with a message that says why; one within it is taken.
func TestEvidenceDecodeBudget(t *testing.T) {
	t.Parallel()
	b := setupOn(t, store, func(d *httpapi.Deps) {
		d.Evidence = evidenceflow.NewService(store, d.Claims, blobstore.NewPostgres(store.Pool()), media.Reader{},
			evidenceflow.Config{DecodeMemory: 8 << 20}, d.Now)
	})
	cl := b.claimIn(t, "closed", b.newSeller(t, "sel_evdecode"))
	id, shopper := cl["id"].(string), b.token(t, "shopper", cl["shopper_id"].(string))
	path := "/v1/claims/" + id + "/evidence"
	// 4000×250 stored progressively at full colour: ~21 MB to decode.
	r := b.do(t, http.MethodPost, path, shopper, fileUpload(t, "a.jpg", mediaFile(t, "progressive-444.jpg")))
	require.Equal(t, http.StatusUnprocessableEntity, r.Code, string(r.Body))
	e := r.errorOf(t)
	require.Equal(t, "unreadable_file", e["code"])
	require.Contains(t, e["message"], "too large to open here")
	require.Empty(t, b.evidence(t, id, shopper))
	blobs, notes := blobKeys(t, id)
	require.Zero(t, blobs)
	require.Zero(t, notes)
	r = b.do(t, http.MethodPost, path, shopper, fileUpload(t, "a.jpg", mediaFile(t, "photo-gps.jpg")))
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
}
