// Package webhook holds the rules of outbound webhooks, after the Standard
// Webhooks specification (standardwebhooks.com): how a message is signed,
// what a secret looks like, when a failed delivery is tried again, when an
// endpoint is given up on, and which addresses the engine will not call.
//
//	secret, _ := webhook.NewSecret()                       // "whsec_…", shown once
//	sig, _ := webhook.Sign([]string{secret}, "evt_1", now, body) // "v1,…"
//	next, ok := webhook.NextAttempt(attempts, now)           // the retry schedule
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every signing secret, as the specification has it.
const SecretPrefix = "whsec_"

// SecretBytes is how much randomness a secret carries (the specification
// asks for 24 to 64 bytes).
const SecretBytes = 32

// The headers of a delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// ErrMalformedSecret: not whsec_ followed by base64 of 24 to 64 bytes.
var ErrMalformedSecret = errors.New("a signing secret is whsec_ followed by the base64 of 24 to 64 random bytes")

// NewSecret returns a fresh signing secret.
func NewSecret() (string, error) {
	b := make([]byte, SecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new webhook secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// ParseSecret returns the key a secret stands for.
func ParseSecret(s string) ([]byte, error) {
	enc, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, ErrMalformedSecret
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) < 24 || len(key) > 64 {
		return nil, ErrMalformedSecret
	}
	return key, nil
}

// Sign returns the webhook-signature header of a message: one "v1,<base64
// HMAC-SHA256 of id.timestamp.body>" per secret, separated by spaces, so
// that while a rotated secret is still honoured a receiver holding either
// one can verify.
func Sign(secrets []string, id string, at time.Time, body []byte) (string, error) {
	if len(secrets) == 0 {
		return "", errors.New("sign a webhook: no secret")
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := ParseSecret(s)
		if err != nil {
			return "", err
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id))
		m.Write([]byte{'.'})
		m.Write([]byte(ts))
		m.Write([]byte{'.'})
		m.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(sigs, " "), nil
}

// Schedule is when a delivery is attempted, counted from the failure
// before: at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
// 20 h and 24 h: ten attempts over about three days and four hours.
var Schedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour}

// MaxAttempts is how many times a delivery is attempted before it is
// given up.
var MaxAttempts = len(Schedule)

// NextAttempt is when a delivery whose attempt number attempts (from 1)
// has just failed at now is tried again; ok is false when it was the
// last.
func NextAttempt(attempts int, now time.Time) (time.Time, bool) {
	if attempts < 1 || attempts >= len(Schedule) {
		return time.Time{}, false
	}
	return now.Add(Schedule[attempts]), true
}

// DisableAfter: an endpoint whose every attempt has failed for this long
// is disabled (as a 410 Gone disables it at once).
const DisableAfter = 5 * 24 * time.Hour

// RotationOverlap is how long a rotated-out secret keeps signing beside
// the new one.
const RotationOverlap = 24 * time.Hour

// Timeout is how long an attempt may take, connection to last byte.
const Timeout = 15 * time.Second

// MaxResponse is how much of a receiver's answer is read (and the first
// part of it kept): enough for an error message, not a page.
const MaxResponse = 4 << 10

// Outcome is what became of one attempt.
type Outcome string

// The outcomes of an attempt.
const (
	// Delivered: the receiver answered 2xx.
	Delivered Outcome = "delivered"
	// Failed: any other answer, a timeout, a refused address, a broken
	// connection; tried again by the schedule.
	Failed Outcome = "failed"
	// Gone: the receiver answered 410; the endpoint is disabled.
	Gone Outcome = "gone"
)

// Classify says what a receiver's answer means: status is 0 when there
// was none (err says why).
func Classify(status int, err error) Outcome {
	switch {
	case err != nil || status == 0:
		return Failed
	case status >= 200 && status < 300:
		return Delivered
	case status == 410:
		return Gone
	}
	return Failed
}
