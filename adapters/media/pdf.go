package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// pdfTail is how near its end a PDF must say %%EOF.
const pdfTail = 1024

// pdf checks a PDF starts with its header (Sniff did) and ends with
// %%EOF, and copies it through unchanged: its metadata is kept, which is
// why PDFs are only ever served as attachments.
func (c *cleaner) pdf() error {
	var (
		tail [pdfTail]byte
		held int // bytes of tail in use, at its end
	)
	for {
		n, err := c.r.Read(c.buf)
		if n > 0 {
			p := c.buf[:n]
			if err := c.write(p); err != nil {
				return err
			}
			if n >= pdfTail {
				copy(tail[:], p[n-pdfTail:])
				held = pdfTail
			} else {
				copy(tail[:], tail[n:])
				copy(tail[pdfTail-n:], p)
				held = min(pdfTail, held+n)
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return fmt.Errorf("read the file: %w", err)
			}
			break
		}
	}
	if !bytes.Contains(tail[pdfTail-held:], []byte("%%EOF")) {
		return c.unreadable("is truncated (it does not end with %%%%EOF)")
	}
	return c.finish()
}
