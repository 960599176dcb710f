package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/auth"
	"github.com/claimsd/claimsd/adapters/blobstore"
	"github.com/claimsd/claimsd/adapters/httpapi"
	"github.com/claimsd/claimsd/adapters/media"
	"github.com/claimsd/claimsd/adapters/policyfile"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

// BenchmarkEvidenceUpload uploads files through the real router into
// this database's blob store, one at a time and eight at once, and
// reports the live heap's peak above what was live before (peak-heap-MB)
// and MB/s: the upload streams, so the heap does not grow with the
// file, only with an image's pixels while its thumbnail is made.
//
//	TEST_DATABASE_URL=… go test -run '^$' -bench EvidenceUpload -benchtime 16x ./adapters/httpapi/
func BenchmarkEvidenceUpload(b *testing.B) {
	svc := claimflow.NewService(store, policyfile.Default(), time.Now)
	e := httpapi.New(httpapi.Deps{Claims: svc, Secret: secret, Now: time.Now,
		Evidence: evidenceflow.NewService(store, svc, blobstore.NewPostgres(store.Pool()), media.Reader{}, evidenceflow.Config{}, time.Now)})
	files := []struct {
		name string
		data []byte
	}{
		{"jpeg-1MB", noiseJPEG(b, 820, 610)},
		{"jpeg-9MB", noiseJPEG(b, 2400, 1800)},
		{"pdf-9.4MB", append(append([]byte("%PDF-1.4\n%"), bytes.Repeat([]byte("0123456789abcdef"), 9400<<6)...), "\n%%EOF\n"...)},
	}
	for _, f := range files {
		for _, conc := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/concurrency=%d", f.name, conc), func(b *testing.B) {
				body := fileUpload(&testing.T{}, "a", f.data)
				claims := benchClaims(b, e, (b.N+9)/10)
				var next atomic.Int64
				var failed atomic.Int64
				b.SetBytes(int64(len(f.data)))
				b.ResetTimer()
				peak := heapPeak(func() {
					var wg sync.WaitGroup
					for range conc {
						wg.Go(func() {
							for {
								i := int(next.Add(1)) - 1
								if i >= b.N {
									return
								}
								c := claims[i/10]
								req := httptest.NewRequest(http.MethodPost, "/v1/claims/"+c.id+"/evidence", bytes.NewReader(body.data))
								req.Header.Set("Content-Type", body.contentType)
								req.Header.Set("Authorization", "Bearer "+c.token)
								rec := httptest.NewRecorder()
								e.ServeHTTP(rec, req)
								if rec.Code != http.StatusCreated {
									failed.Add(1)
									b.Logf("upload: %d %s", rec.Code, rec.Body)
								}
							}
						})
					}
					wg.Wait()
				})
				b.StopTimer()
				if failed.Load() > 0 {
					b.Fatalf("%d uploads failed", failed.Load())
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			})
		}
	}
}

// noiseJPEG is a photo-sized JPEG of noise at the best quality: about as
// large as a photo of its size can be.
func noiseJPEG(b *testing.B, w, h int) []byte {
	b.Helper()
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Y {
		img.Y[i] = uint8(r.Uint32())
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = uint8(r.Uint32()), uint8(r.Uint32())
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

type benchClaim struct{ id, token string }

// benchClaims files n claims, each of its own shopper, through the API.
func benchClaims(b *testing.B, e *echo.Echo, n int) []benchClaim {
	b.Helper()
	do := func(method, path, token string, body any) map[string]any {
		raw, _ := json.Marshal(body)
		req := httptest.NewRequest(method, path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code >= 300 {
			b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return out
	}
	mint := func(role claimflow.Role, sub string) string {
		tok, err := auth.MintToken(secret, role, sub, time.Hour, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		return tok
	}
	svc := mint(claimflow.RoleService, "platform")
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	sellerID := "sel_evbench_" + run
	do(http.MethodPut, "/v1/sellers/"+sellerID, svc, map[string]any{"name": "Bench", "risk_score": 10, "verified": true})
	out := make([]benchClaim, n)
	for i := range out {
		shopper, orderID := fmt.Sprintf("shp_evbench_%s_%d", run, i), fmt.Sprintf("ord_evbench_%s_%d", run, i)
		now := time.Now().UTC()
		do(http.MethodPut, "/v1/orders/"+orderID, svc, map[string]any{
			"buyer_id": shopper, "seller_id": sellerID, "currency": "EUR", "amount": 1000,
			"items":   []map[string]any{{"sku": "sku_a", "name": "Thing", "quantity": 1, "unit_amount": 1000}},
			"payment": map[string]any{"provider": "sandbox", "reference": "pay_" + orderID},
			"paid_at": now.Add(-72 * time.Hour).Format(time.RFC3339), "delivered_at": now.Add(-24 * time.Hour).Format(time.RFC3339),
		})
		tok := mint(claimflow.RoleShopper, shopper)
		cl := do(http.MethodPost, "/v1/claims", tok, claimBody(orderID))
		out[i] = benchClaim{id: cl["id"].(string), token: tok}
	}
	return out
}
