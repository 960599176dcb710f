package media

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

// pngSignature starts every PNG.
var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// pngKept reports whether a PNG chunk is kept: the critical ones and the
// ancillary ones that change how the pixels look. Text, eXIf, tIME and
// the animation chunks of an APNG are not.
func pngKept(typ string) bool {
	switch typ {
	case "IHDR", "PLTE", "IDAT", "IEND",
		"tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "bKGD", "pHYs":
		return true
	}
	return false
}

// png cleans a PNG, chunk by chunk; see the package doc.
func (c *cleaner) png(info *evidenceflow.Info) error {
	var sig [8]byte
	if err := c.readFull(sig[:]); err != nil {
		return err
	}
	if err := c.write(sig[:]); err != nil {
		return err
	}
	var (
		header, data bool
		head         [8]byte // length and type
		sum          [4]byte
	)
	for {
		if err := c.readFull(head[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(head[:4])
		typ := head[4:]
		if n > 1<<31-1 {
			return c.unreadable("is corrupt (a chunk of %d bytes)", n)
		}
		for _, b := range typ {
			if (b < 'A' || b > 'Z') && (b < 'a' || b > 'z') {
				return c.unreadable("is corrupt (a chunk type that is not letters)")
			}
		}
		name := string(typ)
		critical := typ[0] <= 'Z'
		switch {
		case !header && name != "IHDR":
			return c.unreadable("is corrupt (it does not start with its header)")
		case header && name == "IHDR":
			return c.unreadable("is corrupt (two headers)")
		case name == "IHDR" && n != 13:
			return c.unreadable("is corrupt (a header of %d bytes)", n)
		case critical && !pngKept(name):
			return c.unreadable("has an unknown critical chunk %q", name)
		}
		keep := pngKept(name)
		if keep {
			if err := c.write(head[:]); err != nil {
				return err
			}
		}
		crc := crc32.Update(0, crc32.IEEETable, typ)
		for left := int64(n); left > 0; {
			p := c.buf
			if int64(len(p)) > left {
				p = p[:left]
			}
			if err := c.readFull(p); err != nil {
				return err
			}
			crc = crc32.Update(crc, crc32.IEEETable, p)
			if keep {
				if err := c.write(p); err != nil {
					return err
				}
			}
			left -= int64(len(p))
		}
		if err := c.readFull(sum[:]); err != nil {
			return err
		}
		if binary.BigEndian.Uint32(sum[:]) != crc {
			return c.unreadable("is corrupt (chunk %q fails its CRC check)", name)
		}
		if keep {
			if err := c.write(sum[:]); err != nil {
				return err
			}
		}
		switch name {
		case "IHDR":
			header = true
			// The chunk's 13 bytes are still at the scratch buffer's start.
			w, h := binary.BigEndian.Uint32(c.buf[0:]), binary.BigEndian.Uint32(c.buf[4:])
			if w > 1<<31-1 || h > 1<<31-1 {
				return c.unreadable("is corrupt (a size of %d×%d pixels)", w, h)
			}
			info.Width, info.Height = int(w), int(h)
			if err := c.checkPixels(info.Width, info.Height); err != nil {
				return err
			}
			info.DecodeBytes = pngCost(info.Width, info.Height, c.buf[8], c.buf[9], c.buf[12] == 1)
		case "IDAT":
			data = true
		case "IEND":
			if !data {
				return c.unreadable("has no image data")
			}
			return c.finish()
		}
	}
}
