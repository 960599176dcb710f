package claimflow

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/claimsd/claimsd/domain/validation"
)

// String is the cursor as an opaque token for the next page's link.
func (q QueueCursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(q.Deadline.UnixMicro(), 10) + "|" + q.ID))
}

// ParseQueueCursor reads a token String made; ok is false for anything
// else, a deadline outside the span of time the engine keeps included.
func ParseQueueCursor(s string) (QueueCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return QueueCursor{}, false
	}
	us, id, ok := strings.Cut(string(b), "|")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || validation.CheckID("cursor", id) != nil {
		return QueueCursor{}, false
	}
	deadline := time.UnixMicro(n).UTC()
	if validation.CheckTime("cursor", deadline) != nil {
		return QueueCursor{}, false
	}
	return QueueCursor{Deadline: deadline, ID: id}, true
}
