// Package beforesend is the before-send hook over HTTP (chat.BeforeSend):
// every message is POSTed to one URL before it is stored, and the answer
// allows, rejects or rewrites it (docs/webhooks.md, "Before-send hook").
// The call has a hard timeout; when the endpoint fails (timeout, a status
// other than 200/204, a body that is not the documented JSON) the send goes
// ahead unchanged (fail open) or is refused as unavailable (fail closed).
// It never stores anything.
package beforesend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/notify"
	"github.com/confab-chat/confab/notify/webhook"
)

// Limits and defaults.
const (
	DefaultTimeout    = time.Second // the whole call, body read included
	MaxReasonBytes    = 200         // of a rejection's reason shown to the sender; longer is cut
	maxResponseBytes  = 1 << 20     // of the endpoint's answer; more is a failure
	FailOpen          = "open"      // an endpoint failure lets the message through unchanged
	FailClosed        = "closed"    // an endpoint failure refuses the message (CodeUnavailable)
	EventType         = "message.before_send"
	actionAllow       = "allow"
	actionReject      = "reject"
	actionRewrite     = "rewrite"
	defaultRejectText = "The message was rejected."
)

// Config configures the hook.
type Config struct {
	URL     string
	Timeout time.Duration // 0: DefaultTimeout
	Fail    string        // FailOpen or FailClosed; "" is FailOpen
	// Secret, when set ("whsec_…"), signs each call like a webhook.
	Secret string
	Logger *slog.Logger
	// Failed, when set, counts endpoint failures (a metric).
	Failed func()
}

// Hook calls the before-send endpoint. It is safe for concurrent use.
type Hook struct {
	cfg    Config
	client *http.Client
}

// New checks cfg and returns the hook.
func New(cfg Config) (*Hook, error) {
	if err := notify.CheckURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("before-send URL: %w", err)
	}
	switch cfg.Fail {
	case "":
		cfg.Fail = FailOpen
	case FailOpen, FailClosed:
	default:
		return nil, fmt.Errorf("before-send fail mode %q: want %s or %s", cfg.Fail, FailOpen, FailClosed)
	}
	if cfg.Secret != "" {
		if _, err := webhook.SecretKey(cfg.Secret); err != nil {
			return nil, err
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Failed == nil {
		cfg.Failed = func() {}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Hook{cfg: cfg, client: client}, nil
}

// Request is the JSON body of a call.
type Request struct {
	Type      string      `json:"type"` // EventType
	Timestamp time.Time   `json:"timestamp"`
	Data      MessageData `json:"data"`
}

// MessageData is the message about to be sent.
type MessageData struct {
	ConversationID  string   `json:"conversationId"`
	UserID          string   `json:"userId"`
	Content         string   `json:"content"`
	MessageType     string   `json:"messageType"`
	ParentMessageID string   `json:"parentMessageId,omitempty"`
	Mentions        []string `json:"mentions,omitempty"`
}

// Response is the JSON answer of the endpoint (a 204 is allow).
type Response struct {
	Action  string `json:"action"`            // allow, reject or rewrite
	Reason  string `json:"reason,omitempty"`  // reject: shown to the sender
	Content string `json:"content,omitempty"` // rewrite: the content to store
}

// BeforeSend implements chat.BeforeSend.
func (h *Hook) BeforeSend(ctx context.Context, m *confab.Message) (string, error) {
	r, err := h.call(ctx, m)
	if err != nil {
		h.cfg.Failed()
		h.cfg.Logger.Warn("before-send hook failed", "fail", h.cfg.Fail, "conversation_id", m.ConversationID, "user_id", m.UserID, "err", err)
		if h.cfg.Fail == FailClosed {
			return "", confab.Errorf(confab.CodeUnavailable, "The message could not be checked right now; try again.")
		}
		return m.Content, nil
	}
	switch r.Action {
	case actionReject:
		return "", confab.Errorf(confab.CodeInvalid, "%s", rejectText(r.Reason))
	case actionRewrite:
		return r.Content, nil
	}
	return m.Content, nil
}

// rejectText is the sender's error for reason: the endpoint's words when
// they are valid text, cut to MaxReasonBytes, else a generic sentence.
func rejectText(reason string) string {
	if reason == "" || confab.CheckText("reason", reason, 1<<20) != nil {
		return defaultRejectText
	}
	if len(reason) > MaxReasonBytes {
		reason = strings.ToValidUTF8(reason[:MaxReasonBytes], "") // a rune cut in two is dropped
	}
	return "The message was rejected: " + reason
}

// call posts m and decodes the answer; any error is the endpoint's
// failure.
func (h *Hook) call(ctx context.Context, m *confab.Message) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	now := time.Now()
	body, err := json.Marshal(Request{Type: EventType, Timestamp: now.UTC(), Data: MessageData{
		ConversationID: m.ConversationID, UserID: m.UserID, Content: m.Content, MessageType: string(m.MessageType),
		ParentMessageID: m.ParentMessageID, Mentions: m.Mentions}})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "confab-before-send")
	if h.cfg.Secret != "" {
		id := "bs_" + strconv.FormatInt(now.UnixNano(), 36)
		sig, err := webhook.Sign(h.cfg.Secret, id, now.Unix(), body)
		if err != nil {
			return nil, err
		}
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent:
		return &Response{Action: actionAllow}, nil
	case http.StatusOK:
	default:
		return nil, fmt.Errorf("endpoint answered %s", resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxResponseBytes {
		return nil, errors.New("answer larger than 1 MiB")
	}
	var r Response
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("answer is not JSON: %w", err)
	}
	switch r.Action {
	case actionAllow, actionReject:
	case actionRewrite:
		if err := confab.CheckText("content", r.Content, maxResponseBytes); err != nil {
			return nil, fmt.Errorf("rewrite: %w", err)
		}
	default:
		return nil, fmt.Errorf("unknown action %q", r.Action)
	}
	return &r, nil
}
