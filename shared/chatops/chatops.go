// Package chatops holds what every chat platform shares: the verified Message a platform
// extracts from a webhook, the Reply address later messages go to, the Platform interface the
// chatops server drives, and a few helpers the platform packages (slack, feishu, dingtalk,
// wecom) all need: a reply poster pinned to the platform's hosts, PKCS#7 and safe truncation.
package chatops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// A Message is one verified chat command.
type Message struct {
	Platform  string // "slack", "feishu", "dingtalk", "wecom"
	MessageID string // Slack trigger_id, Feishu message_id, DingTalk msgId, WeCom msgid
	User      string // Slack user_id, Feishu open_id, DingTalk senderStaffId, WeCom from.userid
	Text      string // the command text with the bot mention removed (not yet normalised)
	Reply     Reply  // where later messages go
}

// JobID is the job id and idempotency key: "<platform>:<message id>".
func (m Message) JobID() string { return m.Platform + ":" + m.MessageID }

// LogValue logs a message without its reply address (slog's JSON handler would print it).
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(slog.String("platform", m.Platform), slog.String("messageId", m.MessageID),
		slog.String("user", m.User), slog.String("text", m.Text))
}

// Reply is a platform's reply address. It is a bearer capability (whoever holds a Slack
// response_url or a DingTalk sessionWebhook can post into the conversation), so every fmt verb
// prints "[redacted]" and it has no JSON form: whoever stores it seals its exported fields.
type Reply struct {
	Platform  string
	URL       string    // Slack response_url, DingTalk sessionWebhook, WeCom response_url
	MessageID string    // Feishu: the message replied to
	Expires   time.Time // zero when the platform does not say
}

const redacted = "[redacted]"

func (Reply) String() string             { return redacted }
func (Reply) GoString() string           { return redacted }
func (Reply) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// LogValue keeps the address out of log/slog output too (its JSON handler would otherwise
// print the exported fields).
func (Reply) LogValue() slog.Value { return slog.StringValue(redacted) }

// Expired reports whether the platform's stated lifetime of r has ended at now.
func (r Reply) Expired(now time.Time) bool { return !r.Expires.IsZero() && !now.Before(r.Expires) }

// Inbound is one HTTP request as received (body already base64-decoded by the trigger).
type Inbound struct {
	Method string
	Header http.Header
	Query  url.Values
	Body   []byte
	Now    time.Time // the clock verification uses (tests inject it); zero: time.Now()
}

// Clock is the time verification uses: in.Now, or the wall clock when it is zero.
func (in Inbound) Clock() time.Time {
	if in.Now.IsZero() {
		return time.Now()
	}
	return in.Now
}

// HeaderValue looks a header up case-insensitively, whether in.Header was built with canonical
// keys (net/http) or with the lower-case keys API Gateway and Function URLs deliver.
func (in Inbound) HeaderValue(name string) string {
	if v := in.Header.Get(name); v != "" {
		return v
	}
	for k, vs := range in.Header {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs[0]
		}
	}
	return ""
}

// Outbound is an HTTP answer.
type Outbound struct {
	Status int
	Header http.Header
	Body   []byte
}

// ErrUnverified is wrapped by every verification failure (forged, stale, unsigned, tampered,
// wrong token, platform not configured): the server answers a bare 401 and does nothing.
var ErrUnverified = errors.New("chatops: request not verified")

// ErrIgnored is returned for a verified delivery that carries no command to act on (a Feishu
// event of another type, a message from a bot, a DingTalk corp not allowed, a reply address off
// the platform's host): the server answers 200 with an empty body and does nothing.
var ErrIgnored = errors.New("chatops: nothing to do")

// Unverified returns an error wrapping ErrUnverified that says why (never with a secret or a
// signature in it).
func Unverified(platform, why string) error {
	return &receiveError{kind: ErrUnverified, platform: platform, why: why}
}

// Ignored returns an error wrapping ErrIgnored that says why.
func Ignored(platform, why string) error {
	return &receiveError{kind: ErrIgnored, platform: platform, why: why}
}

type receiveError struct {
	kind          error
	platform, why string
}

func (e *receiveError) Error() string { return e.kind.Error() + ": " + e.platform + ": " + e.why }
func (e *receiveError) Unwrap() error { return e.kind }

// A Platform is one chat platform's side of chatops. It is safe for concurrent use.
type Platform interface {
	Name() string // "slack", ...
	// Missing names the unset settings (env variable names), "" when the platform is configured.
	Missing() string
	// Receive verifies in over its raw bytes, then either answers a handshake (Feishu
	// url_verification, WeCom GET echostr, Slack ssl_check: answer != nil, msg == nil) or
	// returns the command message. Errors wrap ErrUnverified or ErrIgnored.
	Receive(in Inbound) (msg *Message, answer *Outbound, err error)
	// Answer is the synchronous HTTP answer to msg. When the platform shows text in-band
	// (Slack: 200 JSON ephemeral; WeCom: encrypted passive reply) inBand is true; otherwise
	// (Feishu, DingTalk) the answer is an empty 200 and the text must be sent with Post.
	Answer(msg Message, text string) (answer Outbound, inBand bool)
	// Post sends text into reply's conversation (Slack response_url, Feishu reply API with a
	// cached tenant access token, DingTalk sessionWebhook checking errcode, WeCom response_url).
	// Hosts are pinned per platform (loopback allowed for tests); redirects are not followed.
	Post(ctx context.Context, reply Reply, text string) error
}
