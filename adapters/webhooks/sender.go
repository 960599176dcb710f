// Package webhooks sends webhook attempts over HTTP for webhookflow: POST
// with the signed headers, within webhook.Timeout, no redirects followed,
// at most webhook.MaxResponse of the answer read, and, unless private
// addresses are allowed, no connection to an address webhook.Refused
// names, checked on the address each connection dials after the name is
// resolved, so a name that resolves somewhere else on a later attempt
// (DNS rebinding) is caught then.
//
//	s := webhooks.NewSender(webhooks.Options{})
//	status, answer, err := s.Send(ctx, "https://hooks.example.com/x", header, body)
package webhooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/claimsd/claimsd/domain/webhook"
	"github.com/claimsd/claimsd/workflows/webhookflow"
)

// Options configure a Sender.
type Options struct {
	// AllowPrivate lets attempts reach http:// URLs and private,
	// loopback and link-local addresses (development and tests).
	AllowPrivate bool
	// Timeout of an attempt; default webhook.Timeout.
	Timeout time.Duration
	// TLS, when set, is the client's TLS configuration (tests trust their
	// own server with it).
	TLS *tls.Config
}

// Sender implements webhookflow.Sender.
type Sender struct {
	client       *http.Client
	allowPrivate bool
}

var _ webhookflow.Sender = (*Sender)(nil)

// NewSender returns a Sender.
func NewSender(o Options) *Sender {
	if o.Timeout <= 0 {
		o.Timeout = webhook.Timeout
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !o.AllowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error { return webhook.CheckDial(address) }
	}
	tr := &http.Transport{
		// No proxy from the environment: it would be the one address
		// dialled, and the check would not see the receiver's.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        o.TLS,
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  o.Timeout,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    8,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
		MaxResponseHeaderBytes: 16 << 10,
	}
	return &Sender{
		allowPrivate: o.AllowPrivate,
		client: &http.Client{
			Transport: tr,
			Timeout:   o.Timeout,
			// A redirect is an answer, not a place to go: a 3xx fails the
			// attempt.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Send implements webhookflow.Sender.
func (s *Sender) Send(ctx context.Context, rawURL string, header http.Header, body []byte) (int, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, "", fmt.Errorf("endpoint URL: %w", err)
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !s.allowPrivate) {
		return 0, "", fmt.Errorf("refused to call %s://: endpoints must be https:// (CLAIMSD_WEBHOOK_ALLOW_PRIVATE=true allows http, for development)", u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("webhook request: %w", err)
	}
	req.Header = header.Clone()
	resp, err := s.client.Do(req)
	if err != nil {
		var refused *webhook.RefusedAddress
		if errors.As(err, &refused) {
			return 0, "", refused
		}
		return 0, "", fmt.Errorf("post: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	// At most MaxResponse is read; a body cut off, or longer, does not
	// change what the status says, and what is left is not waited for.
	b, _ := io.ReadAll(io.LimitReader(resp.Body, webhook.MaxResponse))
	return resp.StatusCode, printable(b), nil
}

// printable keeps the valid UTF-8 of a receiver's answer, at most 1 KiB of
// it, for the deliveries' list.
func printable(b []byte) string {
	const keep = 1 << 10
	if len(b) > keep {
		b = b[:keep]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
