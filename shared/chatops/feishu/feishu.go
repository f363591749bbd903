// Package feishu is Feishu's (and Lark's) side of chatops: im.message.receive_v1 events
// verified by the verification token and, with an encrypt key, by X-Lark-Signature and AES
// decryption; the url_verification handshake; replies through the message reply API with a
// cached tenant access token.
package feishu

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/chatops"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// DefaultAPIBase is Feishu's Open API; Lark's is https://open.larksuite.com.
const DefaultAPIBase = "https://open.feishu.cn"

// maxText bounds a reply's text in bytes. The reply API takes request bodies up to 150 KB, and
// the text travels JSON-escaped twice (content is a JSON string inside the JSON body), which
// can grow it up to seven times.
const maxText = 20000

// Config is what the Feishu side needs. Its secrets are redact.Secrets: no fmt verb, log or
// JSON encoding prints them.
type Config struct {
	VerificationToken redact.Secret // LBFN_FEISHU_VERIFICATION_TOKEN: checked on every event
	EncryptKey        redact.Secret // LBFN_FEISHU_ENCRYPT_KEY: when set, signature and AES required
	AppID             string        // LBFN_FEISHU_APP_ID: for replies
	AppSecret         redact.Secret // LBFN_FEISHU_APP_SECRET: for replies
	APIBase           string        // LBFN_FEISHU_API_BASE; "" is DefaultAPIBase
	HTTPClient        *http.Client  // for the Open API; nil: chatops.Client's default
}

type platform struct {
	cfg     Config
	base    string        // APIBase without a trailing slash, "" when it is not acceptable
	host    string        // the only host replies go to
	aesKey  redact.Secret // SHA-256 of EncryptKey, the AES-256 key; unset without one
	cache   *tokenCache   // the tenant access token
	baseErr bool
}

// New returns the Feishu platform.
func New(cfg Config) chatops.Platform {
	p := &platform{cfg: cfg}
	base := strings.TrimRight(cfg.APIBase, "/")
	if base == "" {
		base = DefaultAPIBase
	}
	if u, err := chatops.CheckURL(base, hostOf(base)); err == nil && (u.Path == "" || u.Path == "/") && u.RawQuery == "" {
		p.base, p.host = base, u.Hostname()
	} else {
		p.baseErr = true
	}
	if cfg.EncryptKey.IsSet() {
		key := sha256.Sum256([]byte(cfg.EncryptKey.Reveal()))
		p.aesKey = redact.NewSecret(string(key[:]))
	}
	p.cache = newTokenCache(p)
	return p
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func (p *platform) Name() string { return "feishu" }

func (p *platform) Missing() string {
	var m []string
	if !p.cfg.VerificationToken.IsSet() {
		m = append(m, "LBFN_FEISHU_VERIFICATION_TOKEN")
	}
	if p.cfg.AppID == "" {
		m = append(m, "LBFN_FEISHU_APP_ID")
	}
	if !p.cfg.AppSecret.IsSet() {
		m = append(m, "LBFN_FEISHU_APP_SECRET")
	}
	if p.baseErr {
		m = append(m, "LBFN_FEISHU_API_BASE (not an https base URL)")
	}
	return strings.Join(m, ", ")
}

// envelope is every shape Feishu posts: {"encrypt":…}, url_verification, and 2.0 events.
type envelope struct {
	Encrypt   string        `json:"encrypt"`
	Type      string        `json:"type"`
	Challenge string        `json:"challenge"`
	Token     redact.Secret `json:"token"` // url_verification (and 1.0 events)
	Schema    string        `json:"schema"`
	Header    struct {
		EventID   string        `json:"event_id"`
		EventType string        `json:"event_type"`
		Token     redact.Secret `json:"token"`
	} `json:"header"`
	Event json.RawMessage `json:"event"`
}

type messageEvent struct {
	Sender struct {
		SenderID struct {
			OpenID string `json:"open_id"`
		} `json:"sender_id"`
		SenderType string `json:"sender_type"`
	} `json:"sender"`
	Message struct {
		MessageID   string `json:"message_id"`
		MessageType string `json:"message_type"`
		Content     string `json:"content"`
		Mentions    []struct {
			Key string `json:"key"`
		} `json:"mentions"`
	} `json:"message"`
}

// Receive verifies an event and extracts the command, or answers url_verification.
//
// Without an encrypt key the only proof is the verification token inside the JSON, so the
// body has to be decoded to be verified; nothing in it is acted on before the token matched.
// With an encrypt key every request is encrypted, and every event is signed over the raw
// body, checked before it is decoded; url_verification alone is unsigned (Feishu does not
// sign it), so it is accepted only when it decrypts with the key and carries the token.
func (p *platform) Receive(in chatops.Inbound) (*chatops.Message, *chatops.Outbound, error) {
	if m := p.Missing(); m != "" {
		return nil, nil, chatops.Unverified("feishu", m+" not set")
	}
	if in.Method != http.MethodPost {
		return nil, nil, chatops.Unverified("feishu", "not a POST")
	}
	encrypted := p.cfg.EncryptKey.IsSet()
	signed := false
	if encrypted {
		if sig := in.HeaderValue("X-Lark-Signature"); sig != "" {
			if !p.signatureOK(in, sig) {
				return nil, nil, chatops.Unverified("feishu", "X-Lark-Signature does not match")
			}
			signed = true
		}
	}
	var env envelope
	if err := json.Unmarshal(in.Body, &env); err != nil {
		return nil, nil, chatops.Unverified("feishu", "body is not JSON")
	}
	switch {
	case env.Encrypt != "" && !encrypted:
		return nil, nil, chatops.Unverified("feishu", "encrypted event but LBFN_FEISHU_ENCRYPT_KEY is not set")
	case env.Encrypt == "" && encrypted:
		return nil, nil, chatops.Unverified("feishu", "plain event while an encrypt key is set")
	case encrypted:
		plain, err := p.decrypt(env.Encrypt)
		if err != nil {
			return nil, nil, chatops.Unverified("feishu", "cannot decrypt: "+err.Error())
		}
		env = envelope{}
		if err := json.Unmarshal(plain, &env); err != nil || env.Encrypt != "" {
			return nil, nil, chatops.Unverified("feishu", "decrypted event is not a plain JSON event")
		}
	}

	if env.Type == "url_verification" {
		if !p.tokenOK(env.Token) {
			return nil, nil, chatops.Unverified("feishu", "url_verification token does not match")
		}
		body, _ := json.Marshal(map[string]string{"challenge": env.Challenge})
		return nil, &chatops.Outbound{Status: http.StatusOK,
			Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, Body: body}, nil
	}
	if encrypted && !signed {
		return nil, nil, chatops.Unverified("feishu", "event without X-Lark-Signature")
	}
	token := env.Header.Token
	if env.Schema != "2.0" {
		token = env.Token // a 1.0 event carries it at the top
	}
	if !p.tokenOK(token) {
		return nil, nil, chatops.Unverified("feishu", "verification token does not match")
	}

	if env.Schema != "2.0" || env.Header.EventType != "im.message.receive_v1" {
		return nil, nil, chatops.Ignored("feishu", "not an im.message.receive_v1 event")
	}
	var ev messageEvent
	if err := json.Unmarshal(env.Event, &ev); err != nil {
		return nil, nil, chatops.Ignored("feishu", "malformed event")
	}
	if ev.Sender.SenderType != "user" {
		return nil, nil, chatops.Ignored("feishu", "sender is not a user")
	}
	m := ev.Message
	if m.MessageType != "text" {
		return nil, nil, chatops.Ignored("feishu", "not a text message")
	}
	if !validMessageID(m.MessageID) || ev.Sender.SenderID.OpenID == "" {
		return nil, nil, chatops.Ignored("feishu", "no message_id or sender open_id")
	}
	var content struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal([]byte(m.Content), &content); err != nil {
		return nil, nil, chatops.Ignored("feishu", "message content is not JSON")
	}
	text := content.Text
	for _, mention := range m.Mentions {
		if mention.Key != "" {
			text = strings.ReplaceAll(text, mention.Key, "")
		}
	}
	return &chatops.Message{
		Platform:  "feishu",
		MessageID: m.MessageID,
		User:      ev.Sender.SenderID.OpenID,
		Text:      strings.TrimSpace(text),
		Reply:     chatops.Reply{Platform: "feishu", MessageID: m.MessageID},
	}, nil, nil
}

func (p *platform) tokenOK(token redact.Secret) bool {
	return token.IsSet() && subtle.ConstantTimeCompare([]byte(token.Reveal()), []byte(p.cfg.VerificationToken.Reveal())) == 1
}

// signatureOK checks X-Lark-Signature = hex(SHA-256(timestamp + nonce + encryptKey + body)):
// plain SHA-256, not an HMAC, as Feishu defines it.
func (p *platform) signatureOK(in chatops.Inbound, sig string) bool {
	want, err := hex.DecodeString(sig)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	h := sha256.New()
	h.Write([]byte(in.HeaderValue("X-Lark-Request-Timestamp")))
	h.Write([]byte(in.HeaderValue("X-Lark-Request-Nonce")))
	h.Write([]byte(p.cfg.EncryptKey.Reveal()))
	h.Write(in.Body)
	return subtle.ConstantTimeCompare(h.Sum(nil), want) == 1
}

// decrypt opens an "encrypt" value: base64 of IV(16) + AES-256-CBC(SHA-256(key)) with strict
// PKCS#7. (The official SDK instead cuts from the first "{" to the last "}", which leaves the
// padding of its own documented vector in place.)
func (p *platform) decrypt(s string) ([]byte, error) {
	buf, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64")
	}
	if len(buf) < 32 {
		return nil, errors.New("too short")
	}
	return chatops.DecryptCBC([]byte(p.aesKey.Reveal()), buf[:16], buf[16:], 16)
}

// validMessageID accepts what Feishu message ids are made of ("om_" + hex, letters, digits,
// "_" and "-"), so the id can go into the reply path as it is.
func validMessageID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Answer is an empty 200: Feishu shows nothing from the HTTP answer, so text goes by Post.
func (p *platform) Answer(chatops.Message, string) (chatops.Outbound, bool) {
	return chatops.Outbound{Status: http.StatusOK}, false
}

// replyAPI names the reply API in errors.
const replyAPI = "feishu reply API"

// Post replies to the message with text through the reply API. The uuid is derived from the
// message and the text, so a post repeated within the hour (a retry, a redelivered command's
// acknowledgement) is shown once.
func (p *platform) Post(ctx context.Context, reply chatops.Reply, text string) error {
	if err := chatops.CheckReply(replyAPI, "feishu", reply, time.Now()); err != nil {
		return err
	}
	if !validMessageID(reply.MessageID) {
		return op.Errorf(op.KindValidation, "%s: not a Feishu message id", replyAPI)
	}
	if m := p.Missing(); m != "" {
		return op.Errorf(op.KindConfig, "%s: %s not set", replyAPI, m)
	}
	text = chatops.Truncate(text, maxText)
	content, _ := json.Marshal(map[string]string{"text": text})
	sum := sha256.Sum256([]byte(reply.MessageID + "\n" + text))
	body, _ := json.Marshal(struct {
		MsgType string `json:"msg_type"`
		Content string `json:"content"`
		UUID    string `json:"uuid"`
	}{"text", string(content), hex.EncodeToString(sum[:16])})

	token, err := p.cache.get(ctx)
	if err != nil {
		return err
	}
	refused, err := p.send(ctx, reply.MessageID, token, body)
	if !refused {
		return err
	}
	// Feishu refused a token it had given (revoked, or expired before its stated time): drop
	// it and send once more at once with a fresh one. The uuid makes Feishu show the reply
	// once should the first have been taken after all. A fresh token refused too is the
	// app's to fix, not something a later attempt mends.
	p.cache.drop(token)
	if token, err = p.cache.get(ctx); err != nil {
		return err
	}
	if refused, err = p.send(ctx, reply.MessageID, token, body); refused {
		p.cache.drop(token)
	}
	if err != nil {
		return op.AsError(err).WithAttempts(2)
	}
	return nil
}

// send posts one reply with token, and reports whether Feishu refused the token.
func (p *platform) send(ctx context.Context, messageID string, token redact.Secret, body []byte) (refused bool, err error) {
	status, answer, err := chatops.PostJSON(ctx, p.cfg.HTTPClient, replyAPI,
		p.base+"/open-apis/im/v1/messages/"+messageID+"/reply", []string{p.host},
		http.Header{"Authorization": {"Bearer " + token.Reveal()}, "Content-Type": {"application/json; charset=utf-8"}}, body)
	if err != nil {
		return false, err
	}
	var res apiAnswer
	if json.Unmarshal(answer, &res) == nil && res.Code != nil && *res.Code != 0 {
		if tokenRejected(*res.Code) {
			return true, chatops.CodeError(op.KindAuth, replyAPI, *res.Code, res.Msg, token, p.cfg.AppSecret)
		}
		return false, chatops.CodeError(op.KindProvider, replyAPI, *res.Code, res.Msg, token, p.cfg.AppSecret)
	}
	if status/100 != 2 {
		return false, chatops.StatusError(replyAPI, status)
	}
	if res.Code == nil {
		return false, op.Errorf(op.KindProvider, "%s: answer without a code", replyAPI)
	}
	return false, nil
}

type apiAnswer struct {
	Code *int64 `json:"code"`
	Msg  string `json:"msg"`
}

// tokenRejected reports the Open API codes for an invalid or expired tenant access token.
func tokenRejected(code int64) bool {
	return code == 99991663 || code == 99991668 || code == 99991661
}
