// Package wecom is WeCom's (企业微信) side of chatops: a smart robot (智能机器人) in API mode.
// Its GET echostr handshake and its encrypted JSON callbacks are verified by msg_signature and
// decrypted with the EncodingAESKey; the acknowledgement goes back in-band as an encrypted
// passive reply, later messages to the callback's response_url.
package wecom

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/lbfn/lbfn/shared/chatops"
	"github.com/lbfn/lbfn/shared/redact"
)

// Host is the only host a response_url may point at (besides loopback, for tests).
const Host = "qyapi.weixin.qq.com"

const (
	// window bounds the signed timestamp's distance from now. WeCom states none; an hour is
	// how long the response_url of a callback lasts, so an older callback could not be
	// answered anyway, and a captured one cannot be replayed for long.
	window = time.Hour
	// replyLifetime is how long a response_url is valid (once, within an hour).
	replyLifetime = time.Hour
	// maxStream bounds a passive reply's stream content (WeCom: 20480 bytes of UTF-8).
	maxStream = 20480
	// maxMarkdown bounds a response_url message's markdown in bytes: WeCom's robot markdown
	// limit of 4096 bytes, the strictest it documents for robot messages.
	maxMarkdown = 4096
)

// Config is what the WeCom side needs. Its secrets are redact.Secrets: no fmt verb, log or
// JSON encoding prints them.
type Config struct {
	Token          redact.Secret // LBFN_WECOM_TOKEN
	EncodingAESKey redact.Secret // LBFN_WECOM_ENCODING_AES_KEY (43 characters)
	HTTPClient     *http.Client  // for response_url posts; nil: chatops.Client's default
}

type platform struct {
	cfg Config
	// key is the 32-byte AES key EncodingAESKey encodes, unset when EncodingAESKey is unset
	// or malformed. It is a secret too, so printing the platform prints neither.
	key redact.Secret
}

// New returns the WeCom platform.
func New(cfg Config) chatops.Platform {
	p := &platform{cfg: cfg}
	if key, err := aesKey(cfg.EncodingAESKey.Reveal()); err == nil {
		p.key = redact.NewSecret(string(key))
	}
	return p
}

func (p *platform) Name() string { return "wecom" }

func (p *platform) Missing() string {
	var m []string
	if !p.cfg.Token.IsSet() {
		m = append(m, "LBFN_WECOM_TOKEN")
	}
	switch {
	case !p.cfg.EncodingAESKey.IsSet():
		m = append(m, "LBFN_WECOM_ENCODING_AES_KEY")
	case !p.key.IsSet():
		m = append(m, "LBFN_WECOM_ENCODING_AES_KEY (not a 43-character EncodingAESKey)")
	}
	return strings.Join(m, ", ")
}

type callback struct {
	MsgID    string `json:"msgid"`
	ChatType string `json:"chattype"`
	From     struct {
		UserID string `json:"userid"`
	} `json:"from"`
	ResponseURL string `json:"response_url"`
	MsgType     string `json:"msgtype"`
	Text        struct {
		Content string `json:"content"`
	} `json:"text"`
}

// Receive answers the GET echostr handshake, or verifies, decrypts and extracts a callback.
func (p *platform) Receive(in chatops.Inbound) (*chatops.Message, *chatops.Outbound, error) {
	if m := p.Missing(); m != "" {
		return nil, nil, chatops.Unverified("wecom", m+" not set")
	}
	sig, ts, nonce := in.Query.Get("msg_signature"), in.Query.Get("timestamp"), in.Query.Get("nonce")
	if sig == "" || ts == "" || nonce == "" {
		return nil, nil, chatops.Unverified("wecom", "unsigned request")
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, nil, chatops.Unverified("wecom", "bad timestamp")
	}
	if d := in.Clock().Sub(time.Unix(secs, 0)); d > window || d < -window {
		return nil, nil, chatops.Unverified("wecom", "timestamp outside the 1-hour window")
	}
	switch in.Method {
	case http.MethodGet:
		return p.handshake(in, sig, ts, nonce)
	case http.MethodPost:
	default:
		return nil, nil, chatops.Unverified("wecom", "neither GET nor POST")
	}

	// The signature covers the "encrypt" value, not the raw body, so that one field is read
	// first; nothing else is looked at before it verified.
	var env struct {
		Encrypt string `json:"encrypt"`
	}
	if err := json.Unmarshal(in.Body, &env); err != nil || env.Encrypt == "" {
		return nil, nil, chatops.Unverified("wecom", "body is not {\"encrypt\":…}")
	}
	if !signatureOK(sig, p.cfg.Token.Reveal(), ts, nonce, env.Encrypt) {
		return nil, nil, chatops.Unverified("wecom", "msg_signature does not match")
	}
	plain, receiveID, err := decrypt([]byte(p.key.Reveal()), env.Encrypt)
	if err != nil || receiveID != "" {
		return nil, nil, chatops.Unverified("wecom", "cannot decrypt the callback")
	}
	var cb callback
	if err := json.Unmarshal(plain, &cb); err != nil {
		return nil, nil, chatops.Ignored("wecom", "callback is not JSON")
	}
	if cb.MsgType != "text" {
		return nil, nil, chatops.Ignored("wecom", "not a text message")
	}
	if cb.MsgID == "" || cb.From.UserID == "" {
		return nil, nil, chatops.Ignored("wecom", "no msgid or from.userid")
	}
	if _, err := chatops.CheckURL(cb.ResponseURL, Host); err != nil {
		return nil, nil, chatops.Ignored("wecom", "response_url: "+err.Error())
	}
	return &chatops.Message{
		Platform:  "wecom",
		MessageID: cb.MsgID,
		User:      cb.From.UserID,
		Text:      stripMention(cb.Text.Content),
		Reply:     chatops.Reply{Platform: "wecom", URL: cb.ResponseURL, Expires: in.Clock().Add(replyLifetime)},
	}, nil, nil
}

// handshake verifies and decrypts echostr and answers its plaintext, bare (no quotes, BOM or
// newline), as WeCom requires. A smart robot's echostr carries no receiveid.
func (p *platform) handshake(in chatops.Inbound, sig, ts, nonce string) (*chatops.Message, *chatops.Outbound, error) {
	// Base64 has no spaces: one here was a raw "+" that query decoding turned into a space.
	echo := strings.ReplaceAll(in.Query.Get("echostr"), " ", "+")
	if echo == "" {
		return nil, nil, chatops.Unverified("wecom", "GET without echostr")
	}
	if !signatureOK(sig, p.cfg.Token.Reveal(), ts, nonce, echo) {
		return nil, nil, chatops.Unverified("wecom", "msg_signature does not match")
	}
	plain, receiveID, err := decrypt([]byte(p.key.Reveal()), echo)
	if err != nil || receiveID != "" {
		return nil, nil, chatops.Unverified("wecom", "cannot decrypt echostr")
	}
	return nil, &chatops.Outbound{Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: plain}, nil
}

// stripMention drops the leading "@BotName" WeCom leaves in a group message's text.
func stripMention(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "@") {
		if i := strings.IndexFunc(s, unicode.IsSpace); i > 0 {
			s = s[i:]
		} else {
			s = ""
		}
	}
	return strings.TrimSpace(s)
}

// Answer is the encrypted passive reply: a finished stream message carrying text.
func (p *platform) Answer(msg chatops.Message, text string) (chatops.Outbound, bool) {
	streamID := sha256.Sum256([]byte("lbfn stream " + msg.MessageID))
	plain, _ := json.Marshal(map[string]any{
		"msgtype": "stream",
		"stream": map[string]any{
			"id":      hex.EncodeToString(streamID[:16]),
			"finish":  true, // finished: WeCom stops asking for more
			"content": chatops.Truncate(text, maxStream),
		},
	})
	body, err := p.seal(plain, time.Now())
	if err != nil {
		// Without a sealed answer, an empty 200 still acknowledges; the text is lost.
		return chatops.Outbound{Status: http.StatusOK}, false
	}
	return chatops.Outbound{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: body}, true
}

// seal encrypts a passive reply into {"encrypt","msgsignature","timestamp","nonce"}, the
// strings of WeCom's JSON template.
func (p *platform) seal(plain []byte, now time.Time) ([]byte, error) {
	if !p.key.IsSet() || !p.cfg.Token.IsSet() {
		return nil, errors.New("wecom: not configured")
	}
	encrypted, err := encrypt([]byte(p.key.Reveal()), plain, "")
	if err != nil {
		return nil, err
	}
	var n [8]byte
	if _, err := rand.Read(n[:]); err != nil {
		return nil, err
	}
	ts, nonce := strconv.FormatInt(now.Unix(), 10), hex.EncodeToString(n[:])
	return json.Marshal(map[string]string{
		"encrypt":      encrypted,
		"msgsignature": signature(p.cfg.Token.Reveal(), ts, nonce, encrypted),
		"timestamp":    ts,
		"nonce":        nonce,
	})
}

// Post sends text as markdown to the callback's response_url (plain JSON, not encrypted) and
// checks WeCom's errcode, which reports failures under HTTP 200.
func (p *platform) Post(ctx context.Context, reply chatops.Reply, text string) error {
	const what = "wecom response_url"
	if err := chatops.CheckReply(what, "wecom", reply, time.Now()); err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{
		"msgtype":  "markdown",
		"markdown": map[string]string{"content": chatops.Truncate(text, maxMarkdown)},
	})
	return chatops.PostErrcode(ctx, p.cfg.HTTPClient, what, Host, reply, body)
}
