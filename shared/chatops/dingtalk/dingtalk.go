// Package dingtalk is DingTalk's side of chatops: an enterprise-internal robot in HTTP mode,
// whose callbacks carry a timestamp signed with the app secret (the body is not signed), so
// the robot's corp is allow-listed and message ids are deduplicated; replies go to the
// message's sessionWebhook.
package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/chatops"
	"github.com/lbfn/lbfn/shared/redact"
)

// Host is the only host a sessionWebhook may point at (besides loopback, for tests).
const Host = "oapi.dingtalk.com"

const (
	// window is how far the signed timestamp may be from now, either side (DingTalk's hour).
	window = time.Hour
	// maxText bounds a reply's text in bytes. DingTalk states no limit for sessionWebhook
	// text; this keeps replies well inside what its robot messages are known to take.
	maxText = 4000
)

// Config is what the DingTalk side needs. Its secret is a redact.Secret: no fmt verb, log or
// JSON encoding prints it.
type Config struct {
	AppSecret  redact.Secret // LBFN_DINGTALK_APP_SECRET
	CorpIDs    []string      // LBFN_DINGTALK_CORP_IDS: the chatbotCorpIds accepted
	HTTPClient *http.Client  // for sessionWebhook posts; nil: chatops.Client's default
}

type platform struct {
	cfg   Config
	corps map[string]bool
	seen  *seenSet
}

// New returns the DingTalk platform.
func New(cfg Config) chatops.Platform {
	p := &platform{cfg: cfg, corps: map[string]bool{}, seen: newSeenSet(maxSeen, window)}
	for _, c := range cfg.CorpIDs {
		if c = strings.TrimSpace(c); c != "" {
			p.corps[c] = true
		}
	}
	return p
}

func (p *platform) Name() string { return "dingtalk" }

func (p *platform) Missing() string {
	var m []string
	if !p.cfg.AppSecret.IsSet() {
		m = append(m, "LBFN_DINGTALK_APP_SECRET")
	}
	if len(p.corps) == 0 {
		m = append(m, "LBFN_DINGTALK_CORP_IDS")
	}
	return strings.Join(m, ", ")
}

type callback struct {
	MsgID   string `json:"msgId"`
	MsgType string `json:"msgtype"`
	Text    struct {
		Content string `json:"content"`
	} `json:"text"`
	SenderStaffID             string `json:"senderStaffId"`
	ChatbotCorpID             string `json:"chatbotCorpId"`
	SessionWebhook            string `json:"sessionWebhook"`
	SessionWebhookExpiredTime int64  `json:"sessionWebhookExpiredTime"`
}

// Receive verifies the sign header and extracts the command.
func (p *platform) Receive(in chatops.Inbound) (*chatops.Message, *chatops.Outbound, error) {
	if m := p.Missing(); m != "" {
		return nil, nil, chatops.Unverified("dingtalk", m+" not set")
	}
	if in.Method != http.MethodPost {
		return nil, nil, chatops.Unverified("dingtalk", "not a POST")
	}
	now := in.Clock()
	if err := p.verify(in.HeaderValue("timestamp"), in.HeaderValue("sign"), now); err != nil {
		return nil, nil, err
	}
	// The body is not covered by the signature: anyone holding one signed timestamp could
	// post any body within the hour. The corp allow-list, the pinned reply host and the
	// msgId dedupe bound what such a body can do.
	var cb callback
	if err := json.Unmarshal(in.Body, &cb); err != nil {
		return nil, nil, chatops.Ignored("dingtalk", "body is not a JSON message")
	}
	if !p.corps[cb.ChatbotCorpID] {
		return nil, nil, chatops.Ignored("dingtalk", "chatbotCorpId is not in LBFN_DINGTALK_CORP_IDS")
	}
	if cb.MsgType != "text" {
		return nil, nil, chatops.Ignored("dingtalk", "not a text message")
	}
	if cb.MsgID == "" || cb.SenderStaffID == "" {
		return nil, nil, chatops.Ignored("dingtalk", "no msgId or senderStaffId")
	}
	if _, err := chatops.CheckURL(cb.SessionWebhook, Host); err != nil {
		return nil, nil, chatops.Ignored("dingtalk", "sessionWebhook: "+err.Error())
	}
	reply := chatops.Reply{Platform: "dingtalk", URL: cb.SessionWebhook}
	if cb.SessionWebhookExpiredTime > 0 {
		reply.Expires = time.UnixMilli(cb.SessionWebhookExpiredTime)
		if reply.Expired(now) {
			return nil, nil, chatops.Ignored("dingtalk", "sessionWebhook already expired")
		}
	}
	if !p.seen.add(cb.MsgID, now) {
		return nil, nil, chatops.Ignored("dingtalk", "msgId seen in the last hour")
	}
	return &chatops.Message{
		Platform:  "dingtalk",
		MessageID: cb.MsgID,
		User:      cb.SenderStaffID,
		Text:      strings.TrimSpace(cb.Text.Content), // a space is left where the @mention was
		Reply:     reply,
	}, nil, nil
}

// verify checks sign = base64(HMAC-SHA256(appSecret, timestamp + "\n" + appSecret)), the
// timestamp in milliseconds within an hour of now.
func (p *platform) verify(tsText, sign string, now time.Time) error {
	if tsText == "" || sign == "" {
		return chatops.Unverified("dingtalk", "unsigned request")
	}
	ms, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || ms < 0 {
		return chatops.Unverified("dingtalk", "bad timestamp")
	}
	if d := now.Sub(time.UnixMilli(ms)); d > window || d < -window {
		return chatops.Unverified("dingtalk", "timestamp outside the 1-hour window")
	}
	got, err := base64.StdEncoding.DecodeString(sign)
	if err != nil || len(got) != sha256.Size {
		return chatops.Unverified("dingtalk", "malformed sign")
	}
	secret := p.cfg.AppSecret.Reveal()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(tsText + "\n" + secret))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return chatops.Unverified("dingtalk", "sign does not match")
	}
	return nil
}

// Answer is an empty 200: DingTalk's robot shows what is posted to sessionWebhook.
func (p *platform) Answer(chatops.Message, string) (chatops.Outbound, bool) {
	return chatops.Outbound{Status: http.StatusOK}, false
}

// Post sends text to the message's sessionWebhook and checks DingTalk's errcode, which
// reports failures under HTTP 200.
func (p *platform) Post(ctx context.Context, reply chatops.Reply, text string) error {
	const what = "dingtalk sessionWebhook"
	if err := chatops.CheckReply(what, "dingtalk", reply, time.Now()); err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{
		"msgtype": "text",
		"text":    map[string]string{"content": chatops.Truncate(text, maxText)},
	})
	return chatops.PostErrcode(ctx, p.cfg.HTTPClient, what, Host, reply, body)
}
