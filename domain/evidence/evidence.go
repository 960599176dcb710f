// Package evidence holds the rules of evidence files: the photos and
// documents a claim's shopper, or the seller charged for it, attach to the
// claim. What kinds there are, which content types are taken (recognised
// from the bytes, never from a name), how large a file and how many a
// claim may hold, and who may read which.
//
//	kind, err := evidence.ParseKind("photo")
//	if err := evidence.CheckCaption(caption); err != nil { … }
package evidence

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/claimsd/claimsd/domain/validation"
)

// Kind is what a file shows.
type Kind string

// The kinds.
const (
	KindPhoto    Kind = "photo"
	KindReceipt  Kind = "receipt"
	KindDocument Kind = "document"
	KindOther    Kind = "other"
)

// Kinds lists every kind.
var Kinds = []Kind{KindPhoto, KindReceipt, KindDocument, KindOther}

// ParseKind returns the kind named s; "" is KindPhoto for an image and
// KindDocument for a PDF, which DefaultKind gives once the type is known.
// Errors: *validation.Error on "kind".
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", validation.New("kind", "unknown_kind", "must be one of photo, receipt, document, other")
}

// DefaultKind is the kind of a file uploaded without one.
func DefaultKind(contentType string) Kind {
	if contentType == TypePDF {
		return KindDocument
	}
	return KindPhoto
}

// Party is who uploaded a file.
type Party string

// The parties.
const (
	PartyShopper Party = "shopper"
	PartySeller  Party = "seller"
)

// The content types taken, as the bytes show them.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypeWebP = "image/webp"
	TypePDF  = "application/pdf"
)

// Types lists the content types taken.
var Types = []string{TypeJPEG, TypePNG, TypeWebP, TypePDF}

// IsImage reports whether a content type is an image's.
func IsImage(contentType string) bool {
	return contentType == TypeJPEG || contentType == TypePNG || contentType == TypeWebP
}

// Extension is the file name extension a content type is served with.
func Extension(contentType string) string {
	switch contentType {
	case TypeJPEG:
		return ".jpg"
	case TypePNG:
		return ".png"
	case TypeWebP:
		return ".webp"
	case TypePDF:
		return ".pdf"
	}
	return ".bin"
}

// The limits unless the operator sets others.
const (
	DefaultMaxBytes = 10 << 20 // a file
	DefaultMaxFiles = 10       // a claim's, both parties together
	// MaxCaption is the longest caption, in characters.
	MaxCaption = 500
	// MaxPixels is the largest image taken (width × height): a small file
	// can declare a huge image that would take gigabytes to decode.
	MaxPixels = 50_000_000
	// ThumbSide is the longest side of a thumbnail, in pixels.
	ThumbSide = 320
)

// CheckCaption refuses a caption over MaxCaption characters, not UTF-8, or
// with control characters other than line breaks and tabs.
// Errors: *validation.Error on "caption".
func CheckCaption(s string) error {
	if !utf8.ValidString(s) {
		return validation.New("caption", "invalid_caption", "must be UTF-8 text")
	}
	if n := utf8.RuneCountInString(s); n > MaxCaption {
		return validation.Newf("caption", "invalid_caption", "must be at most %d characters (it has %d)", MaxCaption, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return validation.New("caption", "invalid_caption", "must not hold control characters")
		}
	}
	return nil
}

// File is one evidence file as the engine keeps it.
type File struct {
	ID          string
	ClaimID     string
	Party       Party
	Kind        Kind
	ContentType string
	Size        int64
	SHA256      string // hex, of the bytes served
	Caption     string
	// Width and Height are an image's, in pixels; 0 for a PDF.
	Width, Height int
	BlobKey       string
	// ThumbKey names a small JPEG of an image; "" for a PDF.
	ThumbKey  string
	ThumbSize int64
	CreatedBy string // role:subject
	CreatedAt time.Time
}

// BlobKey is where a file's bytes are stored; ThumbKey its thumbnail's.
func BlobKey(claimID, id string) string { return "evidence/" + claimID + "/" + id }

// ThumbKey is where a file's thumbnail is stored.
func ThumbKey(claimID, id string) string { return BlobKey(claimID, id) + ".thumb.jpg" }

// FileName is the name a file is served under: its id and the extension
// of its type, never the name it was uploaded with.
func FileName(f File) string { return f.ID + Extension(f.ContentType) }

// Limits are the operator's limits on uploads.
type Limits struct {
	MaxBytes int64 // a file
	MaxFiles int   // a claim's
}

// DefaultLimits are the limits unless the operator sets others.
var DefaultLimits = Limits{MaxBytes: DefaultMaxBytes, MaxFiles: DefaultMaxFiles}

// HumanBytes writes n bytes for a message: "10 MB", "512 KB", "12 bytes".
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", float64(n)/(1<<20)), "0"), ".") + " MB"
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
