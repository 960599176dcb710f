// Package ident makes the engine's ids: a prefix that names the kind of
// thing, then 26 Crockford base32 characters holding 48 bits of
// milliseconds and 80 random bits, so ids sort by creation time.
//
//	id, err := ident.New("rcn_", now, nil) // rcn_01JD…
package ident

import (
	"crypto/rand"
	"encoding/binary"
	"io"
	"time"
)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// New returns prefix followed by the time-sortable body; rnd supplies the
// random bits (nil: crypto/rand). Errors: rnd's.
func New(prefix string, now time.Time, rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := io.ReadFull(rnd, b[6:]); err != nil {
		return "", err
	}
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	out := make([]byte, 26)
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | (hi&31)<<59
		hi >>= 5
	}
	return prefix + string(out), nil
}
