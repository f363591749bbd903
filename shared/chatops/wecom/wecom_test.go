package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/chatops"
	"github.com/lbfn/lbfn/shared/chatops/chattest"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// Official vectors, from WeCom's sample (sbzhu/weworkapi_golang sample.go): a classic app
// callback, whose receiveid is the corp id.
const (
	appToken    = "QDG6eK"
	appKey      = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	appCorp     = "wx5823bf96d3bd56c7"
	getSig      = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
	getTS       = "1409659589"
	getNonce    = "263014780"
	getEchostr  = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
	postSig     = "477715d11cdb4164915debcba66cb864d751f3e6"
	postTS      = "1409659813"
	postNonce   = "1372623149"
	postEncrypt = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="

	// Smart-robot keys of our own, for round trips (WeCom publishes no smart-robot vector).
	botToken = "lbfnWeComBotToken0001"
	botKey   = "bGJmbi13ZWNvbS1hZXMta2V5LTMyLWJ5dGVzLTAwMDE"
)

var now = time.Unix(1767225600, 0)

func TestOfficialVectors(t *testing.T) {
	key, err := aesKey(appKey)
	if err != nil {
		t.Fatal(err)
	}
	if !signatureOK(getSig, appToken, getTS, getNonce, getEchostr) || !signatureOK(strings.ToUpper(getSig), appToken, getTS, getNonce, getEchostr) {
		t.Error("GET vector: signature does not verify")
	}
	msg, rid, err := decrypt(key, getEchostr)
	if err != nil || string(msg) != "1616140317555161061" || rid != appCorp {
		t.Errorf("GET vector: %q %q %v", msg, rid, err)
	}
	if !signatureOK(postSig, appToken, postTS, postNonce, postEncrypt) {
		t.Error("POST vector: signature does not verify")
	}
	msg, rid, err = decrypt(key, postEncrypt)
	if err != nil || !strings.Contains(string(msg), "<MsgId>4561255354251345929</MsgId>") || rid != appCorp {
		t.Errorf("POST vector: %q %q %v", msg, rid, err)
	}
	for _, bad := range []struct{ sig, ts, nonce, enc string }{
		{getSig, getTS, getNonce, getEchostr + "x"},
		{getSig, "1409659590", getNonce, getEchostr},
		{getSig[:39] + "0", getTS, getNonce, getEchostr},
		{"", getTS, getNonce, getEchostr},
	} {
		if signatureOK(bad.sig, appToken, bad.ts, bad.nonce, bad.enc) {
			t.Errorf("forged signature accepted: %+v", bad)
		}
	}
	other, _ := aesKey(botKey)
	if msg, _, err := decrypt(other, getEchostr); err == nil {
		t.Errorf("wrong key decrypted to %q", msg)
	}
}

func TestAESKey(t *testing.T) {
	for _, k := range []string{"", appKey[:42], appKey + "A", strings.Repeat("!", 43)} {
		if _, err := aesKey(k); err == nil {
			t.Errorf("aesKey(%q) accepted", k)
		}
	}
}

func TestCryptRoundTrip(t *testing.T) {
	key, _ := aesKey(botKey)
	for _, n := range []int{0, 1, 11, 12, 43, 44, 1000} {
		msg := []byte(strings.Repeat("x", n))
		for _, rid := range []string{"", appCorp} {
			enc, err := encrypt(key, msg, rid)
			if err != nil {
				t.Fatal(err)
			}
			got, gotRID, err := decrypt(key, enc)
			if err != nil || string(got) != string(msg) || gotRID != rid {
				t.Errorf("%d bytes, receiveid %q: got %d bytes, %q, %v", n, rid, len(got), gotRID, err)
			}
		}
	}
	enc1, _ := encrypt(key, []byte("same"), "")
	enc2, _ := encrypt(key, []byte("same"), "")
	if enc1 == enc2 {
		t.Error("two encryptions of one message are identical: the random prefix is missing")
	}
}

func bot() chatops.Platform {
	return New(Config{Token: redact.NewSecret(botToken), EncodingAESKey: redact.NewSecret(botKey)})
}

func botKeyBytes() []byte { k, _ := aesKey(botKey); return k }

func signedQuery(encrypted, ts string) url.Values {
	return url.Values{"msg_signature": {signature(botToken, ts, "nonce1", encrypted)}, "timestamp": {ts}, "nonce": {"nonce1"}}
}

func handshake(t testing.TB, plain, rid string) chatops.Inbound {
	echo, err := encrypt(botKeyBytes(), []byte(plain), rid)
	if err != nil {
		t.Fatal(err)
	}
	q := signedQuery(echo, "1767225600")
	q.Set("echostr", echo)
	return chatops.Inbound{Method: http.MethodGet, Query: q, Now: now}
}

func callbackJSON(mutate func(m map[string]any)) []byte {
	m := map[string]any{
		"msgid": "CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=", "aibotid": "AIBOTID", "chatid": "CHATID", "chattype": "group",
		"from": map[string]any{"userid": "alice"}, "response_url": "https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=SECRETCODE",
		"msgtype": "text", "text": map[string]any{"content": "@lbfn create ctyun-create-policy regionID＝bb9fdb42"},
	}
	if mutate != nil {
		mutate(m)
	}
	b, _ := json.Marshal(m)
	return b
}

func callbackIn(t testing.TB, plain []byte, rid string) chatops.Inbound {
	enc, err := encrypt(botKeyBytes(), plain, rid)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"encrypt": enc})
	return chatops.Inbound{Method: http.MethodPost, Query: signedQuery(enc, "1767225600"), Body: body, Now: now}
}

func TestHandshake(t *testing.T) {
	msg, ans, err := bot().Receive(handshake(t, "1616140317555161061", ""))
	if err != nil || msg != nil || ans == nil {
		t.Fatalf("%v %v %v", msg, ans, err)
	}
	if ans.Status != 200 || string(ans.Body) != "1616140317555161061" {
		t.Errorf("answer %d %q", ans.Status, ans.Body)
	}
}

func TestHandshakeRawPlus(t *testing.T) {
	// An echostr sent with a raw "+" reaches us with a space after query decoding.
	for i := 0; i < 50; i++ {
		in := handshake(t, "echo", "")
		echo := in.Query.Get("echostr")
		if !strings.Contains(echo, "+") {
			continue
		}
		in.Query.Set("echostr", strings.ReplaceAll(echo, "+", " "))
		if _, ans, err := bot().Receive(in); err != nil || string(ans.Body) != "echo" {
			t.Fatalf("%v %v", ans, err)
		}
		return
	}
	t.Skip("no ciphertext with a '+' in 50 tries")
}

func TestReceive(t *testing.T) {
	msg, ans, err := bot().Receive(callbackIn(t, callbackJSON(nil), ""))
	if err != nil || ans != nil {
		t.Fatalf("%v %v", ans, err)
	}
	if msg.Platform != "wecom" || msg.MessageID != "CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=" || msg.User != "alice" ||
		msg.Text != "create ctyun-create-policy regionID＝bb9fdb42" || msg.JobID() != "wecom:CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=" {
		t.Errorf("message %+v", *msg)
	}
	if msg.Reply.Platform != "wecom" || msg.Reply.URL != "https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=SECRETCODE" || !msg.Reply.Expires.Equal(now.Add(time.Hour)) {
		t.Errorf("reply %q %v", msg.Reply.URL, msg.Reply.Expires)
	}
}

func TestStripMention(t *testing.T) {
	for in, want := range map[string]string{
		"@RobotA hello robot":    "hello robot",
		"  @RobotA\u2005help ":   "help",
		"@RobotA":                "",
		"help":                   "help",
		"create x a=@b":          "create x a=@b",
		"@机器人\u3000create f a=1": "create f a=1",
	} {
		if got := stripMention(in); got != want {
			t.Errorf("stripMention(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReceiveRefuses(t *testing.T) {
	good := callbackIn(t, callbackJSON(nil), "")
	with := func(f func(in *chatops.Inbound)) chatops.Inbound {
		in := callbackIn(t, callbackJSON(nil), "")
		in.Query = url.Values{"msg_signature": {in.Query.Get("msg_signature")}, "timestamp": {in.Query.Get("timestamp")}, "nonce": {in.Query.Get("nonce")}}
		f(&in)
		return in
	}
	stale := func(d time.Duration) chatops.Inbound { in := good; in.Now = now.Add(d); return in }
	officialGET := chatops.Inbound{Method: http.MethodGet, Now: time.Unix(1409659589, 0), Query: url.Values{
		"msg_signature": {getSig}, "timestamp": {getTS}, "nonce": {getNonce}, "echostr": {getEchostr}}}
	tests := []struct {
		name string
		p    chatops.Platform
		in   chatops.Inbound
		want error
	}{
		{"unconfigured", New(Config{}), good, chatops.ErrUnverified},
		{"no token", New(Config{EncodingAESKey: redact.NewSecret(botKey)}), good, chatops.ErrUnverified},
		{"malformed key", New(Config{Token: redact.NewSecret(botToken), EncodingAESKey: redact.NewSecret("short")}), good, chatops.ErrUnverified},
		{"wrong token", New(Config{Token: redact.NewSecret("other"), EncodingAESKey: redact.NewSecret(botKey)}), good, chatops.ErrUnverified},
		{"wrong key", New(Config{Token: redact.NewSecret(botToken), EncodingAESKey: redact.NewSecret(appKey)}), good, chatops.ErrUnverified},
		{"unsigned", bot(), chatops.Inbound{Method: http.MethodPost, Body: good.Body, Now: now}, chatops.ErrUnverified},
		{"stale 61 min", bot(), stale(61 * time.Minute), chatops.ErrUnverified},
		{"replayed a day later", bot(), stale(24 * time.Hour), chatops.ErrUnverified},
		{"far future", bot(), stale(-61 * time.Minute), chatops.ErrUnverified},
		{"tampered encrypt", bot(), with(func(in *chatops.Inbound) { in.Body = []byte(strings.Replace(string(in.Body), "A", "B", 1)) }), chatops.ErrUnverified},
		{"timestamp changed", bot(), with(func(in *chatops.Inbound) { in.Query.Set("timestamp", "1767225601") }), chatops.ErrUnverified},
		{"nonce changed", bot(), with(func(in *chatops.Inbound) { in.Query.Set("nonce", "nonce2") }), chatops.ErrUnverified},
		{"forged signature", bot(), with(func(in *chatops.Inbound) { in.Query.Set("msg_signature", strings.Repeat("0", 40)) }), chatops.ErrUnverified},
		{"timestamp not a number", bot(), with(func(in *chatops.Inbound) { in.Query.Set("timestamp", "x") }), chatops.ErrUnverified},
		{"body not JSON", bot(), with(func(in *chatops.Inbound) { in.Body = []byte("<xml/>") }), chatops.ErrUnverified},
		{"no encrypt", bot(), with(func(in *chatops.Inbound) { in.Body = []byte(`{}`) }), chatops.ErrUnverified},
		{"receiveid not empty", bot(), callbackIn(t, callbackJSON(nil), "wwCORP"), chatops.ErrUnverified},
		{"PUT", bot(), with(func(in *chatops.Inbound) { in.Method = http.MethodPut }), chatops.ErrUnverified},
		{"GET without echostr", bot(), with(func(in *chatops.Inbound) { in.Method = http.MethodGet }), chatops.ErrUnverified},
		{"GET tampered echostr", bot(), func() chatops.Inbound {
			in := handshake(t, "1", "")
			in.Query.Set("echostr", in.Query.Get("echostr")[1:])
			return in
		}(), chatops.ErrUnverified},
		{"GET stale", bot(), func() chatops.Inbound { in := handshake(t, "1", ""); in.Now = now.Add(2 * time.Hour); return in }(), chatops.ErrUnverified},
		{"GET echostr with a receiveid", bot(), handshake(t, "1", "wwCORP"), chatops.ErrUnverified},
		{"classic app echostr (official vector)", New(Config{Token: redact.NewSecret(appToken), EncodingAESKey: redact.NewSecret(appKey)}), officialGET, chatops.ErrUnverified},

		{"plaintext not JSON", bot(), callbackIn(t, []byte("hello"), ""), chatops.ErrIgnored},
		{"image", bot(), callbackIn(t, callbackJSON(func(m map[string]any) { m["msgtype"] = "image" }), ""), chatops.ErrIgnored},
		{"stream refresh", bot(), callbackIn(t, callbackJSON(func(m map[string]any) { m["msgtype"] = "stream" }), ""), chatops.ErrIgnored},
		{"no msgid", bot(), callbackIn(t, callbackJSON(func(m map[string]any) { delete(m, "msgid") }), ""), chatops.ErrIgnored},
		{"no userid", bot(), callbackIn(t, callbackJSON(func(m map[string]any) { m["from"] = map[string]any{} }), ""), chatops.ErrIgnored},
		{"response_url off host", bot(), callbackIn(t, callbackJSON(func(m map[string]any) { m["response_url"] = "https://evil.example/x" }), ""), chatops.ErrIgnored},
		{"response_url over http", bot(), callbackIn(t, callbackJSON(func(m map[string]any) { m["response_url"] = "http://qyapi.weixin.qq.com/x" }), ""), chatops.ErrIgnored},
		{"no response_url", bot(), callbackIn(t, callbackJSON(func(m map[string]any) { delete(m, "response_url") }), ""), chatops.ErrIgnored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, ans, err := tt.p.Receive(tt.in)
			if !errors.Is(err, tt.want) || msg != nil || ans != nil {
				t.Fatalf("got %v, %v, %v; want %v", msg, ans, err, tt.want)
			}
			if strings.Contains(err.Error(), botToken) || strings.Contains(err.Error(), "SECRETCODE") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestMissing(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "LBFN_WECOM_TOKEN, LBFN_WECOM_ENCODING_AES_KEY"},
		{Config{Token: redact.NewSecret("t"), EncodingAESKey: redact.NewSecret("abc")}, "LBFN_WECOM_ENCODING_AES_KEY (not a 43-character EncodingAESKey)"},
		{Config{EncodingAESKey: redact.NewSecret(botKey)}, "LBFN_WECOM_TOKEN"},
		{Config{Token: redact.NewSecret("t"), EncodingAESKey: redact.NewSecret(botKey)}, ""},
	}
	for _, tt := range tests {
		if got := New(tt.cfg).Missing(); got != tt.want {
			t.Errorf("Missing() = %q, want %q", got, tt.want)
		}
	}
}

func TestAnswer(t *testing.T) {
	msg := chatops.Message{Platform: "wecom", MessageID: "m1"}
	ans, inBand := bot().Answer(msg, "queued ctyun-create-policy as job wecom:m1")
	if !inBand || ans.Status != 200 || ans.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%v %v", ans, inBand)
	}
	var sealed map[string]string
	if err := json.Unmarshal(ans.Body, &sealed); err != nil || len(sealed) != 4 {
		t.Fatalf("answer %s: %v", ans.Body, err)
	}
	if !signatureOK(sealed["msgsignature"], botToken, sealed["timestamp"], sealed["nonce"], sealed["encrypt"]) {
		t.Error("msgsignature does not verify")
	}
	plain, rid, err := decrypt(botKeyBytes(), sealed["encrypt"])
	if err != nil || rid != "" {
		t.Fatalf("decrypt: %v, receiveid %q", err, rid)
	}
	var reply struct {
		MsgType string `json:"msgtype"`
		Stream  struct {
			ID      string `json:"id"`
			Finish  bool   `json:"finish"`
			Content string `json:"content"`
		} `json:"stream"`
	}
	if err := json.Unmarshal(plain, &reply); err != nil || reply.MsgType != "stream" || !reply.Stream.Finish ||
		reply.Stream.Content != "queued ctyun-create-policy as job wecom:m1" || reply.Stream.ID == "" {
		t.Errorf("passive reply %s: %v", plain, err)
	}
	// The sealed reply is what a WeCom client would receive: it passes our own callback check.
	body, _ := json.Marshal(map[string]string{"encrypt": sealed["encrypt"]})
	q := url.Values{"msg_signature": {sealed["msgsignature"]}, "timestamp": {sealed["timestamp"]}, "nonce": {sealed["nonce"]}}
	if _, _, err := bot().Receive(chatops.Inbound{Method: http.MethodPost, Query: q, Body: body}); !errors.Is(err, chatops.ErrIgnored) {
		t.Errorf("round trip through Receive: %v, want verified (then ignored: a stream)", err)
	}
	long, _ := bot().Answer(msg, strings.Repeat("长", 10000))
	json.Unmarshal(long.Body, &sealed)
	plain, _, _ = decrypt(botKeyBytes(), sealed["encrypt"])
	json.Unmarshal(plain, &reply)
	if len(reply.Stream.Content) > maxStream {
		t.Errorf("stream content %d bytes", len(reply.Stream.Content))
	}
}

func TestPost(t *testing.T) {
	var calls atomic.Int32
	var got map[string]any
	var gotQuery string
	status, answer := 200, `{"errcode":0,"errmsg":"ok"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		got = nil
		json.Unmarshal(b, &got)
		gotQuery = r.URL.RawQuery
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
		}
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "https://evil.example/", http.StatusFound)
			return
		}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	defer srv.Close()
	p := bot()
	ctx := context.Background()
	reply := chatops.Reply{Platform: "wecom", URL: srv.URL + "/cgi-bin/aibot/response?response_code=SECRET", Expires: time.Now().Add(time.Hour)}
	if err := p.Post(ctx, reply, "**created** policy-1"); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": "**created** policy-1"}}) || gotQuery != "response_code=SECRET" {
		t.Errorf("posted %v ?%s", got, gotQuery)
	}
	tests := []struct {
		name   string
		reply  chatops.Reply
		status int
		answer string
		kind   op.Kind
		calls  int32
	}{
		{"errcode under 200", reply, 200, `{"errcode":40008,"errmsg":"invalid message type"}`, op.KindProvider, 1},
		{"HTTP 502", reply, 502, ``, op.KindUnavailable, 1},
		{"redirect", chatops.Reply{Platform: "wecom", URL: srv.URL + "/redirect?response_code=SECRET"}, 200, ``, op.KindProvider, 1},
		{"off the pinned host", chatops.Reply{Platform: "wecom", URL: "https://qyapi.weixin.qq.com.evil.example/?response_code=SECRET"}, 200, ``, op.KindValidation, 0},
		{"expired", chatops.Reply{Platform: "wecom", URL: reply.URL, Expires: time.Now().Add(-time.Second)}, 200, ``, op.KindValidation, 0},
		{"another platform", chatops.Reply{Platform: "dingtalk", URL: reply.URL}, 200, ``, op.KindValidation, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls.Store(0)
			status, answer = tt.status, tt.answer
			err := p.Post(ctx, tt.reply, "hi")
			if e := op.AsError(err); e == nil || e.Kind != tt.kind || calls.Load() != tt.calls {
				t.Fatalf("err = %v, %d calls; want %s, %d calls", err, calls.Load(), tt.kind, tt.calls)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("error quotes the URL: %v", err)
			}
		})
	}
}

func TestConfigRedacted(t *testing.T) {
	c := Config{Token: redact.NewSecret(botToken), EncodingAESKey: redact.NewSecret(botKey)}
	p := New(c)
	for _, v := range []any{c, &c, p} {
		chattest.CheckRedacted(t, v, botToken, botKey, p.(*platform).key.Reveal())
	}
}

func FuzzReceive(f *testing.F) {
	f.Add([]byte(`{"encrypt":"AAAA"}`), false)
	f.Add(callbackJSON(nil), true)
	f.Add([]byte("1616140317555161061"), true)
	p := bot()
	f.Fuzz(func(t *testing.T, data []byte, encryptIt bool) {
		var in chatops.Inbound
		switch {
		case encryptIt:
			in = callbackIn(t, data, "") // any plaintext, properly sealed
		default:
			in = chatops.Inbound{Method: http.MethodPost, Query: signedQuery(string(data), "1767225600"), Body: data, Now: now}
		}
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			in.Method = method
			if method == http.MethodGet {
				in.Query = signedQuery(string(data), "1767225600")
				in.Query.Set("echostr", string(data))
			}
			msg, ans, err := p.Receive(in)
			if err == nil && (msg == nil) == (ans == nil) {
				t.Fatalf("exactly one of msg and answer expected: %v %v", msg, ans)
			}
			if err != nil && !errors.Is(err, chatops.ErrUnverified) && !errors.Is(err, chatops.ErrIgnored) {
				t.Fatalf("error wraps neither sentinel: %v", err)
			}
			if encryptIt && method == http.MethodPost && errors.Is(err, chatops.ErrUnverified) {
				t.Fatalf("a sealed callback was refused as unverified: %v", err)
			}
		}
	})
}
