package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/claimsd/claimsd/workflows/claimflow"
)

// WebhookEvents remembers which events were processed, so a replayed
// delivery is acknowledged without acting twice.
type WebhookEvents interface {
	WebhookSeen(ctx context.Context, provider, eventID string) (bool, error)
	WebhookProcessed(ctx context.Context, provider, eventID, eventType string) error
}

// Webhook receives Stripe's events at POST /webhooks/stripe: it checks the
// Stripe-Signature header (HMAC of timestamp and body, within Tolerance),
// processes each event id once and settles refunds through the Settler.
type Webhook struct {
	Secret    string
	Settler   *claimflow.Settler
	Events    WebhookEvents
	Tolerance time.Duration // default 5 minutes, Stripe's
	Log       *slog.Logger
}

// maxWebhookBody bounds what one delivery may send.
const maxWebhookBody = 1 << 20

func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxWebhookBody))
	if err != nil {
		writeJSON(rw, http.StatusRequestEntityTooLarge, "body_too_large", "the event is too large")
		return
	}
	tol := w.Tolerance
	if tol <= 0 {
		tol = webhook.DefaultTolerance
	}
	ev, err := webhook.ConstructEventWithOptions(body, r.Header.Get("Stripe-Signature"), w.Secret,
		webhook.ConstructEventOptions{Tolerance: tol})
	if err != nil {
		code, msg := "invalid_signature", "the Stripe-Signature header does not match this payload"
		switch {
		case errors.Is(err, webhook.ErrTooOld):
			code, msg = "stale_event", "the signature's timestamp is too old"
		case strings.Contains(err.Error(), "API version"):
			code, msg = "unsupported_api_version", "the event's API version is not "+stripego.APIVersion
		}
		log.Warn("stripe webhook refused", "code", code, "err", err)
		writeJSON(rw, http.StatusBadRequest, code, msg)
		return
	}
	ctx := r.Context()
	seen, err := w.Events.WebhookSeen(ctx, "stripe", ev.ID)
	if err != nil {
		writeJSON(rw, http.StatusServiceUnavailable, "unavailable", "try again")
		return
	}
	if seen {
		writeJSON(rw, http.StatusOK, "", "")
		return
	}
	for _, u := range refundUpdates(ev) {
		if err := w.Settler.Settle(ctx, u); errors.Is(err, claimflow.ErrNotFound) {
			// A refund made for a claim this engine does not hold (another
			// system on the same Stripe account): nothing to do here.
			log.Info("stripe webhook: refund of an unknown claim", "event_id", ev.ID, "refund_id", u.RefundID, "claim_id", u.ClaimID)
			continue
		} else if err != nil {
			// Stripe retries a delivery that did not get a 2xx.
			level := slog.LevelError
			if errors.Is(err, claimflow.ErrRefundNotRecorded) {
				level = slog.LevelInfo
			}
			log.Log(ctx, level, "stripe webhook: settle refund later", "event_id", ev.ID, "refund_id", u.RefundID, "err", err)
			writeJSON(rw, http.StatusServiceUnavailable, "unavailable", "try again")
			return
		}
	}
	if err := w.Events.WebhookProcessed(ctx, "stripe", ev.ID, string(ev.Type)); err != nil {
		log.Error("stripe webhook: record event", "event_id", ev.ID, "err", err)
	}
	writeJSON(rw, http.StatusOK, "", "")
}

// refundUpdates reads the refunds an event speaks of. With API version
// 2023-10-16 card refunds arrive as charge.refunded (the charge, with its
// refunds when included) and charge.refund.updated (the refund); other
// payment methods as refund.* events (the refund).
func refundUpdates(ev stripego.Event) []claimflow.RefundUpdate {
	if ev.Data == nil {
		return nil
	}
	var refunds []*stripego.Refund
	switch {
	case ev.Type == "charge.refunded":
		var ch stripego.Charge
		if json.Unmarshal(ev.Data.Raw, &ch) == nil && ch.Refunds != nil {
			refunds = ch.Refunds.Data
		}
	case strings.HasPrefix(string(ev.Type), "charge.refund.") || strings.HasPrefix(string(ev.Type), "refund."):
		var re stripego.Refund
		if json.Unmarshal(ev.Data.Raw, &re) == nil {
			refunds = append(refunds, &re)
		}
	}
	var out []claimflow.RefundUpdate
	for _, re := range refunds {
		if re == nil || re.ID == "" {
			continue
		}
		out = append(out, claimflow.RefundUpdate{
			Provider: "stripe", RefundID: re.ID, ClaimID: re.Metadata["claim_id"],
			Status: string(re.Status), FailureReason: string(re.FailureReason),
		})
	}
	return out
}

func writeJSON(rw http.ResponseWriter, status int, code, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	if code == "" {
		_, _ = rw.Write([]byte(`{"received":true}`))
		return
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	_, _ = rw.Write(b)
}
