package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/claimsd/claimsd/domain/evidence"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

// thumbQuality is the thumbnails' JPEG quality: small files, no visible
// blocks at 320 pixels.
const thumbQuality = 80

// Thumbnail decodes a cleaned image (its header first, to refuse one over
// evidence.MaxPixels before allocating its pixels) and returns a JPEG at
// most side pixels on its longer side (a smaller image is not enlarged),
// turned upright by info.Orientation, with any transparency on white.
//
//	thumb, err := media.Reader{}.Thumbnail(blob, info, evidence.ThumbSide)
//
// Errors: *evidence.UnreadableError when the image cannot be decoded
// (a WebP's animation cannot), src's own errors wrapped, and an error for
// a PDF or a side under 1, which are the caller's mistakes.
func (Reader) Thumbnail(src io.Reader, info evidenceflow.Info, side int) ([]byte, error) {
	if side < 1 {
		return nil, fmt.Errorf("thumbnail of side %d: must be at least 1", side)
	}
	var (
		kind   string
		config func(io.Reader) (image.Config, error)
		decode func(io.Reader) (image.Image, error)
	)
	switch info.ContentType {
	case evidence.TypeJPEG:
		kind, config, decode = "JPEG", jpeg.DecodeConfig, jpeg.Decode
	case evidence.TypePNG:
		kind, config, decode = "PNG", png.DecodeConfig, png.Decode
	case evidence.TypeWebP:
		kind, config, decode = "WebP", webp.DecodeConfig, webp.Decode
	default:
		return nil, fmt.Errorf("thumbnail of %q: not an image", info.ContentType)
	}
	unreadable := func(format string, args ...any) error {
		return &evidence.UnreadableError{Reason: "the " + kind + " " + fmt.Sprintf(format, args...)}
	}

	// The header's bytes are kept to be read again by the decoder.
	r := &errReader{r: src}
	var head bytes.Buffer
	cfg, err := config(io.TeeReader(r, &head))
	if r.err != nil {
		return nil, fmt.Errorf("read the image: %w", r.err)
	}
	if err != nil {
		return nil, unreadable("cannot be decoded (%v)", err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > evidence.MaxPixels {
		return nil, unreadable("is %d×%d pixels, over the %d million taken", cfg.Width, cfg.Height, evidence.MaxPixels/1_000_000)
	}
	img, err := decode(io.MultiReader(&head, r))
	if r.err != nil {
		return nil, fmt.Errorf("read the image: %w", r.err)
	}
	if err != nil {
		return nil, unreadable("cannot be decoded (%v)", err)
	}

	thumb := upright(shrink(img, side), info.Orientation)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, thumb, &jpeg.Options{Quality: thumbQuality}); err != nil {
		return nil, fmt.Errorf("encode the thumbnail: %w", err)
	}
	return out.Bytes(), nil
}

// errReader keeps the error of a read other than the end of src, so the
// source's own failure is told from the decoder's complaint.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}

// shrink draws img on white at most side pixels on its longer side.
func shrink(img image.Image, side int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if long := max(w, h); long > side {
		w = max(1, (w*side+long/2)/long)
		h = max(1, (h*side+long/2)/long)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
	return dst
}

// upright turns an image stored with an EXIF orientation (1–8) the way it
// is meant to be seen. Orientations 5–8 swap width and height.
func upright(src *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		for x := range dw {
			// (sx, sy) is the stored pixel shown at (x, y).
			var sx, sy int
			switch o {
			case 2: // mirrored
				sx, sy = w-1-x, y
			case 3: // upside down
				sx, sy = w-1-x, h-1-y
			case 4: // upside down and mirrored
				sx, sy = x, h-1-y
			case 5: // transposed
				sx, sy = y, x
			case 6: // to be turned 90° clockwise
				sx, sy = y, h-1-x
			case 7: // transversed
				sx, sy = w-1-y, h-1-x
			case 8: // to be turned 90° anticlockwise
				sx, sy = w-1-y, x
			}
			copy(dst.Pix[dst.PixOffset(x, y):][:4], src.Pix[src.PixOffset(sx, sy):][:4])
		}
	}
	return dst
}
