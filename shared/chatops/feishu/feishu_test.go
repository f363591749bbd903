package feishu_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lbfn/lbfn/shared/chatops"
	"github.com/lbfn/lbfn/shared/chatops/chattest"
	"github.com/lbfn/lbfn/shared/chatops/feishu"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

const (
	token = "lbfnVerificationToken0001"
	key   = "lbfn-feishu-encrypt-key"
	// A url_verification encrypted with key and the fixed IV "lbfn-fixed-iv-16" (real IVs are
	// random), computed independently with openssl.
	encryptedChallenge = "bGJmbi1maXhlZC1pdi0xNjQ4W8gBdJINtAyAueUv4ogDGJzR6DrYXVo9ngu6npd5ne4e5NNtAUVrjcyd9W6qF2wXAVZemFZQW7xi+0KL17QW2BeZAo5LVcM1yHfJYXtf/CeQlqwpAi/FrbB7XWrXYA=="
)

func config() feishu.Config {
	return feishu.Config{VerificationToken: redact.NewSecret(token), AppID: "cli_lbfn", AppSecret: redact.NewSecret("app-SECRET")}
}

func event(mutate func(m map[string]any)) []byte {
	m := map[string]any{
		"schema": "2.0",
		"header": map[string]any{"event_id": "ev_1", "event_type": "im.message.receive_v1", "token": token, "app_id": "cli_lbfn"},
		"event": map[string]any{
			"sender": map[string]any{"sender_id": map[string]any{"open_id": "ou_alice", "union_id": "on_1"}, "sender_type": "user"},
			"message": map[string]any{
				"message_id": "om_0123abcd", "chat_type": "group", "message_type": "text",
				"content":  `{"text":"@_user_1 create huawei-create-pool region＝cn-north-4 "}`,
				"mentions": []any{map[string]any{"key": "@_user_1", "name": "lbfn"}},
			},
		},
	}
	if mutate != nil {
		mutate(m)
	}
	b, _ := json.Marshal(m)
	return b
}

func sub(m map[string]any, path ...string) map[string]any {
	for _, k := range path {
		m = m[k].(map[string]any)
	}
	return m
}

func encrypt(t testing.TB, k string, plain []byte) []byte {
	sum := sha256.Sum256([]byte(k))
	iv := make([]byte, 16)
	rand.Read(iv)
	ct, err := chatops.EncryptCBC(sum[:], iv, plain, 16)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"encrypt": base64.StdEncoding.EncodeToString(append(iv, ct...))})
	return b
}

func signed(k string, body []byte) chatops.Inbound {
	h := http.Header{}
	h.Set("X-Lark-Request-Timestamp", "1767225600")
	h.Set("X-Lark-Request-Nonce", "nonce-1")
	sum := sha256.Sum256([]byte("1767225600" + "nonce-1" + k + string(body)))
	h.Set("X-Lark-Signature", hex.EncodeToString(sum[:]))
	return chatops.Inbound{Method: http.MethodPost, Header: h, Body: body}
}

func post(body []byte) chatops.Inbound {
	return chatops.Inbound{Method: http.MethodPost, Header: http.Header{}, Body: body}
}

func TestURLVerification(t *testing.T) {
	plain := post([]byte(`{"challenge":"ajls384kdjx98XX","token":"` + token + `","type":"url_verification"}`))
	encCfg := config()
	encCfg.EncryptKey = redact.NewSecret(key)
	tests := []struct {
		name string
		cfg  feishu.Config
		in   chatops.Inbound
	}{
		{"plain", config(), plain},
		{"encrypted (docs vector)", encCfg, post([]byte(`{"encrypt":"` + encryptedChallenge + `"}`))},
		{"encrypted and signed", encCfg, signed(key, []byte(`{"encrypt":"`+encryptedChallenge+`"}`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, ans, err := feishu.New(tt.cfg).Receive(tt.in)
			if err != nil || msg != nil || ans == nil {
				t.Fatalf("%v %v %v", msg, ans, err)
			}
			if ans.Status != 200 || string(ans.Body) != `{"challenge":"ajls384kdjx98XX"}` || ans.Header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("answer %d %s %v", ans.Status, ans.Body, ans.Header)
			}
		})
	}
}

func TestReceiveEvent(t *testing.T) {
	check := func(t *testing.T, msg *chatops.Message, ans *chatops.Outbound, err error) {
		t.Helper()
		if err != nil || ans != nil {
			t.Fatalf("%v %v", ans, err)
		}
		want := chatops.Message{Platform: "feishu", MessageID: "om_0123abcd", User: "ou_alice",
			Text: "create huawei-create-pool region＝cn-north-4", Reply: chatops.Reply{Platform: "feishu", MessageID: "om_0123abcd"}}
		if *msg != want || msg.Reply != want.Reply || msg.JobID() != "feishu:om_0123abcd" {
			t.Errorf("message %+v", *msg)
		}
	}
	t.Run("plain", func(t *testing.T) {
		msg, ans, err := feishu.New(config()).Receive(post(event(nil)))
		check(t, msg, ans, err)
	})
	t.Run("encrypted and signed", func(t *testing.T) {
		cfg := config()
		cfg.EncryptKey = redact.NewSecret(key)
		msg, ans, err := feishu.New(cfg).Receive(signed(key, encrypt(t, key, event(nil))))
		check(t, msg, ans, err)
	})
	t.Run("lower-case headers", func(t *testing.T) {
		cfg := config()
		cfg.EncryptKey = redact.NewSecret(key)
		in := signed(key, encrypt(t, key, event(nil)))
		lower := http.Header{}
		for k, v := range in.Header {
			lower[strings.ToLower(k)] = v
		}
		in.Header = lower
		msg, ans, err := feishu.New(cfg).Receive(in)
		check(t, msg, ans, err)
	})
}

func TestReceiveRefuses(t *testing.T) {
	encCfg := config()
	encCfg.EncryptKey = redact.NewSecret(key)
	good := encrypt(t, key, event(nil))
	tampered := signed(key, good)
	tampered.Body = append([]byte(nil), good...)
	tampered.Body[20] ^= 1
	staleSig := signed(key, good)
	staleSig.Header.Set("X-Lark-Request-Timestamp", "1767225601")
	tests := []struct {
		name string
		cfg  feishu.Config
		in   chatops.Inbound
		want error
	}{
		{"unconfigured", feishu.Config{}, post(event(nil)), chatops.ErrUnverified},
		{"no app secret", feishu.Config{VerificationToken: redact.NewSecret(token), AppID: "cli"}, post(event(nil)), chatops.ErrUnverified},
		{"api base over http", feishu.Config{VerificationToken: redact.NewSecret(token), AppID: "a", AppSecret: redact.NewSecret("s"), APIBase: "http://open.feishu.cn"}, post(event(nil)), chatops.ErrUnverified},
		{"GET", config(), chatops.Inbound{Method: http.MethodGet}, chatops.ErrUnverified},
		{"wrong token", config(), post(event(func(m map[string]any) { sub(m, "header")["token"] = "nope" })), chatops.ErrUnverified},
		{"no token", config(), post(event(func(m map[string]any) { delete(sub(m, "header"), "token") })), chatops.ErrUnverified},
		{"token prefix", config(), post(event(func(m map[string]any) { sub(m, "header")["token"] = token[:10] })), chatops.ErrUnverified},
		{"challenge wrong token", config(), post([]byte(`{"challenge":"c","token":"x","type":"url_verification"}`)), chatops.ErrUnverified},
		{"challenge no token", config(), post([]byte(`{"challenge":"c","type":"url_verification"}`)), chatops.ErrUnverified},
		{"not JSON", config(), post([]byte(`{"schema"`)), chatops.ErrUnverified},
		{"encrypted without a key", config(), post(good), chatops.ErrUnverified},
		{"plain with a key", encCfg, signed(key, event(nil)), chatops.ErrUnverified},
		{"unsigned encrypted event", encCfg, post(good), chatops.ErrUnverified},
		{"tampered", encCfg, tampered, chatops.ErrUnverified},
		{"signed header changed", encCfg, staleSig, chatops.ErrUnverified},
		{"signed with another key", encCfg, signed("other", good), chatops.ErrUnverified},
		{"encrypted with another key", encCfg, signed(key, encrypt(t, "other", event(nil))), chatops.ErrUnverified},
		{"signature not hex", encCfg, func() chatops.Inbound { in := signed(key, good); in.Header.Set("X-Lark-Signature", "zz"); return in }(), chatops.ErrUnverified},
		{"bad base64", encCfg, signed(key, []byte(`{"encrypt":"!!!"}`)), chatops.ErrUnverified},
		{"encrypted non-JSON", encCfg, signed(key, encrypt(t, key, []byte("hello world"))), chatops.ErrUnverified},
		{"encrypted wrong token", encCfg, signed(key, encrypt(t, key, event(func(m map[string]any) { sub(m, "header")["token"] = "x" }))), chatops.ErrUnverified},
		{"encrypted challenge wrong token", encCfg, post(encrypt(t, key, []byte(`{"challenge":"c","token":"x","type":"url_verification"}`))), chatops.ErrUnverified},

		{"other event type", config(), post(event(func(m map[string]any) { sub(m, "header")["event_type"] = "im.chat.member.bot.added_v1" })), chatops.ErrIgnored},
		{"1.0 event", config(), post([]byte(`{"uuid":"u","token":"` + token + `","type":"event_callback","event":{}}`)), chatops.ErrIgnored},
		{"bot sender", config(), post(event(func(m map[string]any) { sub(m, "event", "sender")["sender_type"] = "app" })), chatops.ErrIgnored},
		{"image", config(), post(event(func(m map[string]any) { sub(m, "event", "message")["message_type"] = "image" })), chatops.ErrIgnored},
		{"content not JSON", config(), post(event(func(m map[string]any) { sub(m, "event", "message")["content"] = "hi" })), chatops.ErrIgnored},
		{"no message_id", config(), post(event(func(m map[string]any) { delete(sub(m, "event", "message"), "message_id") })), chatops.ErrIgnored},
		{"message_id with a slash", config(), post(event(func(m map[string]any) { sub(m, "event", "message")["message_id"] = "om_1/../x" })), chatops.ErrIgnored},
		{"no open_id", config(), post(event(func(m map[string]any) { delete(sub(m, "event", "sender", "sender_id"), "open_id") })), chatops.ErrIgnored},
		{"event not an object", config(), post(event(func(m map[string]any) { m["event"] = 7 })), chatops.ErrIgnored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, ans, err := feishu.New(tt.cfg).Receive(tt.in)
			if !errors.Is(err, tt.want) || msg != nil || ans != nil {
				t.Fatalf("got %v, %v, %v; want %v", msg, ans, err, tt.want)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), key) {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestMissing(t *testing.T) {
	tests := []struct {
		cfg  feishu.Config
		want string
	}{
		{feishu.Config{}, "LBFN_FEISHU_VERIFICATION_TOKEN, LBFN_FEISHU_APP_ID, LBFN_FEISHU_APP_SECRET"},
		{feishu.Config{VerificationToken: redact.NewSecret("t"), AppID: "a"}, "LBFN_FEISHU_APP_SECRET"},
		{config(), ""},
		{feishu.Config{VerificationToken: redact.NewSecret("t"), AppID: "a", AppSecret: redact.NewSecret("s"), APIBase: "https://open.larksuite.com/"}, ""},
		{feishu.Config{VerificationToken: redact.NewSecret("t"), AppID: "a", AppSecret: redact.NewSecret("s"), APIBase: "http://127.0.0.1:9"}, ""},
		{feishu.Config{VerificationToken: redact.NewSecret("t"), AppID: "a", AppSecret: redact.NewSecret("s"), APIBase: "https://open.feishu.cn/open-apis"}, "LBFN_FEISHU_API_BASE (not an https base URL)"},
		{feishu.Config{VerificationToken: redact.NewSecret("t"), AppID: "a", AppSecret: redact.NewSecret("s"), APIBase: "https://u:p@open.feishu.cn"}, "LBFN_FEISHU_API_BASE (not an https base URL)"},
	}
	for _, tt := range tests {
		if got := feishu.New(tt.cfg).Missing(); got != tt.want {
			t.Errorf("Missing() = %q, want %q", got, tt.want)
		}
	}
}

func TestAnswer(t *testing.T) {
	ans, inBand := feishu.New(config()).Answer(chatops.Message{}, "queued")
	if inBand || ans.Status != 200 || len(ans.Body) != 0 {
		t.Errorf("%v %v", ans, inBand)
	}
}

// fakeOpenAPI is a loopback Feishu Open API: the token endpoint and the reply endpoint.
type fakeOpenAPI struct {
	*httptest.Server
	tokenCalls, replyCalls atomic.Int32
	expire                 int64
	tokenCode, replyCode   int64
	replyStatus            int
	// The first refusals reply calls are answered refusedCode (a token refused) instead.
	refusals    int32
	refusedCode int64
	mu          sync.Mutex
	replies     []map[string]any
	auths       []string
	t           *testing.T
}

func newFake(t *testing.T) *fakeOpenAPI {
	f := &fakeOpenAPI{expire: 7200, replyStatus: 200, t: t}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s %s with Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		switch {
		case r.URL.Path == "/open-apis/auth/v3/tenant_access_token/internal":
			n := f.tokenCalls.Add(1)
			var req map[string]string
			if json.Unmarshal(body, &req) != nil || len(req) != 2 || req["app_id"] != "cli_lbfn" || req["app_secret"] != "app-SECRET" {
				t.Errorf("token request %s", body)
			}
			if f.tokenCode != 0 {
				// Echoing what was sent, as an error message may: none of it may reach an error.
				fmt.Fprintf(w, `{"code":%d,"msg":"app secret %s invalid"}`, f.tokenCode, req["app_secret"])
				return
			}
			fmt.Fprintf(w, `{"code":0,"msg":"ok","tenant_access_token":"t-TOKEN%d","expire":%d}`, n, f.expire)
		case r.URL.Path == "/open-apis/im/v1/messages/om_0123abcd/reply":
			n := f.replyCalls.Add(1)
			var req map[string]any
			json.Unmarshal(body, &req)
			f.mu.Lock()
			f.replies = append(f.replies, req)
			f.auths = append(f.auths, r.Header.Get("Authorization"))
			f.mu.Unlock()
			w.WriteHeader(f.replyStatus)
			code := f.replyCode
			if n <= f.refusals {
				code = f.refusedCode
			}
			fmt.Fprintf(w, `{"code":%d,"msg":"m (sent with %s)","data":{"message_id":"om_new"}}`, code, r.Header.Get("Authorization"))
		case r.URL.Path == "/open-apis/im/v1/messages/om_redirect/reply":
			http.Redirect(w, r, "https://evil.example/", http.StatusFound)
		default:
			t.Errorf("unexpected %s", r.URL.Path)
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeOpenAPI) platform() chatops.Platform {
	cfg := config()
	cfg.APIBase = f.URL
	return feishu.New(cfg)
}

var reply = chatops.Reply{Platform: "feishu", MessageID: "om_0123abcd"}

func TestPost(t *testing.T) {
	f := newFake(t)
	p := f.platform()
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := p.Post(ctx, reply, `created "pool-1"`); err != nil {
			t.Fatal(err)
		}
	}
	if f.tokenCalls.Load() != 1 || f.replyCalls.Load() != 3 {
		t.Fatalf("token fetched %d times for %d replies; want 1 for 3", f.tokenCalls.Load(), f.replyCalls.Load())
	}
	got := f.replies[0]
	if len(got) != 3 || got["msg_type"] != "text" || got["content"] != `{"text":"created \"pool-1\""}` || len(got["uuid"].(string)) != 32 || f.auths[0] != "Bearer t-TOKEN1" {
		t.Errorf("reply request %v with %q", got, f.auths[0])
	}
	if f.replies[1]["uuid"] != got["uuid"] {
		t.Error("the same text to the same message should repeat its uuid (Feishu shows it once)")
	}
	p.Post(ctx, reply, "another text")
	if f.replies[3]["uuid"] == got["uuid"] {
		t.Error("a different text must get a different uuid")
	}
}

func TestPostTokenCacheConcurrent(t *testing.T) {
	f := newFake(t)
	p := f.platform()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Post(context.Background(), reply, "hi"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if f.tokenCalls.Load() != 1 || f.replyCalls.Load() != 20 {
		t.Errorf("token fetched %d times, %d replies", f.tokenCalls.Load(), f.replyCalls.Load())
	}
}

func TestPostShortLivedTokenNotCached(t *testing.T) {
	f := newFake(t)
	f.expire = 120 // under the 3-minute margin: use once, never keep
	p := f.platform()
	for i := 0; i < 2; i++ {
		if err := p.Post(context.Background(), reply, "hi"); err != nil {
			t.Fatal(err)
		}
	}
	if f.tokenCalls.Load() != 2 {
		t.Errorf("token fetched %d times, want 2", f.tokenCalls.Load())
	}
}

// TestPostTokenRefused: a tenant token the reply API refuses is dropped and the reply sent
// once more at once, in the same call and with the same uuid, with a fresh token; a fresh
// token refused too is a plain auth error, and is not kept either.
func TestPostTokenRefused(t *testing.T) {
	tests := []struct {
		name     string
		refusals int32
		code     int64
		wantErr  bool
	}{
		{"invalid token, fresh one taken", 1, 99991663, false},
		{"expired token, fresh one taken", 1, 99991668, false},
		{"token not found, fresh one taken", 1, 99991661, false},
		{"fresh token refused too", 2, 99991663, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.refusals, f.refusedCode = tc.refusals, tc.code
			p := f.platform()
			err := p.Post(context.Background(), reply, "hi")
			if tc.wantErr {
				e := op.AsError(err)
				if e == nil || e.Kind != op.KindAuth || e.Retryable || e.ProviderCode != fmt.Sprint(tc.code) || e.Attempts != 2 {
					t.Fatalf("err = %v (%+v), want a non-retryable auth error after 2 attempts", err, e)
				}
				if b, _ := json.Marshal(e); strings.Contains(string(b), "TOKEN") || strings.Contains(string(b), "SECRET") {
					t.Errorf("error leaks the token: %s", b)
				}
			} else if err != nil {
				t.Fatalf("err = %v, want the reply sent with a fresh token", err)
			}
			if f.tokenCalls.Load() != 2 || f.replyCalls.Load() != 2 {
				t.Fatalf("%d token fetches, %d replies in one call; want 2 and 2", f.tokenCalls.Load(), f.replyCalls.Load())
			}
			if f.auths[0] != "Bearer t-TOKEN1" || f.auths[1] != "Bearer t-TOKEN2" {
				t.Errorf("sent with %q: want the refused token, then a fresh one", f.auths)
			}
			if f.replies[0]["uuid"] != f.replies[1]["uuid"] {
				t.Error("the reply sent again must keep its uuid, so Feishu shows it once")
			}
			// The next call: the accepted fresh token is kept; a refused one is not.
			f.refusals = 0
			if err := p.Post(context.Background(), reply, "hi"); err != nil {
				t.Fatal(err)
			}
			want := "Bearer t-TOKEN2"
			if tc.wantErr {
				want = "Bearer t-TOKEN3"
			}
			if f.auths[2] != want {
				t.Errorf("next reply sent with %q, want %q", f.auths[2], want)
			}
		})
	}
}

func TestPostErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("reply code", func(t *testing.T) {
		f := newFake(t)
		f.replyCode = 230002 // bot not in the chat
		err := f.platform().Post(ctx, reply, "hi")
		e := op.AsError(err)
		if e.Kind != op.KindProvider || e.ProviderCode != "230002" || e.Retryable || !strings.HasPrefix(e.ProviderMessage, "m (sent with") {
			t.Errorf("err = %v (%+v)", err, e)
		}
		if b, _ := json.Marshal(e); strings.Contains(string(b), "TOKEN") || strings.Contains(string(b), "SECRET") {
			t.Errorf("error leaks the token: %s", b)
		}
	})
	t.Run("HTTP 400 with code", func(t *testing.T) {
		f := newFake(t)
		f.replyStatus, f.replyCode = 400, 230001
		if e := op.AsError(f.platform().Post(ctx, reply, "hi")); e.ProviderCode != "230001" {
			t.Errorf("err = %v", e)
		}
	})
	t.Run("HTTP 503", func(t *testing.T) {
		f := newFake(t)
		f.replyStatus = 503
		if e := op.AsError(f.platform().Post(ctx, reply, "hi")); e.Kind != op.KindUnavailable || !e.Retryable {
			t.Errorf("err = %v", e)
		}
	})
	t.Run("token refused", func(t *testing.T) {
		f := newFake(t)
		f.tokenCode = 10014
		err := f.platform().Post(ctx, reply, "hi")
		if e := op.AsError(err); e.Kind != op.KindAuth || e.ProviderCode != "10014" || f.replyCalls.Load() != 0 {
			t.Errorf("err = %v, %d replies", err, f.replyCalls.Load())
		}
		if b, _ := json.Marshal(op.AsError(err)); strings.Contains(string(b), "SECRET") || !strings.Contains(string(b), "app secret") {
			t.Errorf("error leaks the app secret, or lost the message: %s", b)
		}
	})
	t.Run("redirect not followed", func(t *testing.T) {
		f := newFake(t)
		err := f.platform().Post(ctx, chatops.Reply{Platform: "feishu", MessageID: "om_redirect"}, "hi")
		if e := op.AsError(err); e.HTTPStatus != http.StatusFound {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("bad reply address", func(t *testing.T) {
		f := newFake(t)
		for _, r := range []chatops.Reply{{Platform: "feishu"}, {Platform: "feishu", MessageID: "om_1/../../auth"}, {Platform: "slack", MessageID: "om_1"}} {
			if e := op.AsError(f.platform().Post(ctx, r, "hi")); e.Kind != op.KindValidation {
				t.Errorf("reply %q: err = %v", r.MessageID, e)
			}
		}
		if f.tokenCalls.Load()+f.replyCalls.Load() != 0 {
			t.Error("a bad address reached the API")
		}
	})
	t.Run("unconfigured", func(t *testing.T) {
		if e := op.AsError(feishu.New(feishu.Config{VerificationToken: redact.NewSecret("t")}).Post(ctx, reply, "hi")); e.Kind != op.KindConfig || !strings.Contains(e.Message, "LBFN_FEISHU_APP_ID") {
			t.Errorf("err = %v", e)
		}
	})
	t.Run("deadline while the token is fetched", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}))
		defer srv.Close()
		cfg := config()
		cfg.APIBase = srv.URL
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if e := op.AsError(feishu.New(cfg).Post(ctx, reply, "hi")); e.Kind != op.KindTimeout {
			t.Errorf("err = %v", e)
		}
	})
}

func TestConfigRedacted(t *testing.T) {
	f := newFake(t)
	c := config()
	c.EncryptKey, c.APIBase = redact.NewSecret(key), f.URL
	p := feishu.New(c)
	if err := p.Post(context.Background(), reply, "hi"); err != nil { // the token is cached now
		t.Fatal(err)
	}
	aesKey := sha256.Sum256([]byte(key))
	for _, v := range []any{c, &c, p} {
		chattest.CheckRedacted(t, v, token, key, "app-SECRET", "t-TOKEN1", string(aesKey[:]))
	}
}

func FuzzReceive(f *testing.F) {
	f.Add(event(nil), "", false)
	f.Add([]byte(`{"encrypt":"`+encryptedChallenge+`"}`), "", true)
	f.Add([]byte(`{"challenge":"c","token":"`+token+`","type":"url_verification"}`), "", false)
	f.Add(encrypt(f, key, event(nil)), "00", true)
	plain := feishu.New(config())
	cfg := config()
	cfg.EncryptKey = redact.NewSecret(key)
	enc := feishu.New(cfg)
	f.Fuzz(func(t *testing.T, body []byte, sig string, encrypted bool) {
		p, in := plain, post(body)
		if encrypted {
			p, in = enc, signed(key, body)
			if sig != "" {
				in.Header.Set("X-Lark-Signature", sig)
			}
		}
		msg, ans, err := p.Receive(in)
		if err == nil && (msg == nil) == (ans == nil) {
			t.Fatalf("exactly one of msg and answer expected: %v %v", msg, ans)
		}
		if err != nil && !errors.Is(err, chatops.ErrUnverified) && !errors.Is(err, chatops.ErrIgnored) {
			t.Fatalf("error wraps neither sentinel: %v", err)
		}
	})
}
