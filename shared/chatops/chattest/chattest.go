// Package chattest plays the chat platforms for tests of chatops from the outside: it builds
// the webhook requests each platform sends (signed, and encrypted where the platform
// encrypts, as shared/docs/chatops.md describes them), and serves, on one loopback server,
// the reply side of all four: Slack response_url, the Feishu Open API (tenant token and
// message reply), DingTalk sessionWebhook and WeCom response_url, recording every message
// posted. It is test-only: no function binary links it.
package chattest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/chatops"
	"github.com/lbfn/lbfn/shared/redact"
)

// The Feishu app the fake Open API accepts, and the token it hands out.
const (
	FeishuAppID       = "cli_lbfntest"
	FeishuAppSecret   = "feishu-app-secret-for-tests"
	FeishuTenantToken = "t-lbfn-tenant-token"
)

// A Posted is one message a platform received from chatops.
type Posted struct {
	Platform string // "slack", "feishu", "dingtalk", "wecom"
	Target   string // the response_url id, Feishu message id, DingTalk session or WeCom response code
	Text     string
}

// Platforms is the reply side of the four platforms on one loopback server.
type Platforms struct {
	URL string

	mu     sync.Mutex
	posted []Posted
	srv    *httptest.Server
}

// NewPlatforms starts the server; Close stops it.
func NewPlatforms() *Platforms {
	p := &Platforms{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/response/{id}", func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Text string `json:"text"`
		}
		if !p.decode(w, r, &m) {
			return
		}
		p.record("slack", r.PathValue("id"), m.Text)
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("POST /open-apis/auth/v3/tenant_access_token/internal", func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			AppID     string        `json:"app_id"`
			AppSecret redact.Secret `json:"app_secret"`
		}
		if !p.decode(w, r, &m) {
			return
		}
		if m.AppID != FeishuAppID || m.AppSecret.Reveal() != FeishuAppSecret {
			_, _ = io.WriteString(w, `{"code":10014,"msg":"app secret invalid"}`)
			return
		}
		_, _ = io.WriteString(w, `{"code":0,"msg":"ok","tenant_access_token":"`+FeishuTenantToken+`","expire":7200}`)
	})
	mux.HandleFunc("POST /open-apis/im/v1/messages/{id}/reply", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+FeishuTenantToken {
			_, _ = io.WriteString(w, `{"code":99991663,"msg":"invalid access token"}`)
			return
		}
		var m struct {
			MsgType string `json:"msg_type"`
			Content string `json:"content"`
		}
		if !p.decode(w, r, &m) {
			return
		}
		var content struct {
			Text string `json:"text"`
		}
		_ = json.Unmarshal([]byte(m.Content), &content)
		p.record("feishu", r.PathValue("id"), content.Text)
		_, _ = io.WriteString(w, `{"code":0,"msg":"success","data":{"message_id":"om_reply"}}`)
	})
	mux.HandleFunc("POST /dingtalk/session/{id}", func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Text     struct{ Content string } `json:"text"`
			Markdown struct{ Text string }    `json:"markdown"`
		}
		if !p.decode(w, r, &m) {
			return
		}
		p.record("dingtalk", r.PathValue("id"), m.Text.Content+m.Markdown.Text)
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	})
	mux.HandleFunc("POST /wecom/response/{id}", func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Markdown struct{ Content string } `json:"markdown"`
			Text     struct{ Content string } `json:"text"`
		}
		if !p.decode(w, r, &m) {
			return
		}
		p.record("wecom", r.PathValue("id"), m.Markdown.Content+m.Text.Content)
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	})
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	return p
}

func (p *Platforms) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.NewDecoder(r.Body).Decode(v) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return false
	}
	return true
}

func (p *Platforms) record(platform, target, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posted = append(p.posted, Posted{platform, target, text})
}

// Close stops the server.
func (p *Platforms) Close() { p.srv.Close() }

// Posted returns every message received so far.
func (p *Platforms) Posted() []Posted {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Posted(nil), p.posted...)
}

// PostedTo returns the messages received for one target, in order.
func (p *Platforms) PostedTo(platform, target string) []string {
	var out []string
	for _, m := range p.Posted() {
		if m.Platform == platform && m.Target == target {
			out = append(out, m.Text)
		}
	}
	return out
}

// SlackResponseURL is the response_url of a slash command whose replies Platforms records
// under id.
func (p *Platforms) SlackResponseURL(id string) string { return p.URL + "/slack/response/" + id }

// DingTalkSessionWebhook is a sessionWebhook recorded under id.
func (p *Platforms) DingTalkSessionWebhook(id string) string {
	return p.URL + "/dingtalk/session/" + id
}

// WeComResponseURL is a response_url recorded under id.
func (p *Platforms) WeComResponseURL(id string) string { return p.URL + "/wecom/response/" + id }

// A Request is one webhook request as a platform sends it.
type Request struct {
	Method string
	Path   string // "/chatops/slack"
	Query  url.Values
	Header http.Header
	Body   []byte
}

// SlackCommand is a slash command (/lb) with text, signed with secret at now (the v0 HMAC).
func SlackCommand(secret string, now time.Time, user, triggerID, responseURL, text string) Request {
	form := url.Values{
		"token": {"deprecated"}, "team_id": {"T0001LBFN"}, "channel_id": {"C0001OPS"}, "user_id": {user},
		"user_name": {"someone"}, "command": {"/lb"}, "text": {text}, "response_url": {responseURL},
		"trigger_id": {triggerID}, "api_app_id": {"A0001LBFN"},
	}
	body := []byte(form.Encode())
	ts := strconv.FormatInt(now.Unix(), 10)
	return Request{Method: http.MethodPost, Path: "/chatops/slack", Body: body, Header: http.Header{
		"Content-Type":              {"application/x-www-form-urlencoded"},
		"X-Slack-Request-Timestamp": {ts},
		"X-Slack-Signature":         {SlackSignature(secret, ts, body)},
	}}
}

// SlackSignature is "v0=" + hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body)).
func SlackSignature(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// FeishuMessage is an im.message.receive_v1 event from open_id with text after an @mention
// of the bot, carrying the verification token; with an encrypt key it is encrypted and
// signed as Feishu does then.
func FeishuMessage(token, encryptKey string, now time.Time, eventID, messageID, openID, text string) Request {
	content, _ := json.Marshal(map[string]string{"text": "@_user_1 " + text})
	event := map[string]any{
		"schema": "2.0",
		"header": map[string]any{"event_id": eventID, "event_type": "im.message.receive_v1", "token": token,
			"create_time": strconv.FormatInt(now.UnixMilli(), 10), "app_id": FeishuAppID, "tenant_key": "tk"},
		"event": map[string]any{
			"sender": map[string]any{"sender_id": map[string]string{"open_id": openID, "union_id": "on_1", "user_id": "u1"},
				"sender_type": "user", "tenant_key": "tk"},
			"message": map[string]any{"message_id": messageID, "chat_id": "oc_1", "chat_type": "group", "message_type": "text",
				"content": string(content), "create_time": strconv.FormatInt(now.UnixMilli(), 10),
				"mentions": []map[string]any{{"key": "@_user_1", "name": "lbfn", "id": map[string]string{"open_id": "ou_bot"}}}},
		},
	}
	return feishuRequest(encryptKey, now, event)
}

// FeishuChallenge is the url_verification handshake.
func FeishuChallenge(token, encryptKey string, now time.Time, challenge string) Request {
	return feishuRequest(encryptKey, now, map[string]string{"challenge": challenge, "token": token, "type": "url_verification"})
}

func feishuRequest(encryptKey string, now time.Time, v any) Request {
	plain, _ := json.Marshal(v)
	r := Request{Method: http.MethodPost, Path: "/chatops/feishu", Body: plain,
		Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}}
	if encryptKey == "" {
		return r
	}
	key := sha256.Sum256([]byte(encryptKey))
	iv := make([]byte, 16)
	_, _ = rand.Read(iv)
	ct, err := chatops.EncryptCBC(key[:], iv, plain, 16)
	if err != nil {
		panic(err)
	}
	r.Body, _ = json.Marshal(map[string]string{"encrypt": base64.StdEncoding.EncodeToString(append(iv, ct...))})
	ts, nonce := strconv.FormatInt(now.Unix(), 10), "nonce"+strconv.FormatInt(now.UnixNano(), 36)
	sum := sha256.Sum256([]byte(ts + nonce + encryptKey + string(r.Body)))
	r.Header.Set("X-Lark-Request-Timestamp", ts)
	r.Header.Set("X-Lark-Request-Nonce", nonce)
	r.Header.Set("X-Lark-Signature", hex.EncodeToString(sum[:]))
	return r
}

// DingTalkMessage is a robot callback from staff in corp, signed with secret at now.
func DingTalkMessage(secret string, now time.Time, corp, msgID, staff, sessionWebhook, text string) Request {
	body, _ := json.Marshal(map[string]any{
		"msgId": msgID, "msgtype": "text", "text": map[string]string{"content": " " + text},
		"createAt": now.UnixMilli(), "conversationType": "2", "conversationId": "cid1", "conversationTitle": "ops",
		"senderId": "$:LWCP_v1:$x", "senderNick": "someone", "senderStaffId": staff, "senderCorpId": corp,
		"chatbotCorpId": corp, "chatbotUserId": "$:LWCP_v1:$bot", "robotCode": "dingbot", "isAdmin": false, "isInAtList": true,
		"sessionWebhook": sessionWebhook, "sessionWebhookExpiredTime": now.Add(90 * time.Minute).UnixMilli(),
	})
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	return Request{Method: http.MethodPost, Path: "/chatops/dingtalk", Body: body, Header: http.Header{
		"Content-Type": {"application/json"}, "Timestamp": {ts}, "Sign": {DingTalkSign(secret, ts)},
	}}
}

// DingTalkSign is base64(HMAC-SHA256(secret, timestamp + "\n" + secret)).
func DingTalkSign(secret, ts string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// WeComMessage is a smart robot's encrypted JSON callback from user.
func WeComMessage(token, aesKey string, now time.Time, msgID, user, responseURL, text string) Request {
	plain, _ := json.Marshal(map[string]any{
		"msgid": msgID, "aibotid": "AIBOTID", "chatid": "CHATID", "chattype": "group", "from": map[string]string{"userid": user},
		"response_url": responseURL, "msgtype": "text", "text": map[string]string{"content": "@lbfn " + text},
	})
	encrypted := WeComEncrypt(aesKey, plain)
	body, _ := json.Marshal(map[string]string{"encrypt": encrypted})
	ts, nonce := strconv.FormatInt(now.Unix(), 10), strconv.FormatInt(now.UnixNano()%1e9, 10)
	return Request{Method: http.MethodPost, Path: "/chatops/wecom", Body: body, Header: http.Header{"Content-Type": {"application/json"}},
		Query: url.Values{"msg_signature": {WeComSignature(token, ts, nonce, encrypted)}, "timestamp": {ts}, "nonce": {nonce}}}
}

// WeComVerify is the GET URL check with echo as the plaintext echostr.
func WeComVerify(token, aesKey string, now time.Time, echo string) Request {
	encrypted := WeComEncrypt(aesKey, []byte(echo))
	ts, nonce := strconv.FormatInt(now.Unix(), 10), "263014780"
	return Request{Method: http.MethodGet, Path: "/chatops/wecom", Header: http.Header{},
		Query: url.Values{"msg_signature": {WeComSignature(token, ts, nonce, encrypted)}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {encrypted}}}
}

// WeComSignature is hex(SHA1(the sorted concatenation of token, ts, nonce, encrypted)).
func WeComSignature(token, ts, nonce, encrypted string) string {
	parts := []string{token, ts, nonce, encrypted}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

func wecomKey(aesKey string) []byte {
	key, err := base64.StdEncoding.DecodeString(aesKey + "=")
	if err != nil || len(key) != 32 {
		panic("chattest: EncodingAESKey must be 43 base64 characters")
	}
	return key
}

// WeComEncrypt encrypts msg as WeCom does for a smart robot: random(16) | len(4) | msg, with
// an empty receive id, AES-256-CBC with IV = key[:16] and PKCS#7 to 32 bytes.
func WeComEncrypt(aesKey string, msg []byte) string {
	key := wecomKey(aesKey)
	plain := make([]byte, 20, 20+len(msg))
	_, _ = rand.Read(plain[:16])
	binary.BigEndian.PutUint32(plain[16:20], uint32(len(msg)))
	plain = append(plain, msg...)
	ct, err := chatops.EncryptCBC(key, key[:16], plain, 32)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(ct)
}

// WeComPassiveText opens an encrypted passive reply ({"encrypt","msgsignature","timestamp",
// "nonce"}), checking its signature, and returns the text it shows.
func WeComPassiveText(token, aesKey string, body []byte) (string, error) {
	var r struct {
		Encrypt      string `json:"encrypt"`
		MsgSignature string `json:"msgsignature"`
		Timestamp    any    `json:"timestamp"`
		Nonce        string `json:"nonce"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", err
	}
	ts := ""
	switch t := r.Timestamp.(type) {
	case string:
		ts = t
	case float64:
		ts = strconv.FormatInt(int64(t), 10)
	}
	if WeComSignature(token, ts, r.Nonce, r.Encrypt) != r.MsgSignature {
		return "", errors.New("passive reply signature does not match")
	}
	key := wecomKey(aesKey)
	ct, err := base64.StdEncoding.DecodeString(r.Encrypt)
	if err != nil {
		return "", err
	}
	plain, err := chatops.DecryptCBC(key, key[:16], ct, 32)
	if err != nil || len(plain) < 20 {
		return "", errors.New("passive reply does not decrypt")
	}
	n := int(binary.BigEndian.Uint32(plain[16:20]))
	if 20+n > len(plain) {
		return "", errors.New("passive reply length is wrong")
	}
	var m struct {
		Stream   struct{ Content string } `json:"stream"`
		Markdown struct{ Content string } `json:"markdown"`
		Text     struct{ Content string } `json:"text"`
	}
	if err := json.Unmarshal(plain[20:20+n], &m); err != nil {
		return "", err
	}
	return m.Stream.Content + m.Markdown.Content + m.Text.Content, nil
}

// SlackAnswerText returns the text of Slack's in-band answer ({"response_type","text"}).
func SlackAnswerText(body []byte) string {
	var m struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(body, &m)
	return m.Text
}

// CheckRedacted fails t when one of secrets appears, as text, in hex or as a byte list, in any
// form in which v could reach a log, an error or an answer: each fmt verb, on v itself and
// nested in a struct's exported and unexported fields, a slice and a map; its JSON; and
// log/slog's JSON and text output.
func CheckRedacted(t testing.TB, v any, secrets ...string) {
	t.Helper()
	type wrapper struct {
		Exported any
		hidden   any
	}
	var out []string
	for _, x := range []any{v, wrapper{v, v}, &wrapper{v, v}, []any{v}, map[string]any{"v": v}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out = append(out, fmt.Sprintf(verb, x))
		}
		if b, err := json.Marshal(x); err == nil {
			out = append(out, string(b))
		}
	}
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		slog.New(h).Info("value", "v", v, slog.Group("nested", "v", v))
	}
	out = append(out, logs.String())
	for _, secret := range secrets {
		forms := []string{secret, hex.EncodeToString([]byte(secret)), strings.Trim(fmt.Sprint([]byte(secret)), "[]")}
		for _, o := range out {
			for _, form := range forms {
				if strings.Contains(strings.ToLower(o), strings.ToLower(form)) {
					t.Errorf("%T renders a secret: %.400s", v, o)
				}
			}
		}
	}
}
