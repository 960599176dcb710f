package media

import (
	"bytes"
	"unicode/utf8"

	"github.com/claimsd/claimsd/domain/evidence"
)

// Sniff recognises a file's type from its first bytes (512 are enough; a
// shorter file is passed whole) and returns one of evidence.Types. Only
// the bytes count: a name or a declared type is never looked at.
//
//	head, _ := br.Peek(512)
//	contentType, err := media.Sniff(head) // "image/jpeg", or a refusal
//
// Errors: *evidence.UnreadableError for an empty file,
// *evidence.UnsupportedError naming what the bytes look like ("an
// executable", "a ZIP archive", "a GIF", "HEIC", "AVIF", "a video",
// "an HTML or text file", or "" when nothing is recognised).
func Sniff(head []byte) (string, error) {
	switch {
	case len(head) == 0:
		return "", &evidence.UnreadableError{Reason: "the file is empty"}
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return evidence.TypeJPEG, nil
	case bytes.HasPrefix(head, pngSignature):
		return evidence.TypePNG, nil
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return evidence.TypeWebP, nil
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return evidence.TypePDF, nil
	}
	return "", &evidence.UnsupportedError{Found: found(head)}
}

// found names, for a refusal's message, what a file not taken looks like.
func found(head []byte) string {
	has := func(s string) bool { return bytes.HasPrefix(head, []byte(s)) }
	switch {
	case has("MZ"), has("\x7fELF"),
		has("\xfe\xed\xfa\xce"), has("\xfe\xed\xfa\xcf"), // Mach-O, big-endian
		has("\xce\xfa\xed\xfe"), has("\xcf\xfa\xed\xfe"), // Mach-O, little-endian
		has("\xca\xfe\xba\xbe"), // Mach-O universal (or a Java class)
		has("#!"):
		return "an executable"
	case has("PK\x03\x04"), has("PK\x05\x06"), has("PK\x07\x08"):
		return "a ZIP archive"
	case has("GIF87a"), has("GIF89a"):
		return "a GIF"
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		return isoBrand(head)
	case isText(head):
		return "an HTML or text file"
	}
	return ""
}

// isoBrand names an ISO base media file (HEIF, AVIF, MP4, QuickTime) by
// the brands of its ftyp box: the major brand at 8, compatible ones from
// 16 to the box's end.
func isoBrand(head []byte) string {
	size := int(head[0])<<24 | int(head[1])<<16 | int(head[2])<<8 | int(head[3])
	if size < 12 || size > len(head) {
		size = len(head)
	}
	brands := []string{string(head[8:12])}
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, string(head[i:i+4]))
	}
	heif := false
	for _, b := range brands {
		switch b {
		case "avif", "avis":
			return "AVIF"
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
			heif = true
		}
	}
	if heif {
		return "HEIC"
	}
	return "a video"
}

// isText reports whether head looks like a text or HTML file: it starts
// with "<" or is UTF-8 text without control characters other than
// whitespace (a rune cut at the end of head is allowed).
func isText(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	if t := bytes.TrimLeft(head, " \t\r\n"); len(t) > 0 && t[0] == '<' {
		return true
	}
	for i := 0; i < len(head); {
		r, n := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && n <= 1 {
			return len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:])
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r == 0x7f {
			return false
		}
		i += n
	}
	return true
}
