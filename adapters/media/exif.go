package media

import (
	"bytes"
	"encoding/binary"
)

// exifHeader starts a JPEG's APP1 Exif segment (and, from some writers,
// a WebP's EXIF chunk) before the TIFF structure.
var exifHeader = []byte("Exif\x00\x00")

// tagOrientation is EXIF's Orientation tag, in IFD0.
const tagOrientation = 0x0112

// orientation reads the Orientation tag from IFD0 of a TIFF structure
// (EXIF's, in either byte order), with or without the "Exif\0\0" header.
// It returns 1, the default, when there is none or it is out of range.
func orientation(b []byte) int {
	b = bytes.TrimPrefix(b, exifHeader)
	if len(b) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		order = binary.LittleEndian
	case "MM\x00*":
		order = binary.BigEndian
	default:
		return 1
	}
	ifd := int64(order.Uint32(b[4:8]))
	if ifd < 8 || ifd+2 > int64(len(b)) {
		return 1
	}
	n := int64(order.Uint16(b[ifd:]))
	for i := range n {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(b)) {
			return 1
		}
		if order.Uint16(b[e:]) != tagOrientation {
			continue
		}
		const typeShort = 3
		if order.Uint16(b[e+2:]) != typeShort || order.Uint32(b[e+4:]) != 1 {
			return 1
		}
		if v := int(order.Uint16(b[e+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}

// orientationSegment is a JPEG APP1 Exif segment holding only IFD0 with
// the Orientation tag, big-endian: marker, length, "Exif\0\0", the TIFF
// header, one entry and no next IFD.
func orientationSegment(o int) []byte {
	seg := []byte{
		0xFF, 0xE1, 0x00, 0x22, // APP1, length 34
		'E', 'x', 'i', 'f', 0x00, 0x00,
		'M', 'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // TIFF header, IFD0 at 8
		0x00, 0x01, // one entry
		0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, // Orientation, SHORT, 1 value
		0x00, byte(o), 0x00, 0x00, // the value, padded
		0x00, 0x00, 0x00, 0x00, // no next IFD
	}
	return seg
}
