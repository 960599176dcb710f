package webhooks_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/claimsd/claimsd/adapters/webhooks"
	"github.com/claimsd/claimsd/domain/webhook"
)

func header() http.Header {
	h := http.Header{}
	h.Set("webhook-id", "evt_test")
	return h
}

// countingServer answers status and counts what reaches it.
func countingServer(t *testing.T, tls bool, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	f := func(w http.ResponseWriter, r *http.Request) { n.Add(1); h(w, r) }
	var s *httptest.Server
	if tls {
		s = httptest.NewTLSServer(http.HandlerFunc(f))
	} else {
		s = httptest.NewServer(http.HandlerFunc(f))
	}
	t.Cleanup(s.Close)
	return s, &n
}

// TestPrivateAddressesAreRefused: by default the sender will not connect
// to this machine, whatever the name that led there, nor speak plain
// http; the receiver hears nothing.
func TestPrivateAddressesAreRefused(t *testing.T) {
	t.Parallel()
	srv, hits := countingServer(t, true, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	plain, plainHits := countingServer(t, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	s := webhooks.NewSender(webhooks.Options{TLS: srv.Client().Transport.(*http.Transport).TLSClientConfig})
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	for _, u := range []string{srv.URL + "/hook", "https://localhost:" + port + "/hook"} {
		status, _, err := s.Send(context.Background(), u, header(), []byte(`{}`))
		var refused *webhook.RefusedAddress
		require.ErrorAs(t, err, &refused, "%s", u)
		require.Contains(t, refused.Why, "loopback")
		require.Zero(t, status)
	}
	status, _, err := s.Send(context.Background(), plain.URL, header(), []byte(`{}`))
	require.ErrorContains(t, err, "https://")
	require.Zero(t, status)
	require.Zero(t, hits.Load())
	require.Zero(t, plainHits.Load())

	// Allowed, for development, the same receiver answers.
	dev := webhooks.NewSender(webhooks.Options{AllowPrivate: true, TLS: srv.Client().Transport.(*http.Transport).TLSClientConfig})
	status, _, err = dev.Send(context.Background(), srv.URL, header(), []byte(`{}`))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, status)
	require.Equal(t, int64(1), hits.Load())
}

// TestRedirectsAreNotFollowed: a 3xx is the answer; where it points
// hears nothing.
func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	target, hits := countingServer(t, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	from, _ := countingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	})
	s := webhooks.NewSender(webhooks.Options{AllowPrivate: true})
	status, _, err := s.Send(context.Background(), from.URL, header(), []byte(`{}`))
	require.NoError(t, err)
	require.Equal(t, http.StatusTemporaryRedirect, status)
	require.Equal(t, webhook.Failed, webhook.Classify(status, err))
	require.Zero(t, hits.Load())
}

// TestASlowReceiverIsCutOff: an answer that does not come within the
// timeout fails the attempt.
func TestASlowReceiverIsCutOff(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow, _ := countingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	})
	defer close(release)
	s := webhooks.NewSender(webhooks.Options{AllowPrivate: true, Timeout: 200 * time.Millisecond})
	status, _, err := s.Send(context.Background(), slow.URL, header(), []byte(`{}`))
	require.Error(t, err)
	require.Zero(t, status)
	var ne interface{ Timeout() bool }
	require.True(t, errors.As(err, &ne) && ne.Timeout(), "a timeout: %v", err)
}

// TestALongAnswerIsCut: a receiver that answers a megabyte has its
// status taken and only the first kilobyte kept.
func TestALongAnswerIsCut(t *testing.T) {
	t.Parallel()
	big, _ := countingServer(t, false, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(strings.Repeat("é", 1<<19)))
	})
	s := webhooks.NewSender(webhooks.Options{AllowPrivate: true})
	status, answer, err := s.Send(context.Background(), big.URL, header(), []byte(`{}`))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.LessOrEqual(t, len(answer), 1<<10+3)
	require.True(t, strings.HasPrefix(answer, "éé"))
}
