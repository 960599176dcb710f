package evidence

import "fmt"

// UnsupportedError refuses a file whose bytes are not of a type taken
// (HTTP 415). Found names what the bytes look like, for the message, e.g.
// "an executable", "HEIC", "" when nothing is recognised.
type UnsupportedError struct {
	Found string
}

func (e *UnsupportedError) Error() string {
	const taken = "JPEG, PNG, WebP or PDF"
	switch e.Found {
	case "":
		return "the file is not a " + taken + " (its content was not recognised; the name and declared type are not looked at)"
	case "HEIC", "AVIF":
		return e.Found + " photos are not taken; send it as JPEG (phones convert when sharing, or set the camera to \"Most Compatible\")"
	}
	return "the file is " + e.Found + ", not a " + taken
}

// UnreadableError refuses a file of a type taken that cannot be read
// whole: truncated, corrupt, or an image too large to open (HTTP 422).
type UnreadableError struct {
	Reason string
}

func (e *UnreadableError) Error() string { return "the file cannot be read: " + e.Reason }

// TooLargeError refuses a file over the limit (HTTP 413).
type TooLargeError struct {
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the file is larger than %s; send a smaller one", HumanBytes(e.Limit))
}

// TooManyError refuses a file the claim has no room for (HTTP 422).
type TooManyError struct {
	Limit int
}

func (e *TooManyError) Error() string {
	return fmt.Sprintf("a claim holds at most %d files, and this one is full", e.Limit)
}
