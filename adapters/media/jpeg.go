package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/claimsd/claimsd/workflows/evidenceflow"
)

// JPEG markers (ITU T.81 table B.1) this reader treats by name.
const (
	mSOF0 = 0xC0
	mDHT  = 0xC4
	mJPG  = 0xC8
	mDAC  = 0xCC
	mRST0 = 0xD0
	mRST7 = 0xD7
	mSOI  = 0xD8
	mEOI  = 0xD9
	mSOS  = 0xDA
	mDQT  = 0xDB
	mDNL  = 0xDC
	mDRI  = 0xDD
	mDHP  = 0xDE
	mEXP  = 0xDF
	mAPP0 = 0xE0
	mAPP1 = 0xE1
	mAPP2 = 0xE2
	mAP14 = 0xEE
	mAP15 = 0xEF
	mCOM  = 0xFE
)

// isSOF reports whether m starts a frame: SOF0–SOF15 but for DHT, JPG
// and DAC, which share the range.
func isSOF(m byte) bool {
	return m >= mSOF0 && m <= 0xCF && m != mDHT && m != mJPG && m != mDAC
}

// jpeg cleans a JPEG, segment by segment; see the package doc.
func (c *cleaner) jpeg(info *evidenceflow.Info) error {
	var soi [2]byte
	if err := c.readFull(soi[:]); err != nil {
		return err
	}
	if err := c.write(soi[:]); err != nil {
		return err
	}
	var (
		frame, scanned, exif bool
		adobeRGB             bool // Adobe's marker says the components are RGB
		m                    byte
		pending              bool // m was read by the scan before it
	)
	for {
		if !pending {
			var err error
			if m, err = c.marker(); err != nil {
				return err
			}
		}
		pending = false
		switch {
		case m == mEOI:
			if !scanned {
				return c.unreadable("has no image data")
			}
			if err := c.writeMarker(mEOI); err != nil {
				return err
			}
			return c.finish()
		case m == mSOI || m >= mRST0 && m <= mRST7 || m < mSOF0:
			return c.unreadable("is corrupt (marker 0x%02X where a segment should start)", m)
		}

		var length [2]byte
		if err := c.readFull(length[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint16(length[:]))
		if n < 2 {
			return c.unreadable("is corrupt (a segment of length %d)", n)
		}
		payload := c.buf[:n-2]
		if err := c.readFull(payload); err != nil {
			return err
		}
		keep := false
		switch {
		case m == mAPP0:
			// JFIF's own thumbnail, at its end, could show what a crop
			// removed: the header is written back with none.
			if n-2 >= 14 && bytes.HasPrefix(payload, []byte("JFIF\x00")) {
				seg := append([]byte{0xFF, mAPP0, 0x00, 16}, payload[:12]...)
				if err := c.write(append(seg, 0, 0)); err != nil {
					return err
				}
			}
		case m == mAPP1:
			if !exif && bytes.HasPrefix(payload, exifHeader) {
				exif = true
				info.Orientation = orientation(payload)
				if info.Orientation != 1 {
					if err := c.write(orientationSegment(info.Orientation)); err != nil {
						return err
					}
				}
			}
		case m == mAPP2:
			keep = bytes.HasPrefix(payload, []byte("ICC_PROFILE\x00"))
		case m == mAP14:
			keep = bytes.HasPrefix(payload, []byte("Adobe"))
			adobeRGB = keep && len(payload) >= 12 && payload[11] == 0
		case m >= mAPP0 && m <= mAP15, m == mCOM:
			// Exif, XMP, Photoshop/IPTC, maker data, comments: dropped.
		case isSOF(m):
			if frame {
				return c.unreadable("has more than one frame (a hierarchical JPEG)")
			}
			if len(payload) < 6 {
				return c.unreadable("is corrupt (a short frame header)")
			}
			frame, keep = true, true
			info.Height = int(binary.BigEndian.Uint16(payload[1:]))
			info.Width = int(binary.BigEndian.Uint16(payload[3:]))
			if err := c.checkPixels(info.Width, info.Height); err != nil {
				return err
			}
			nc := int(payload[5])
			if nc == 0 || len(payload) < 6+3*nc {
				return c.unreadable("is corrupt (a frame header of %d components)", nc)
			}
			sampling := make([][2]int, nc)
			for i := range sampling {
				hv := payload[6+3*i+1]
				sampling[i] = [2]int{max(1, int(hv>>4)), max(1, int(hv&0x0F))}
			}
			// SOF2, 6, 10 and 14 are progressive frames.
			progressive := m == mSOF0+2 || m == mSOF0+6 || m == mSOF0+10 || m == mSOF0+14
			info.DecodeBytes = jpegCost(info.Width, info.Height, progressive, adobeRGB && nc == 3, sampling)
		case m == mDHT, m == mDQT, m == mDAC, m == mDRI, m == mDNL, m == mDHP, m == mEXP:
			keep = true
		case m == mSOS:
			if !frame {
				return c.unreadable("is corrupt (a scan before the frame header)")
			}
			keep, pending, scanned = true, true, true
		default:
			return c.unreadable("is corrupt (unknown marker 0x%02X)", m)
		}
		if keep {
			if err := c.writeMarker(m); err != nil {
				return err
			}
			if err := c.write(length[:]); err != nil {
				return err
			}
			if err := c.write(payload); err != nil {
				return err
			}
		}
		if pending {
			var err error
			if m, err = c.scan(); err != nil {
				return err
			}
		}
	}
}

// marker reads the marker that starts a segment: 0xFF, any fill 0xFFs,
// and the marker's code.
func (c *cleaner) marker() (byte, error) {
	b, err := c.r.ReadByte()
	if err != nil {
		return 0, c.readErr(err)
	}
	if b != 0xFF {
		return 0, c.unreadable("is corrupt (data where a segment should start)")
	}
	for b == 0xFF {
		if b, err = c.r.ReadByte(); err != nil {
			return 0, c.readErr(err)
		}
	}
	return b, nil
}

// scan copies a scan's entropy-coded data, with its stuffed 0xFF00s and
// restart markers, and returns the marker that ends it.
func (c *cleaner) scan() (byte, error) {
	for {
		chunk, err := c.r.ReadSlice(0xFF)
		if errors.Is(err, bufio.ErrBufferFull) {
			if err := c.write(chunk); err != nil {
				return 0, err
			}
			continue
		}
		if err != nil {
			return 0, c.readErr(err)
		}
		if err := c.write(chunk[:len(chunk)-1]); err != nil {
			return 0, err
		}
		b, err := c.r.ReadByte()
		for err == nil && b == 0xFF {
			b, err = c.r.ReadByte()
		}
		if err != nil {
			return 0, c.readErr(err)
		}
		if b != 0x00 && (b < mRST0 || b > mRST7) {
			return b, nil
		}
		if err := c.writeMarker(b); err != nil {
			return 0, err
		}
	}
}

// writeMarker writes 0xFF and m (without a slice that would escape to
// the heap: a scan may hold a stuffed 0xFF00 every few hundred bytes).
func (c *cleaner) writeMarker(m byte) error {
	if err := c.w.WriteByte(0xFF); err != nil {
		return writeErr(err)
	}
	if err := c.w.WriteByte(m); err != nil {
		return writeErr(err)
	}
	return nil
}
