package media

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

// VP8X flags for the metadata chunks this reader drops.
const (
	vp8xXMP  = 0x04
	vp8xEXIF = 0x08
)

// webp cleans a WebP, chunk by chunk, and patches the RIFF length in dst
// once it is known; see the package doc.
func (c *cleaner) webp(dst evidenceflow.Spool, info *evidenceflow.Info) error {
	var head [12]byte
	if err := c.readFull(head[:]); err != nil {
		return err
	}
	left := int64(binary.LittleEndian.Uint32(head[4:8])) - 4 // the chunks' bytes
	if left < 8 {
		return c.unreadable("is corrupt (a RIFF length of %d)", left+4)
	}
	// The length is written once the chunks kept are counted.
	if err := c.write([]byte("RIFF\x00\x00\x00\x00WEBP")); err != nil {
		return err
	}
	var (
		written          int64 = 4 // "WEBP"
		extended, pixels bool
		exif             bool
		ch               [8]byte
	)
	for first := true; left > 0; first = false {
		if left < 8 {
			return c.unreadable("is corrupt (a chunk header cut by the RIFF's end)")
		}
		if err := c.readFull(ch[:]); err != nil {
			return err
		}
		left -= 8
		fourcc := string(ch[:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		pad := size & 1
		if size == left {
			pad = 0 // a writer that did not pad the last chunk
		}
		if size+pad > left {
			return c.unreadable("is corrupt (chunk %q is longer than the file)", fourcc)
		}
		left -= size + pad
		if first && fourcc != "VP8 " && fourcc != "VP8L" && fourcc != "VP8X" {
			return c.unreadable("is corrupt (it does not start with an image chunk)")
		}

		// The chunk's start, for the headers read below.
		p := c.buf[:min(size, int64(len(c.buf)))]
		if err := c.readFull(p); err != nil {
			return err
		}
		keep := true
		switch fourcc {
		case "VP8X":
			if !first || size < 10 {
				return c.unreadable("is corrupt (a misplaced or short VP8X chunk)")
			}
			extended = true
			p[0] &^= vp8xEXIF | vp8xXMP
			info.Width = 1 + (int(p[4]) | int(p[5])<<8 | int(p[6])<<16)
			info.Height = 1 + (int(p[7]) | int(p[8])<<8 | int(p[9])<<16)
			if err := c.checkPixels(info.Width, info.Height); err != nil {
				return err
			}
		case "VP8 ":
			if size < 10 || p[3] != 0x9D || p[4] != 0x01 || p[5] != 0x2A {
				return c.unreadable("is corrupt (a bad VP8 frame header)")
			}
			pixels = true
			if !extended {
				info.Width = int(binary.LittleEndian.Uint16(p[6:]) & 0x3FFF)
				info.Height = int(binary.LittleEndian.Uint16(p[8:]) & 0x3FFF)
			}
		case "VP8L":
			if size < 5 || p[0] != 0x2F {
				return c.unreadable("is corrupt (a bad VP8L header)")
			}
			pixels = true
			if !extended {
				bits := binary.LittleEndian.Uint32(p[1:])
				info.Width = 1 + int(bits&0x3FFF)
				info.Height = 1 + int(bits>>14&0x3FFF)
			}
		case "ANMF":
			pixels = true
		case "ALPH", "ICCP", "ANIM":
		case "EXIF":
			keep = false
			if !exif {
				exif = true
				info.Orientation = orientation(p)
			}
		default: // XMP and unknown chunks
			keep = false
		}
		if !extended {
			if err := c.checkPixels(info.Width, info.Height); err != nil {
				return err
			}
		}
		if fourcc == "VP8L" || (fourcc == "VP8 " && info.DecodeBytes == 0) {
			info.DecodeBytes = webpCost(info.Width, info.Height, fourcc == "VP8L")
		}
		if keep {
			binary.LittleEndian.PutUint32(ch[4:], uint32(size))
			if err := c.write(ch[:]); err != nil {
				return err
			}
			if err := c.write(p); err != nil {
				return err
			}
		}
		if err := c.copyN(size-int64(len(p)), keep); err != nil {
			return err
		}
		if pad == 1 {
			if _, err := c.r.ReadByte(); err != nil {
				return c.readErr(err)
			}
		}
		if keep && size&1 == 1 {
			if err := c.w.WriteByte(0); err != nil {
				return writeErr(err)
			}
		}
		if keep {
			written += 8 + size + size&1
		}
	}
	if !pixels {
		return c.unreadable("has no image data")
	}
	if written > math.MaxUint32 {
		return c.unreadable("is too large")
	}
	if err := c.finish(); err != nil {
		return err
	}
	var length [4]byte
	binary.LittleEndian.PutUint32(length[:], uint32(written))
	if _, err := dst.WriteAt(length[:], 4); err != nil {
		return fmt.Errorf("patch the cleaned file's length: %w", err)
	}
	return nil
}
