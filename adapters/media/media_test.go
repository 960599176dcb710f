package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	_ "golang.org/x/image/webp" // for image.Decode

	"github.com/claimsd/claimsd/adapters/media"
	"github.com/claimsd/claimsd/domain/evidence"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

// spool is an in-memory evidenceflow.Spool.
type spool struct{ b []byte }

func (s *spool) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *spool) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(s.b)) {
		return 0, fmt.Errorf("write at %d: past the end (%d)", off, len(s.b))
	}
	return copy(s.b[off:], p), nil
}

// clean runs Clean on b and returns what it wrote.
func clean(b []byte) (evidenceflow.Info, []byte, error) {
	var s spool
	info, err := media.Reader{}.Clean(&s, bytes.NewReader(b))
	return info, s.b, err
}

func mustClean(t *testing.T, b []byte) (evidenceflow.Info, []byte) {
	t.Helper()
	info, out, err := clean(b)
	require.NoError(t, err)
	return info, out
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	return img
}

// requireSamePixels fails unless a and b are the same size and every pixel
// is the same colour.
func requireSamePixels(t *testing.T, a, b image.Image) {
	t.Helper()
	require.Equal(t, a.Bounds(), b.Bounds())
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			require.Equal(t, color.RGBA64Model.Convert(a.At(x, y)), color.RGBA64Model.Convert(b.At(x, y)), "pixel (%d, %d)", x, y)
		}
	}
}

// segment is a JPEG marker segment (payload nil for SOI and EOI).
type segment struct {
	marker  byte
	payload []byte
}

// jpegSegments lists a JPEG's marker segments, stepping over scans'
// entropy-coded data.
func jpegSegments(t *testing.T, b []byte) []segment {
	t.Helper()
	var segs []segment
	i := 0
	for i < len(b) {
		require.Equal(t, byte(0xFF), b[i], "a marker at %d", i)
		m := b[i+1]
		i += 2
		if m == 0xD8 || m == 0xD9 {
			segs = append(segs, segment{marker: m})
			continue
		}
		n := int(binary.BigEndian.Uint16(b[i:]))
		segs = append(segs, segment{marker: m, payload: b[i+2 : i+n]})
		i += n
		if m != 0xDA {
			continue
		}
		for ; i+1 < len(b); i++ {
			if b[i] == 0xFF && b[i+1] != 0 && (b[i+1] < 0xD0 || b[i+1] > 0xD7) {
				break
			}
		}
	}
	return segs
}

func markers(segs []segment) []byte {
	var ms []byte
	for _, s := range segs {
		ms = append(ms, s.marker)
	}
	return ms
}

// encodeJPEG encodes a w×h gradient.
func encodeJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}))
	return buf.Bytes()
}

// withSegments inserts marker segments after a JPEG's SOI.
func withSegments(jpg []byte, segs ...segment) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segs {
		out = append(out, 0xFF, s.marker)
		out = binary.BigEndian.AppendUint16(out, uint16(len(s.payload)+2))
		out = append(out, s.payload...)
	}
	return append(out, jpg[2:]...)
}

// personal are the strings the test files' metadata holds.
var personal = []string{
	"GPS", "http://ns.adobe.com/xap", "Shot at my home address", "Jane Shopper",
	"Acme", "SN123456789", "secretkeyword", "Photoshop", "Exif\x00\x00II",
}

func TestSniff(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		name      string
		give      string
		want      string // a content type
		wantFound string // or the UnsupportedError's Found
	}{
		{name: "JPEG", give: "\xff\xd8\xff\xe0", want: evidence.TypeJPEG},
		{name: "PNG", give: "\x89PNG\r\n\x1a\n\x00", want: evidence.TypePNG},
		{name: "WebP", give: "RIFF\x10\x00\x00\x00WEBPVP8 ", want: evidence.TypeWebP},
		{name: "PDF", give: "%PDF-1.7\n", want: evidence.TypePDF},
		{name: "PE", give: "MZ\x90\x00\x03\x00\x00\x00", wantFound: "an executable"},
		{name: "ELF", give: "\x7fELF\x02\x01\x01\x00", wantFound: "an executable"},
		{name: "MachO", give: "\xcf\xfa\xed\xfe\x07\x00\x00\x01", wantFound: "an executable"},
		{name: "ZIP", give: "PK\x03\x04\x14\x00", wantFound: "a ZIP archive"},
		{name: "GIF", give: "GIF89a\x01\x00", wantFound: "a GIF"},
		{name: "HEIC", give: "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", wantFound: "HEIC"},
		{name: "HEIFMif1", give: "\x00\x00\x00\x14ftypmif1\x00\x00\x00\x00heix", wantFound: "HEIC"},
		{name: "AVIF", give: "\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", wantFound: "AVIF"},
		{name: "MP4", give: "\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", wantFound: "a video"},
		{name: "HTML", give: "<!doctype html><script>", wantFound: "an HTML or text file"},
		{name: "Text", give: "Quittung Nr. 42 — 12,00 €\n", wantFound: "an HTML or text file"},
		{name: "TextCutMidRune", give: "Preis: 12 \xe2\x82", wantFound: "an HTML or text file"},
		{name: "Binary", give: "\x00\x01\x02\x03\x04", wantFound: ""},
		{name: "JPEGLikePrefix", give: "\xff\xd8", wantFound: ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := media.Sniff([]byte(tt.give))
			if tt.want != "" {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				return
			}
			var unsupported *evidence.UnsupportedError
			require.ErrorAs(t, err, &unsupported)
			require.Equal(t, tt.wantFound, unsupported.Found)
		})
	}

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		_, err := media.Sniff(nil)
		var unreadable *evidence.UnreadableError
		require.ErrorAs(t, err, &unreadable)
		require.Equal(t, "the file is empty", unreadable.Reason)
	})
}

func TestCleanJPEG(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		file            string
		wantOrientation int
	}{
		{file: "photo-gps.jpg", wantOrientation: 6},   // big-endian EXIF, IPTC, XMP, comment
		{file: "photo-ii.jpg", wantOrientation: 8},    // little-endian EXIF
		{file: "progressive.jpg", wantOrientation: 6}, // ten scans
		{file: "restart.jpg", wantOrientation: 6},     // restart markers
	} {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			in := readTestdata(t, tt.file)
			info, out := mustClean(t, in)
			require.Equal(t, evidenceflow.Info{ContentType: evidence.TypeJPEG, Width: 160, Height: 120, Orientation: tt.wantOrientation}, withoutCost(t, info))

			for _, s := range personal {
				require.NotContains(t, string(out), s)
			}
			segs := jpegSegments(t, out)
			for _, s := range segs {
				switch {
				case s.marker == 0xE1:
					require.Equal(t, "Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00"+string(rune(tt.wantOrientation))+"\x00\x00\x00\x00\x00\x00", string(s.payload))
				case s.marker == 0xE0:
					require.Equal(t, "JFIF\x00", string(s.payload[:5]))
				case s.marker >= 0xE2 && s.marker <= 0xEF, s.marker == 0xFE:
					require.Failf(t, "metadata kept", "marker 0x%02X", s.marker)
				}
			}
			// The orientation segment follows SOI (these files have no JFIF).
			require.Equal(t, []byte{0xD8, 0xE1, 0xDB}, markers(segs)[:3])
			require.Equal(t, byte(0xD9), segs[len(segs)-1].marker)

			requireSamePixels(t, decode(t, in), decode(t, out))
		})
	}

	t.Run("KeepsColourDropsTheRest", func(t *testing.T) {
		t.Parallel()
		jfif := []byte("JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x01\x01\x11\x22\x33") // with a 1×1 thumbnail
		in := withSegments(encodeJPEG(t, 32, 24),
			segment{0xE0, jfif},
			segment{0xE2, []byte("ICC_PROFILE\x00\x01\x01fake profile")},
			segment{0xE2, []byte("MPF\x00extra images")},
			segment{0xED, []byte("Photoshop 3.0\x008BIM")},
			segment{0xEE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x01")},
			segment{0xEB, []byte("JP\x00maker data")},
			segment{0xFE, []byte("Shot at my home address")},
		)
		info, out := mustClean(t, in)
		require.Equal(t, 1, info.Orientation)
		segs := jpegSegments(t, out)
		var kept []segment
		for _, s := range segs {
			if s.marker >= 0xE0 && s.marker <= 0xFE {
				kept = append(kept, s)
			}
		}
		require.Equal(t, []segment{
			{0xE0, []byte("JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x00\x00")}, // thumbnail gone
			{0xE2, []byte("ICC_PROFILE\x00\x01\x01fake profile")},
			{0xEE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x01")},
		}, kept)
		requireSamePixels(t, decode(t, in), decode(t, out))
	})

	t.Run("OrientationOneIsNotWritten", func(t *testing.T) {
		t.Parallel()
		exif := []byte("Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00")
		info, out := mustClean(t, withSegments(encodeJPEG(t, 16, 16), segment{0xE1, exif}))
		require.Equal(t, 1, info.Orientation)
		require.NotContains(t, markers(jpegSegments(t, out)), byte(0xE1))
	})
}

// pngChunks lists a PNG's chunk types, checking each CRC.
func pngChunks(t *testing.T, b []byte) []string {
	t.Helper()
	require.Equal(t, "\x89PNG\r\n\x1a\n", string(b[:8]))
	var types []string
	for i := 8; i < len(b); {
		n := int(binary.BigEndian.Uint32(b[i:]))
		types = append(types, string(b[i+4:i+8]))
		require.Equal(t, crc32.ChecksumIEEE(b[i+4:i+8+n]), binary.BigEndian.Uint32(b[i+8+n:]))
		i += 12 + n
	}
	return types
}

// pngChunk builds a PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

func TestCleanPNG(t *testing.T) {
	t.Parallel()

	t.Run("DropsText", func(t *testing.T) {
		t.Parallel()
		in := readTestdata(t, "text.png")
		require.Subset(t, pngChunks(t, in), []string{"tEXt", "iTXt", "eXIf"})
		info, out := mustClean(t, in)
		require.Equal(t, evidenceflow.Info{ContentType: evidence.TypePNG, Width: 64, Height: 48, Orientation: 1}, withoutCost(t, info))
		require.Equal(t, []string{"IHDR", "IDAT", "IEND"}, pngChunks(t, out))
		for _, s := range personal {
			require.NotContains(t, string(out), s)
		}
		requireSamePixels(t, decode(t, in), decode(t, out))
	})

	t.Run("KeepsRenderingChunks", func(t *testing.T) {
		t.Parallel()
		in := readTestdata(t, "text.png")
		// gAMA and tIME after IHDR, and an APNG's acTL.
		ihdrEnd := 8 + 12 + 13
		var b []byte
		b = append(b, in[:ihdrEnd]...)
		b = append(b, pngChunk("gAMA", []byte{0, 0, 0xB1, 0x8F})...)
		b = append(b, pngChunk("tIME", []byte{0x07, 0xEA, 1, 2, 3, 4, 5})...)
		b = append(b, pngChunk("acTL", []byte{0, 0, 0, 1, 0, 0, 0, 0})...)
		b = append(b, in[ihdrEnd:]...)
		_, out := mustClean(t, b)
		require.Equal(t, []string{"IHDR", "gAMA", "IDAT", "IEND"}, pngChunks(t, out))
	})
}

// webpChunks lists a WebP's chunks, checking the RIFF length.
func webpChunks(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	require.Equal(t, "RIFF", string(b[:4]))
	require.Equal(t, "WEBP", string(b[8:12]))
	require.Equal(t, len(b)-8, int(binary.LittleEndian.Uint32(b[4:])), "the RIFF length")
	chunks := map[string][]byte{}
	for i := 12; i < len(b); {
		n := int(binary.LittleEndian.Uint32(b[i+4:]))
		chunks[string(b[i:i+4])] = b[i+8 : i+8+n]
		i += 8 + n + n&1
	}
	return chunks
}

func TestCleanWebP(t *testing.T) {
	t.Parallel()

	t.Run("DropsExifAndXMP", func(t *testing.T) {
		t.Parallel()
		in := readTestdata(t, "meta.webp")
		require.Contains(t, webpChunks(t, in), "EXIF")
		info, out := mustClean(t, in)
		// The orientation is read from the EXIF dropped.
		require.Equal(t, evidenceflow.Info{ContentType: evidence.TypeWebP, Width: 160, Height: 120, Orientation: 6}, withoutCost(t, info))
		chunks := webpChunks(t, out)
		require.NotContains(t, chunks, "EXIF")
		require.NotContains(t, chunks, "XMP ")
		require.Zero(t, chunks["VP8X"][0]&0x0C, "the EXIF and XMP flags")
		for _, s := range personal {
			require.NotContains(t, string(out), s)
		}
		requireSamePixels(t, decode(t, in), decode(t, out))
	})

	t.Run("Alpha", func(t *testing.T) {
		t.Parallel()
		in := readTestdata(t, "alpha.webp")
		info, out := mustClean(t, in)
		require.Equal(t, evidenceflow.Info{ContentType: evidence.TypeWebP, Width: 64, Height: 48, Orientation: 1}, withoutCost(t, info))
		require.Equal(t, in, out)
		require.Contains(t, webpChunks(t, out), "ALPH")
	})
}

func TestCleanPDF(t *testing.T) {
	t.Parallel()
	in := readTestdata(t, "receipt.pdf")
	info, out := mustClean(t, in)
	require.Equal(t, evidenceflow.Info{ContentType: evidence.TypePDF, Orientation: 1}, info)
	require.Equal(t, in, out)
}

func TestCleanDropsTrailingData(t *testing.T) {
	t.Parallel()
	jpg := readTestdata(t, "photo-gps.jpg")
	_, want := mustClean(t, jpg)
	// A "motion photo" appends a video after the JPEG's end.
	_, out := mustClean(t, append(append([]byte{}, jpg...), "\x00\x00\x00\x18ftypmp42 video of my living room"...))
	require.Equal(t, want, out)
}

func TestCleanRefuses(t *testing.T) {
	t.Parallel()

	jpg := readTestdata(t, "photo-gps.jpg")
	pngFile := readTestdata(t, "text.png")
	webpFile := readTestdata(t, "meta.webp")
	badCRC := append([]byte{}, pngFile...)
	badCRC[8+8+13] ^= 0xFF // IHDR's CRC
	sof := func(w, h uint16) segment {
		return segment{0xC0, []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 1, 1, 0x11, 0}}
	}
	soiOnly := []byte{0xFF, 0xD8}

	for _, tt := range []struct {
		name       string
		give       []byte
		wantFound  *string // an UnsupportedError's
		wantReason string  // or an UnreadableError's
	}{
		{name: "ELFNamedPhoto", give: []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00"), wantFound: ptr("an executable")},
		{name: "PENamedPhoto", give: []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run in DOS mode."), wantFound: ptr("an executable")},
		{name: "HEIC", give: readTestdata(t, "photo.heic"), wantFound: ptr("HEIC")},
		{name: "AVIF", give: readTestdata(t, "photo.avif"), wantFound: ptr("AVIF")},
		{name: "Empty", give: nil, wantReason: "the file is empty"},
		{name: "JPEGCutInHalf", give: jpg[:len(jpg)/2], wantReason: "the JPEG is truncated"},
		{name: "JPEGWithoutEOI", give: jpg[:len(jpg)-2], wantReason: "the JPEG is truncated"},
		{name: "JPEGHuge", give: withSegments(soiOnly, sof(60000, 60000)), wantReason: "the JPEG is 60000×60000 pixels"},
		{name: "JPEGNoWidth", give: withSegments(soiOnly, sof(0, 10)), wantReason: "the JPEG declares a size of 0×10"},
		{name: "JPEGBadLength", give: []byte("\xff\xd8\xff\xe1\x00\x01"), wantReason: "a segment of length 1"},
		{name: "JPEGGarbage", give: append([]byte("\xff\xd8\xff\xdb\x00\x04\x00\x00"), "garbage"...), wantReason: "the JPEG is corrupt"},
		{name: "JPEGNoFrame", give: withSegments([]byte("\xff\xd8\xff\xd9"), segment{0xFE, []byte("hi")}), wantReason: "the JPEG has no image data"},
		{name: "JPEGScanBeforeFrame", give: withSegments(soiOnly, segment{0xDA, []byte{1, 1, 0, 0, 63, 0}}), wantReason: "a scan before the frame header"},
		{name: "PNGCutInHalf", give: pngFile[:len(pngFile)/2], wantReason: "the PNG is truncated"},
		{name: "PNGWithoutIEND", give: pngFile[:len(pngFile)-12], wantReason: "the PNG is truncated"},
		{name: "PNGBadCRC", give: badCRC, wantReason: `chunk "IHDR" fails its CRC check`},
		{name: "PNGUnknownCritical", give: append(append([]byte{}, pngFile[:33]...), pngChunk("ABCD", nil)...), wantReason: `unknown critical chunk "ABCD"`},
		{name: "PNGHuge", give: append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", []byte{0, 0, 0xEA, 0x60, 0, 0, 0xEA, 0x60, 8, 2, 0, 0, 0})...), wantReason: "the PNG is 60000×60000 pixels"},
		{name: "WebPCutInHalf", give: webpFile[:len(webpFile)/2], wantReason: "the WebP is truncated"},
		{name: "WebPChunkTooLong", give: []byte("RIFF\x14\x00\x00\x00WEBPVP8L\xff\x00\x00\x00\x2f\x00\x00\x00\x00"), wantReason: `chunk "VP8L" is longer than the file`},
		{name: "PDFCut", give: readTestdata(t, "receipt.pdf")[:300], wantReason: "the PDF is truncated"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := clean(tt.give)
			if tt.wantFound != nil {
				var unsupported *evidence.UnsupportedError
				require.ErrorAs(t, err, &unsupported)
				require.Equal(t, *tt.wantFound, unsupported.Found)
				return
			}
			var unreadable *evidence.UnreadableError
			require.ErrorAs(t, err, &unreadable)
			require.Contains(t, unreadable.Reason, tt.wantReason)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// limitError is what the caller's size limiter returns.
type limitError struct{}

func (limitError) Error() string { return "over the limit" }

// failingReader yields b, then err.
type failingReader struct {
	b   []byte
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, r.err
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// failingSpool refuses every write.
type failingSpool struct{ err error }

func (s failingSpool) Write([]byte) (int, error)          { return 0, s.err }
func (s failingSpool) WriteAt([]byte, int64) (int, error) { return 0, s.err }

func TestCleanPassesIOErrorsThrough(t *testing.T) {
	t.Parallel()

	for _, file := range []string{"photo-gps.jpg", "text.png", "meta.webp", "receipt.pdf"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			b := readTestdata(t, file)

			t.Run("Source", func(t *testing.T) {
				t.Parallel()
				_, err := media.Reader{}.Clean(&spool{}, &failingReader{b: b[:len(b)/2], err: limitError{}})
				require.ErrorAs(t, err, new(limitError))
				require.NotErrorAs(t, err, new(*evidence.UnreadableError))
			})

			t.Run("SourceAfterTheEnd", func(t *testing.T) {
				t.Parallel()
				_, err := media.Reader{}.Clean(&spool{}, &failingReader{b: b, err: limitError{}})
				require.ErrorAs(t, err, new(limitError))
			})

			t.Run("Destination", func(t *testing.T) {
				t.Parallel()
				full := errors.New("disk full")
				_, err := media.Reader{}.Clean(failingSpool{err: full}, bytes.NewReader(b))
				require.ErrorIs(t, err, full)
			})
		})
	}
}

// quadrants is an 80×60 PNG whose quarters are red (top left), green
// (top right), blue (bottom left) and black.
func quadrants(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 80, 60))
	for y := range 60 {
		for x := range 80 {
			c := [2][2]color.RGBA{
				{{255, 0, 0, 255}, {0, 255, 0, 255}},
				{{0, 0, 255, 255}, {0, 0, 0, 255}},
			}[y/30][x/40]
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// colourName names the colour nearest c among the quadrants' and white.
func colourName(c color.Color) string {
	r, g, b, _ := c.RGBA()
	hi := func(v uint32) bool { return v > 0x8000 }
	switch {
	case hi(r) && hi(g) && hi(b):
		return "white"
	case hi(r):
		return "red"
	case hi(g):
		return "green"
	case hi(b):
		return "blue"
	}
	return "black"
}

func thumbnail(t *testing.T, b []byte, info evidenceflow.Info) image.Image {
	t.Helper()
	thumb, err := media.Reader{}.Thumbnail(bytes.NewReader(b), info, evidence.ThumbSide)
	require.NoError(t, err)
	img, err := jpeg.Decode(bytes.NewReader(thumb))
	require.NoError(t, err)
	return img
}

func TestThumbnail(t *testing.T) {
	t.Parallel()

	t.Run("ScalesTheLongerSide", func(t *testing.T) {
		t.Parallel()
		info, out := mustClean(t, encodeJPEG(t, 2000, 1500))
		require.Equal(t, image.Rect(0, 0, 320, 240), thumbnail(t, out, info).Bounds())
	})

	t.Run("DoesNotEnlarge", func(t *testing.T) {
		t.Parallel()
		info, out := mustClean(t, encodeJPEG(t, 40, 30))
		require.Equal(t, image.Rect(0, 0, 40, 30), thumbnail(t, out, info).Bounds())
	})

	t.Run("TurnsUpright", func(t *testing.T) {
		t.Parallel()
		info, out := mustClean(t, readTestdata(t, "photo-gps.jpg"))
		require.Equal(t, 6, info.Orientation)
		img := thumbnail(t, out, info)
		require.Equal(t, image.Rect(0, 0, 120, 160), img.Bounds(), "portrait")
		// The red corner, stored at the top left, is shown at the top right.
		require.Equal(t, "red", colourName(img.At(110, 5)))
	})

	t.Run("EveryOrientation", func(t *testing.T) {
		t.Parallel()
		in := quadrants(t)
		// The colours shown at the top left, top right, bottom left and
		// bottom right.
		for o, want := range map[int][4]string{
			1: {"red", "green", "blue", "black"},
			2: {"green", "red", "black", "blue"},
			3: {"black", "blue", "green", "red"},
			4: {"blue", "black", "red", "green"},
			5: {"red", "blue", "green", "black"},
			6: {"blue", "red", "black", "green"},
			7: {"black", "green", "blue", "red"},
			8: {"green", "black", "red", "blue"},
		} {
			t.Run(fmt.Sprint(o), func(t *testing.T) {
				t.Parallel()
				img := thumbnail(t, in, evidenceflow.Info{ContentType: evidence.TypePNG, Width: 80, Height: 60, Orientation: o})
				w, h := img.Bounds().Dx(), img.Bounds().Dy()
				if o >= 5 {
					require.Equal(t, [2]int{60, 80}, [2]int{w, h})
				} else {
					require.Equal(t, [2]int{80, 60}, [2]int{w, h})
				}
				got := [4]string{
					colourName(img.At(5, 5)), colourName(img.At(w-5, 5)),
					colourName(img.At(5, h-5)), colourName(img.At(w-5, h-5)),
				}
				require.Equal(t, want, got)
			})
		}
	})

	t.Run("PNGAlphaOnWhite", func(t *testing.T) {
		t.Parallel()
		info, out := mustClean(t, readTestdata(t, "text.png"))
		img := thumbnail(t, out, info)
		require.Equal(t, image.Rect(0, 0, 64, 48), img.Bounds())
		// The left column is transparent.
		require.Equal(t, "white", colourName(img.At(0, 24)))
	})

	t.Run("WebP", func(t *testing.T) {
		t.Parallel()
		for _, file := range []string{"meta.webp", "alpha.webp"} {
			info, out := mustClean(t, readTestdata(t, file))
			img := thumbnail(t, out, info)
			if info.Orientation >= 5 {
				require.Equal(t, info.Height, img.Bounds().Dx())
			} else {
				require.Equal(t, info.Width, img.Bounds().Dx())
			}
		}
	})

	t.Run("PixelCap", func(t *testing.T) {
		t.Parallel()
		// A header for 60000×60000: decoding it would take 10 GB.
		huge := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", []byte{0, 0, 0xEA, 0x60, 0, 0, 0xEA, 0x60, 8, 6, 0, 0, 0})...)
		huge = append(huge, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
		huge = append(huge, pngChunk("IEND", nil)...)
		_, err := media.Reader{}.Thumbnail(bytes.NewReader(huge), evidenceflow.Info{ContentType: evidence.TypePNG}, evidence.ThumbSide)
		var unreadable *evidence.UnreadableError
		require.ErrorAs(t, err, &unreadable)
		require.Contains(t, unreadable.Reason, "60000×60000")
	})

	t.Run("Truncated", func(t *testing.T) {
		t.Parallel()
		jpg := encodeJPEG(t, 64, 64)
		_, err := media.Reader{}.Thumbnail(bytes.NewReader(jpg[:len(jpg)-200]), evidenceflow.Info{ContentType: evidence.TypeJPEG}, evidence.ThumbSide)
		require.ErrorAs(t, err, new(*evidence.UnreadableError))
	})

	t.Run("SourceError", func(t *testing.T) {
		t.Parallel()
		jpg := encodeJPEG(t, 64, 64)
		_, err := media.Reader{}.Thumbnail(&failingReader{b: jpg[:300], err: limitError{}}, evidenceflow.Info{ContentType: evidence.TypeJPEG}, evidence.ThumbSide)
		require.ErrorAs(t, err, new(limitError))
		require.NotErrorAs(t, err, new(*evidence.UnreadableError))
	})

	t.Run("NotForPDF", func(t *testing.T) {
		t.Parallel()
		_, err := media.Reader{}.Thumbnail(bytes.NewReader(readTestdata(t, "receipt.pdf")), evidenceflow.Info{ContentType: evidence.TypePDF}, evidence.ThumbSide)
		require.Error(t, err)
	})
}

// bigJPEG is a JPEG of about size bytes: a real header, a 60 KB Exif
// segment, and a scan of random entropy-coded data (with its 0xFF bytes
// stuffed) standing in for a large photo's. Clean does not decode it.
func bigJPEG(t testing.TB, size int) []byte {
	t.Helper()
	small := encodeJPEG(t, 16, 16)
	sos := bytes.Index(small, []byte{0xFF, 0xDA})
	require.Positive(t, sos)
	sosEnd := sos + 2 + int(binary.BigEndian.Uint16(small[sos+2:]))
	exif := append([]byte("Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"), bytes.Repeat([]byte("GPS "), 15000)...)
	b := withSegments(small[:sosEnd], segment{0xE1, exif})
	rng := rand.New(rand.NewPCG(1, 2))
	for len(b) < size {
		c := byte(rng.UintN(256))
		b = append(b, c)
		if c == 0xFF {
			b = append(b, 0x00)
		}
	}
	return append(b, 0xFF, 0xD9)
}

// discard is a Spool that keeps nothing.
type discard struct{}

func (discard) Write(p []byte) (int, error)            { return len(p), nil }
func (discard) WriteAt(p []byte, _ int64) (int, error) { return len(p), nil }

// TestCleanMemory shows Clean's memory does not grow with the file: it
// streams. It does not call t.Parallel, so it runs alone and the
// allocation count is its own.
func TestCleanMemory(t *testing.T) {
	in := bigJPEG(t, 9<<20)
	src := bytes.NewReader(in)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := media.Reader{}.Clean(discard{}, src)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("Clean of a %d-byte JPEG allocated %d bytes in %d allocations", len(in), allocated, after.Mallocs-before.Mallocs)
	require.Less(t, allocated, uint64(1<<20))
}

func BenchmarkClean(b *testing.B) {
	in := bigJPEG(b, 9<<20)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (media.Reader{}).Clean(discard{}, bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzClean(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	require.NoError(f, err)
	for _, e := range entries {
		if e.Type().IsRegular() && filepath.Ext(e.Name()) != ".md" {
			f.Add(readTestdata(f, e.Name()))
		}
	}
	f.Add(encodeJPEG(f, 8, 8))
	f.Fuzz(func(t *testing.T, b []byte) {
		t.Parallel()
		info, out, err := clean(b)
		if err != nil {
			var unsupported *evidence.UnsupportedError
			var unreadable *evidence.UnreadableError
			require.True(t, errors.As(err, &unsupported) || errors.As(err, &unreadable), "a refusal, not %v", err)
			return
		}
		require.Contains(t, evidence.Types, info.ContentType)
		again, out2, err := clean(out)
		require.NoError(t, err)
		require.Equal(t, out, out2, "cleaning twice changes nothing")
		if info.ContentType == evidence.TypeWebP {
			// A WebP's orientation is read from the EXIF Clean removes.
			again.Orientation = info.Orientation
		}
		require.Equal(t, info, again)
	})
}

// encodePNG64 makes a 16-bit RGBA PNG of one colour.
func encodePNG64(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// TestDecodeCostCoversDecoding holds Info.DecodeBytes, the estimate the
// engine budgets decodes by before it starts one, to what making the
// thumbnail really allocates, for images stored every way that changes
// the cost: a baseline JPEG (about 1.5 bytes a pixel), a progressive
// 4:4:4 one (image/jpeg keeps 4 bytes a sample of coefficients as well:
// a 1.6 MB file of 49 megapixels takes ~750 MB), a 16-bit PNG (8 bytes a
// pixel), an interlaced PNG, lossy and lossless WebP. It does not call
// t.Parallel, so the allocation count is its own.
func TestDecodeCostCoversDecoding(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"Baseline", encodeJPEG(t, 4000, 250)},
		{"BaselinePortrait", encodeJPEG(t, 300, 3000)},
		// 4000×250, one flat colour, cjpeg -quality 50 -sample 1x1 -progressive.
		{"Progressive444", readTestdata(t, "progressive-444.jpg")},
		{"Progressive", readTestdata(t, "progressive.jpg")},
		{"PNG16", encodePNG64(t, 4000, 250)},
		{"PNG", readTestdata(t, "text.png")},
		{"WebPLossy", readTestdata(t, "meta.webp")},
		{"WebPAlpha", readTestdata(t, "alpha.webp")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, out := mustClean(t, tc.in)
			require.Positive(t, info.DecodeBytes)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := media.Reader{}.Thumbnail(bytes.NewReader(out), info, evidence.ThumbSide)
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			allocated := after.TotalAlloc - before.TotalAlloc
			pixels := float64(info.Width) * float64(info.Height)
			t.Logf("%d×%d: allocated %d bytes (%.1f a pixel), estimated %d (%.1f a pixel)", info.Width, info.Height,
				allocated, float64(allocated)/pixels, info.DecodeBytes, float64(info.DecodeBytes)/pixels)
			require.LessOrEqual(t, int64(allocated), info.DecodeBytes, "the estimate covers the decode")
			require.LessOrEqual(t, info.DecodeBytes, 3*int64(allocated)+2<<20, "and is not wildly above it")
		})
	}
}

// withoutCost checks an image's Info has its decoding cost (which
// TestDecodeCostCoversDecoding checks) and returns it without, to compare
// the rest.
func withoutCost(t *testing.T, info evidenceflow.Info) evidenceflow.Info {
	t.Helper()
	require.Positive(t, info.DecodeBytes, "an image's decoding cost is estimated")
	info.DecodeBytes = 0
	return info
}
