// Package media reads evidence files as they are uploaded: it recognises
// a file's type from its bytes, checks the file is whole, removes the
// metadata a shopper may not know a photo carries (EXIF with GPS
// position and camera serial, XMP, IPTC, comments, PNG text chunks), and
// makes thumbnails. It implements evidenceflow.Media.
//
//	var m media.Reader
//	info, err := m.Clean(spool, upload) // spool: a temporary file
//	if err != nil { … } // *evidence.UnsupportedError, *evidence.UnreadableError, or I/O
//	thumb, err := m.Thumbnail(cleaned, info, evidence.ThumbSide)
//
// Clean streams: it holds a few fixed buffers (about 200 KB) whatever the
// file's size, and never decodes pixels. Per type:
//
//   - JPEG: the segments a decoder needs are kept (quantisation and
//     Huffman tables, frame and scan headers, the scans), as are APP0
//     JFIF (with its thumbnail removed), APP2 ICC profiles and APP14
//     Adobe (it says how colours are stored); every other APPn segment
//     (Exif, XMP, Photoshop/IPTC, maker data, MPF extra images) and every
//     comment is dropped. An EXIF orientation other than 1 is written back
//     as a minimal Exif segment holding that one tag, so browsers still
//     show the photo upright.
//   - PNG: the critical chunks and those that change how pixels look
//     (tRNS, gAMA, cHRM, sRGB, iCCP, sBIT, bKGD, pHYs) are kept, every
//     other chunk (text, eXIf, tIME, …) is dropped, and every CRC is
//     checked. An animated PNG loses its animation chunks and becomes its
//     still default image.
//   - WebP: image chunks (VP8, VP8L, VP8X, ALPH, ICCP, ANIM, ANMF) are
//     kept, EXIF and XMP dropped and their flags cleared. The orientation
//     is reported in Info but not kept in the file (WebP writers apply it
//     to the pixels; few files carry one).
//   - PDF: checked to start with a PDF header and to end with %%EOF, and
//     copied unchanged: its metadata (author, producer, XMP) is NOT
//     removed. PDFs are served as attachments, never shown inline.
//
// Bytes after a file's end (after a JPEG's EOI, a PNG's IEND, a WebP's
// RIFF chunk), such as a phone's "motion photo" video, are read and
// dropped.
package media

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/claimsd/claimsd/domain/evidence"
	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

// Reader reads and cleans evidence files. The zero value is ready to use
// and holds no state, so one may serve any number of uploads at once.
//
//	var m evidenceflow.Media = media.Reader{}
type Reader struct{}

var _ evidenceflow.Media = Reader{}

// sniffLen is how much of a file's start Sniff is given: enough to tell a
// text file and to read a HEIC's brands.
const sniffLen = 512

// Clean recognises src's type from its bytes, checks it is whole, and
// writes it to dst without its metadata (see the package doc for what is
// kept of each type). dst must be empty: a WebP's length is patched at
// offset 4 once it is known.
//
//	info, err := media.Reader{}.Clean(tmp, http.MaxBytesReader(w, r.Body, limit))
//
// Errors: *evidence.UnsupportedError, *evidence.UnreadableError, and src's
// and dst's own errors wrapped (src ending early is a truncated file, an
// UnreadableError).
func (Reader) Clean(dst evidenceflow.Spool, src io.Reader) (evidenceflow.Info, error) {
	c := &cleaner{
		r:   bufio.NewReaderSize(src, 64<<10),
		w:   bufio.NewWriterSize(dst, 32<<10),
		buf: make([]byte, 64<<10),
	}
	head, err := c.r.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return evidenceflow.Info{}, fmt.Errorf("read the file: %w", err)
	}
	contentType, err := Sniff(head)
	if err != nil {
		return evidenceflow.Info{}, err
	}
	info := evidenceflow.Info{ContentType: contentType, Orientation: 1}
	switch contentType {
	case evidence.TypeJPEG:
		c.kind = "JPEG"
		err = c.jpeg(&info)
	case evidence.TypePNG:
		c.kind = "PNG"
		err = c.png(&info)
	case evidence.TypeWebP:
		c.kind = "WebP"
		err = c.webp(dst, &info)
	case evidence.TypePDF:
		c.kind = "PDF"
		err = c.pdf()
	}
	if err != nil {
		return evidenceflow.Info{}, err
	}
	return info, nil
}

// cleaner is one Clean's state: the buffered source and destination and
// a scratch buffer as large as the largest JPEG segment.
type cleaner struct {
	r    *bufio.Reader
	w    *bufio.Writer
	buf  []byte
	kind string // "JPEG", for messages
}

// unreadable is the refusal of a file of c's type.
func (c *cleaner) unreadable(format string, args ...any) error {
	return &evidence.UnreadableError{Reason: "the " + c.kind + " " + fmt.Sprintf(format, args...)}
}

// readErr turns a read error into a truncated file's refusal when src
// ended, and wraps any other so it passes through.
func (c *cleaner) readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return c.unreadable("is truncated (the file ends before the image does)")
	}
	return fmt.Errorf("read the file: %w", err)
}

// writeErr wraps an error writing dst.
func writeErr(err error) error { return fmt.Errorf("write the cleaned file: %w", err) }

// readFull fills p from the source.
func (c *cleaner) readFull(p []byte) error {
	if _, err := io.ReadFull(c.r, p); err != nil {
		return c.readErr(err)
	}
	return nil
}

// write writes p to the destination.
func (c *cleaner) write(p []byte) error {
	if _, err := c.w.Write(p); err != nil {
		return writeErr(err)
	}
	return nil
}

// copyN copies n bytes from the source to the destination, or skips them
// when keep is false, through the scratch buffer.
func (c *cleaner) copyN(n int64, keep bool) error {
	for n > 0 {
		p := c.buf
		if int64(len(p)) > n {
			p = p[:n]
		}
		if err := c.readFull(p); err != nil {
			return err
		}
		if keep {
			if err := c.write(p); err != nil {
				return err
			}
		}
		n -= int64(len(p))
	}
	return nil
}

// finish reads and drops whatever follows the file's end, so the whole
// upload is read (and src's own errors, such as a size limit, are seen),
// then flushes the destination.
func (c *cleaner) finish() error {
	if _, err := c.r.WriteTo(io.Discard); err != nil {
		return fmt.Errorf("read the file: %w", err)
	}
	if err := c.w.Flush(); err != nil {
		return writeErr(err)
	}
	return nil
}

// checkPixels refuses an image without pixels or over evidence.MaxPixels.
func (c *cleaner) checkPixels(w, h int) error {
	if w <= 0 || h <= 0 {
		return c.unreadable("declares a size of %d×%d pixels", w, h)
	}
	if int64(w)*int64(h) > evidence.MaxPixels {
		return c.unreadable("is %d×%d pixels, over the %d million taken", w, h, evidence.MaxPixels/1_000_000)
	}
	return nil
}
