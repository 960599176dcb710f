package console

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/intelflow"
)

// The pages where a brand's rights holder sees the shopper's photos of a
// confirmed counterfeit of their brand (evidenceflow decides which: the
// shopper's photos, none of their receipts or words; every read goes to
// the intelligence access log).
const (
	pathBrandPhotos = "/console/brands/:id/claims/:claim_id/photos"
	pathBrandFile   = "/console/brands/:id/claims/:claim_id/evidence/:eid"
)

func (c *console) brandEvidenceRoutes(holders []claimflow.Role) {
	if c.Evidence == nil {
		return
	}
	c.get(pathBrandPhotos, c.brandPhotosPage, holders...)
	c.get(pathBrandFile, c.brandFile(false), holders...)
	c.get(pathBrandFile+thumbnailPathSuffix, c.brandFile(true), holders...)
}

// brandOf returns the brand in the path if the viewer may read it; any
// other is not found.
func (c *console) brandOf(ec echo.Context) (intelflow.BrandRef, error) {
	brands, err := c.Intel.Brands(ec.Request().Context(), viewerOf(ec))
	if err != nil {
		return intelflow.BrandRef{}, err
	}
	for _, b := range brands {
		if b.ID == ec.Param("id") {
			return b, nil
		}
	}
	return intelflow.BrandRef{}, errNotFound
}

type brandPhotosData struct {
	Brand   intelflow.BrandRef
	ClaimID string
	Back    string
	Files   []fileView
}

// brandPhotosPage shows the shopper's photos of one of the brand's
// confirmed counterfeits, without their captions (the shopper's words).
func (c *console) brandPhotosPage(ec echo.Context) error {
	ec = intelContext(ec)
	b, err := c.brandOf(ec)
	if err != nil {
		return err
	}
	claimID := ec.Param("claim_id")
	files, err := c.Evidence.List(ec.Request().Context(), viewerOf(ec), claimID)
	if err != nil {
		return err
	}
	d := brandPhotosData{Brand: b, ClaimID: claimID, Back: "/console/brands/" + url.PathEscape(b.ID) + "#claim-" + claimID}
	base := "/console/brands/" + url.PathEscape(b.ID) + "/claims/"
	for i, f := range files {
		v := newFileView(f, base, i+1)
		v.Caption = ""
		d.Files = append(d.Files, v)
	}
	return c.render(ec, http.StatusOK, "brand_photos", pageData{Title: "Photos of claim " + claimID, Data: d})
}

// brandFile serves one of those photos, or its thumbnail.
func (c *console) brandFile(thumb bool) echo.HandlerFunc {
	return func(ec echo.Context) error {
		ec = intelContext(ec)
		if _, err := c.brandOf(ec); err != nil {
			return err
		}
		return c.serveFile(ec, ec.Param("claim_id"), thumb)
	}
}
