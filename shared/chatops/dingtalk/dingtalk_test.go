package dingtalk_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/chatops"
	"github.com/lbfn/lbfn/shared/chatops/chattest"
	"github.com/lbfn/lbfn/shared/chatops/dingtalk"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// A vector computed independently (openssl): DingTalk publishes none.
const (
	secret = "lbfn-dingtalk-app-secret-0001"
	ts     = "1767225600000"
	sig    = "iAhaI0iBusCZHbDmrnPn35gZL/7f/Ktr2qfgYDCSCF4="
	corp   = "dingcorp0001"
)

var t0 = time.UnixMilli(1767225600000)

func config() dingtalk.Config {
	return dingtalk.Config{AppSecret: redact.NewSecret(secret), CorpIDs: []string{" other ", corp}}
}

func sign(secret, ts string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func body(mutate func(m map[string]any)) []byte {
	m := map[string]any{
		"msgId": "msgABC123==", "msgtype": "text", "text": map[string]any{"content": "  create jdcloud-create-backend regionId=cn-north-1 "},
		"createAt": 1767225590000, "conversationType": "2", "conversationId": "cid1", "senderId": "$:LWCP",
		"senderNick": "alice", "senderStaffId": "staff01", "senderCorpId": corp, "chatbotCorpId": corp,
		"chatbotUserId": "$:bot", "robotCode": "ding123", "isInAtList": true,
		"sessionWebhook":            "https://oapi.dingtalk.com/robot/sendBySession?session=SECRETSESSION",
		"sessionWebhookExpiredTime": 1767225590000 + 5400000,
	}
	if mutate != nil {
		mutate(m)
	}
	b, _ := json.Marshal(m)
	return b
}

func inbound(ts, sign string, b []byte, now time.Time) chatops.Inbound {
	h := http.Header{}
	if ts != "" {
		h.Set("timestamp", ts)
	}
	if sign != "" {
		h.Set("sign", sign)
	}
	return chatops.Inbound{Method: http.MethodPost, Header: h, Body: b, Now: now}
}

func TestVector(t *testing.T) {
	if got := sign(secret, ts); got != sig {
		t.Fatalf("vector: computed %s", got)
	}
	for _, d := range []time.Duration{0, 59 * time.Minute, -59 * time.Minute} {
		p := dingtalk.New(config())
		msg, ans, err := p.Receive(inbound(ts, sig, body(nil), t0.Add(d)))
		if err != nil || ans != nil {
			t.Fatalf("%v later: %v", d, err)
		}
		want := chatops.Message{Platform: "dingtalk", MessageID: "msgABC123==", User: "staff01",
			Text: "create jdcloud-create-backend regionId=cn-north-1",
			Reply: chatops.Reply{Platform: "dingtalk", URL: "https://oapi.dingtalk.com/robot/sendBySession?session=SECRETSESSION",
				Expires: time.UnixMilli(1767225590000 + 5400000)}}
		if msg.Platform != want.Platform || msg.MessageID != want.MessageID || msg.User != want.User || msg.Text != want.Text ||
			msg.Reply.URL != want.Reply.URL || !msg.Reply.Expires.Equal(want.Reply.Expires) || msg.JobID() != "dingtalk:msgABC123==" {
			t.Errorf("message %+v, reply url %q expires %v", *msg, msg.Reply.URL, msg.Reply.Expires)
		}
	}
}

func TestReceiveRefuses(t *testing.T) {
	signedBody := func(m func(map[string]any)) chatops.Inbound { return inbound(ts, sig, body(m), t0) }
	tests := []struct {
		name string
		cfg  dingtalk.Config
		in   chatops.Inbound
		want error
	}{
		{"no secret", dingtalk.Config{CorpIDs: []string{corp}}, inbound(ts, sig, body(nil), t0), chatops.ErrUnverified},
		{"no corp ids", dingtalk.Config{AppSecret: redact.NewSecret(secret), CorpIDs: []string{" "}}, inbound(ts, sig, body(nil), t0), chatops.ErrUnverified},
		{"wrong secret", dingtalk.Config{AppSecret: redact.NewSecret("x"), CorpIDs: []string{corp}}, inbound(ts, sig, body(nil), t0), chatops.ErrUnverified},
		{"unsigned", config(), inbound("", "", body(nil), t0), chatops.ErrUnverified},
		{"no sign", config(), inbound(ts, "", body(nil), t0), chatops.ErrUnverified},
		{"stale 61 min", config(), inbound(ts, sig, body(nil), t0.Add(61*time.Minute)), chatops.ErrUnverified},
		{"replayed a day later", config(), inbound(ts, sig, body(nil), t0.Add(24*time.Hour)), chatops.ErrUnverified},
		{"far future", config(), inbound(ts, sig, body(nil), t0.Add(-61*time.Minute)), chatops.ErrUnverified},
		{"timestamp in seconds", config(), inbound("1767225600", sign(secret, "1767225600"), body(nil), t0), chatops.ErrUnverified},
		{"timestamp changed", config(), inbound("1767225600001", sig, body(nil), t0), chatops.ErrUnverified},
		{"forged sign", config(), inbound(ts, base64.StdEncoding.EncodeToString(make([]byte, 32)), body(nil), t0), chatops.ErrUnverified},
		{"sign not base64", config(), inbound(ts, "!!", body(nil), t0), chatops.ErrUnverified},
		{"sign truncated", config(), inbound(ts, sig[:20], body(nil), t0), chatops.ErrUnverified},
		{"timestamp not a number", config(), inbound("abc", sig, body(nil), t0), chatops.ErrUnverified},
		{"GET", config(), chatops.Inbound{Method: http.MethodGet, Now: t0}, chatops.ErrUnverified},

		{"corp not allowed", config(), signedBody(func(m map[string]any) { m["chatbotCorpId"] = "dingEVIL" }), chatops.ErrIgnored},
		{"no corp", config(), signedBody(func(m map[string]any) { delete(m, "chatbotCorpId") }), chatops.ErrIgnored},
		{"picture", config(), signedBody(func(m map[string]any) { m["msgtype"] = "picture" }), chatops.ErrIgnored},
		{"no msgId", config(), signedBody(func(m map[string]any) { delete(m, "msgId") }), chatops.ErrIgnored},
		{"no staff id", config(), signedBody(func(m map[string]any) { delete(m, "senderStaffId") }), chatops.ErrIgnored},
		{"webhook off host", config(), signedBody(func(m map[string]any) { m["sessionWebhook"] = "https://evil.example/robot?session=x" }), chatops.ErrIgnored},
		{"webhook lookalike host", config(), signedBody(func(m map[string]any) { m["sessionWebhook"] = "https://oapi.dingtalk.com.evil.example/x" }), chatops.ErrIgnored},
		{"webhook over http", config(), signedBody(func(m map[string]any) { m["sessionWebhook"] = "http://oapi.dingtalk.com/x" }), chatops.ErrIgnored},
		{"webhook user info", config(), signedBody(func(m map[string]any) { m["sessionWebhook"] = "https://a@oapi.dingtalk.com/x" }), chatops.ErrIgnored},
		{"webhook metadata address", config(), signedBody(func(m map[string]any) { m["sessionWebhook"] = "http://169.254.169.254/latest" }), chatops.ErrIgnored},
		{"webhook expired", config(), signedBody(func(m map[string]any) { m["sessionWebhookExpiredTime"] = 1767225599999 }), chatops.ErrIgnored},
		{"not JSON", config(), inbound(ts, sig, []byte("msgId=1"), t0), chatops.ErrIgnored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, ans, err := dingtalk.New(tt.cfg).Receive(tt.in)
			if !errors.Is(err, tt.want) || msg != nil || ans != nil {
				t.Fatalf("got %v, %v, %v; want %v", msg, ans, err, tt.want)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "SECRETSESSION") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestDedupe(t *testing.T) {
	p := dingtalk.New(config())
	in := inbound(ts, sig, body(nil), t0)
	if _, _, err := p.Receive(in); err != nil {
		t.Fatal(err)
	}
	in.Now = t0.Add(30 * time.Minute)
	if _, _, err := p.Receive(in); !errors.Is(err, chatops.ErrIgnored) {
		t.Fatalf("redelivery within the hour: %v, want ErrIgnored", err)
	}
	other := inbound(ts, sig, body(func(m map[string]any) { m["msgId"] = "msg2" }), t0)
	if _, _, err := p.Receive(other); err != nil {
		t.Fatalf("another message: %v", err)
	}
	// A refused delivery is not remembered: the same msgId from an allowed corp still goes.
	p = dingtalk.New(config())
	bad := inbound(ts, sig, body(func(m map[string]any) { m["chatbotCorpId"] = "x" }), t0)
	p.Receive(bad)
	if _, _, err := p.Receive(in); err != nil {
		t.Fatalf("after a refused delivery: %v", err)
	}
}

func TestDedupeBoundedAndExpiring(t *testing.T) {
	p := dingtalk.New(config())
	// Fresh signatures keep the timestamp inside its window as the clock moves.
	receive := func(id string, now time.Time) error {
		stamp := strconv.FormatInt(now.UnixMilli(), 10)
		_, _, err := p.Receive(inbound(stamp, sign(secret, stamp), body(func(m map[string]any) {
			m["msgId"] = id
			m["sessionWebhookExpiredTime"] = now.Add(time.Hour).UnixMilli()
		}), now))
		return err
	}
	if err := receive("first", t0); err != nil {
		t.Fatal(err)
	}
	// Past the hour the id is forgotten.
	if err := receive("first", t0.Add(61*time.Minute)); err != nil {
		t.Fatalf("after an hour: %v", err)
	}
	// Beyond the bound the oldest ids are forgotten, so memory stays bounded.
	now := t0.Add(2 * time.Hour)
	for i := 0; i < 10001; i++ {
		if err := receive(fmt.Sprint("m", i), now); err != nil {
			t.Fatalf("m%d: %v", i, err)
		}
	}
	if err := receive("m0", now); err != nil {
		t.Errorf("the oldest id should have been evicted: %v", err)
	}
	if err := receive("m10000", now); !errors.Is(err, chatops.ErrIgnored) {
		t.Errorf("the newest id should still be remembered: %v", err)
	}
}

func TestMissing(t *testing.T) {
	tests := []struct {
		cfg  dingtalk.Config
		want string
	}{
		{dingtalk.Config{}, "LBFN_DINGTALK_APP_SECRET, LBFN_DINGTALK_CORP_IDS"},
		{dingtalk.Config{AppSecret: redact.NewSecret("s")}, "LBFN_DINGTALK_CORP_IDS"},
		{dingtalk.Config{CorpIDs: []string{"c"}}, "LBFN_DINGTALK_APP_SECRET"},
		{config(), ""},
	}
	for _, tt := range tests {
		if got := dingtalk.New(tt.cfg).Missing(); got != tt.want {
			t.Errorf("Missing() = %q, want %q", got, tt.want)
		}
	}
}

func TestAnswer(t *testing.T) {
	ans, inBand := dingtalk.New(config()).Answer(chatops.Message{}, "queued")
	if inBand || ans.Status != 200 || len(ans.Body) != 0 {
		t.Errorf("%v %v", ans, inBand)
	}
}

func TestPost(t *testing.T) {
	var calls atomic.Int32
	var got map[string]any
	var gotQuery, gotType string
	answer := `{"errcode":0,"errmsg":"ok"}`
	status := 200
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		got = nil
		json.Unmarshal(b, &got)
		gotQuery, gotType = r.URL.RawQuery, r.Header.Get("Content-Type")
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "https://evil.example/", http.StatusFound)
			return
		}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	defer srv.Close()
	p := dingtalk.New(config())
	ctx := context.Background()
	reply := chatops.Reply{Platform: "dingtalk", URL: srv.URL + "/robot/sendBySession?session=SECRET", Expires: time.Now().Add(time.Hour)}

	if err := p.Post(ctx, reply, "created backend-1"); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"msgtype": "text", "text": map[string]any{"content": "created backend-1"}}
	if fmt.Sprint(got) != fmt.Sprint(want) || gotQuery != "session=SECRET" || gotType != "application/json" {
		t.Errorf("posted %v ?%s %q", got, gotQuery, gotType)
	}

	tests := []struct {
		name   string
		reply  chatops.Reply
		status int
		answer string
		kind   op.Kind
		calls  int32
	}{
		{"errcode under 200", reply, 200, `{"errcode":300001,"errmsg":"session expired"}`, op.KindProvider, 1},
		{"HTTP 500", reply, 500, `{}`, op.KindUnavailable, 1},
		{"HTTP 429", reply, 429, ``, op.KindThrottled, 1},
		{"redirect", chatops.Reply{Platform: "dingtalk", URL: srv.URL + "/redirect?session=SECRET"}, 200, ``, op.KindProvider, 1},
		{"off the pinned host", chatops.Reply{Platform: "dingtalk", URL: "https://evil.example/?session=SECRET"}, 200, ``, op.KindValidation, 0},
		{"expired", chatops.Reply{Platform: "dingtalk", URL: reply.URL, Expires: time.Now().Add(-time.Second)}, 200, ``, op.KindValidation, 0},
		{"another platform", chatops.Reply{Platform: "slack", URL: reply.URL}, 200, ``, op.KindValidation, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls.Store(0)
			status, answer = tt.status, tt.answer
			err := p.Post(ctx, tt.reply, "hi")
			e := op.AsError(err)
			if e == nil || e.Kind != tt.kind || calls.Load() != tt.calls {
				t.Fatalf("err = %v, %d calls; want %s, %d calls", err, calls.Load(), tt.kind, tt.calls)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("error quotes the URL: %v", err)
			}
		})
	}
	status, answer = 200, `{"errcode":300001,"errmsg":"session expired"}`
	if e := op.AsError(p.Post(ctx, reply, "hi")); e.ProviderCode != "300001" || e.ProviderMessage != "session expired" {
		t.Errorf("code error %+v", e)
	}
}

func TestConfigRedacted(t *testing.T) {
	c := config()
	for _, v := range []any{c, &c, dingtalk.New(c)} {
		chattest.CheckRedacted(t, v, secret)
	}
}

func FuzzReceive(f *testing.F) {
	f.Add(ts, sig, body(nil))
	f.Add(ts, sig, []byte(`{"msgId":1}`))
	f.Add("", "", []byte(`null`))
	f.Fuzz(func(t *testing.T, stamp, sign string, b []byte) {
		p := dingtalk.New(config())
		msg, ans, err := p.Receive(inbound(stamp, sign, b, t0))
		if ans != nil || (err == nil) == (msg == nil) {
			t.Fatalf("got %v %v %v", msg, ans, err)
		}
		if err != nil && !errors.Is(err, chatops.ErrUnverified) && !errors.Is(err, chatops.ErrIgnored) {
			t.Fatalf("error wraps neither sentinel: %v", err)
		}
		// Any body under a good signature is never unverified (the body is not signed).
		if _, _, err := p.Receive(inbound(ts, sig, b, t0)); errors.Is(err, chatops.ErrUnverified) {
			t.Fatalf("signed request refused as unverified: %v", err)
		}
	})
}
