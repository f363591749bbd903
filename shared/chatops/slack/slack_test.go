package slack_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/chatops"
	"github.com/lbfn/lbfn/shared/chatops/chattest"
	"github.com/lbfn/lbfn/shared/chatops/slack"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// Two vectors: the example of Slack's "Verifying requests from Slack" page, and one of lbfn's
// computed independently (openssl).
const (
	docSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	docTS     = "1531420618"
	docBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	docSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

	lbfnSecret = "lbfn-test-signing-secret-0001"
	lbfnTS     = "1767225600"
	lbfnBody   = "token=deprecatedVerificationTok&team_id=T0001LBFN&team_domain=lbfn&channel_id=C0001OPS&channel_name=ops&user_id=U0001ALICE&user_name=alice&command=%2Flbfn&text=create+huawei-create-pool+region%3Dcn-north-4+pool.protocol%3DHTTP+pool.lb_algorithm%3DROUND_ROBIN+pool.loadbalancer_id%3D0b07acf0-b5e4-4fbb-8f3b-2b3c4f2f6a11&api_app_id=A0001LBFN&is_enterprise_install=false&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0001LBFN%2F1234567890%2FabcdefGHIJKLmnop&trigger_id=1234567890.1234567890.0123456789abcdef0123456789abcdef"
	lbfnSig    = "v0=5dd5bf0341e63d442d795504a6b5bba20bae7b1068be23457cd33842fdf2093b"
)

func unix(ts string) time.Time {
	n, _ := strconv.ParseInt(ts, 10, 64)
	return time.Unix(n, 0)
}

func sign(secret, ts, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":" + body))
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

func inbound(ts, sig, body string, now time.Time) chatops.Inbound {
	h := http.Header{}
	if ts != "" {
		h.Set("X-Slack-Request-Timestamp", ts)
	}
	if sig != "" {
		h.Set("X-Slack-Signature", sig)
	}
	return chatops.Inbound{Method: http.MethodPost, Header: h, Body: []byte(body), Now: now}
}

func TestVectors(t *testing.T) {
	if got := sign(docSecret, docTS, docBody); got != docSig {
		t.Fatalf("doc vector: computed %s", got)
	}
	if got := sign(lbfnSecret, lbfnTS, lbfnBody); got != lbfnSig {
		t.Fatalf("lbfn vector: computed %s", got)
	}
	p := slack.New(slack.Config{SigningSecret: redact.NewSecret(docSecret)})
	msg, ans, err := p.Receive(inbound(docTS, docSig, docBody, unix(docTS).Add(299*time.Second)))
	if err != nil || ans != nil {
		t.Fatalf("doc vector: %v, %v", err, ans)
	}
	if msg.MessageID != "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c" || msg.User != "U2CERLKJA" || msg.Text != "" ||
		msg.Reply.URL != "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN" {
		t.Errorf("doc vector message: %+v (url %q)", *msg, msg.Reply.URL)
	}

	p = slack.New(slack.Config{SigningSecret: redact.NewSecret(lbfnSecret)})
	now := unix(lbfnTS).Add(-10 * time.Second) // Slack's clock a little ahead of ours
	msg, _, err = p.Receive(inbound(lbfnTS, lbfnSig, lbfnBody, now))
	if err != nil {
		t.Fatal(err)
	}
	want := "create huawei-create-pool region=cn-north-4 pool.protocol=HTTP pool.lb_algorithm=ROUND_ROBIN pool.loadbalancer_id=0b07acf0-b5e4-4fbb-8f3b-2b3c4f2f6a11"
	if msg.Text != want || msg.User != "U0001ALICE" || msg.JobID() != "slack:1234567890.1234567890.0123456789abcdef0123456789abcdef" {
		t.Errorf("lbfn vector message: %+v", *msg)
	}
	if msg.Reply.Platform != "slack" || !msg.Reply.Expires.Equal(now.Add(30*time.Minute)) {
		t.Errorf("reply: platform %q expires %v", msg.Reply.Platform, msg.Reply.Expires)
	}
}

func TestReceiveRefuses(t *testing.T) {
	now := unix(lbfnTS)
	signed := func(body string) chatops.Inbound { return inbound(lbfnTS, sign(lbfnSecret, lbfnTS, body), body, now) }
	offHost := strings.Replace(lbfnBody, "hooks.slack.com", "evil.example", 1)
	httpScheme := strings.Replace(lbfnBody, "https%3A%2F%2Fhooks", "http%3A%2F%2Fhooks", 1)
	tests := []struct {
		name   string
		secret string
		in     chatops.Inbound
		want   error
	}{
		{"empty secret", "", inbound(lbfnTS, lbfnSig, lbfnBody, now), chatops.ErrUnverified},
		{"wrong secret", "another-secret", inbound(lbfnTS, lbfnSig, lbfnBody, now), chatops.ErrUnverified},
		{"unsigned", lbfnSecret, inbound("", "", lbfnBody, now), chatops.ErrUnverified},
		{"no timestamp", lbfnSecret, inbound("", lbfnSig, lbfnBody, now), chatops.ErrUnverified},
		{"stale 301 s", lbfnSecret, inbound(lbfnTS, lbfnSig, lbfnBody, now.Add(301*time.Second)), chatops.ErrUnverified},
		{"replayed an hour later", lbfnSecret, inbound(lbfnTS, lbfnSig, lbfnBody, now.Add(time.Hour)), chatops.ErrUnverified},
		{"far future", lbfnSecret, inbound(lbfnTS, lbfnSig, lbfnBody, now.Add(-301*time.Second)), chatops.ErrUnverified},
		{"tampered body", lbfnSecret, inbound(lbfnTS, lbfnSig, lbfnBody+"x", now), chatops.ErrUnverified},
		{"tampered text", lbfnSecret, inbound(lbfnTS, lbfnSig, strings.Replace(lbfnBody, "HTTP", "TCP", 1), now), chatops.ErrUnverified},
		{"timestamp changed", lbfnSecret, inbound("1767225601", lbfnSig, lbfnBody, now), chatops.ErrUnverified},
		{"forged signature", lbfnSecret, inbound(lbfnTS, "v0="+strings.Repeat("ab", 32), lbfnBody, now), chatops.ErrUnverified},
		{"no v0 prefix", lbfnSecret, inbound(lbfnTS, strings.TrimPrefix(lbfnSig, "v0="), lbfnBody, now), chatops.ErrUnverified},
		{"v1 prefix", lbfnSecret, inbound(lbfnTS, "v1="+strings.TrimPrefix(lbfnSig, "v0="), lbfnBody, now), chatops.ErrUnverified},
		{"short signature", lbfnSecret, inbound(lbfnTS, lbfnSig[:40], lbfnBody, now), chatops.ErrUnverified},
		{"non-hex signature", lbfnSecret, inbound(lbfnTS, "v0="+strings.Repeat("zz", 32), lbfnBody, now), chatops.ErrUnverified},
		{"timestamp not a number", lbfnSecret, inbound("17672256OO", lbfnSig, lbfnBody, now), chatops.ErrUnverified},
		{"GET", lbfnSecret, chatops.Inbound{Method: http.MethodGet, Now: now}, chatops.ErrUnverified},
		{"response_url off host", lbfnSecret, signed(offHost), chatops.ErrIgnored},
		{"response_url over http", lbfnSecret, signed(httpScheme), chatops.ErrIgnored},
		{"no trigger_id", lbfnSecret, signed("user_id=U1&text=help&response_url=https%3A%2F%2Fhooks.slack.com%2Fx"), chatops.ErrIgnored},
		{"not a form", lbfnSecret, signed("%zz"), chatops.ErrIgnored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, ans, err := slack.New(slack.Config{SigningSecret: redact.NewSecret(tt.secret)}).Receive(tt.in)
			if !errors.Is(err, tt.want) || msg != nil || ans != nil {
				t.Fatalf("got %v, %v, %v; want %v", msg, ans, err, tt.want)
			}
			if strings.Contains(err.Error(), lbfnSecret) || strings.Contains(err.Error(), "5dd5bf03") {
				t.Errorf("error leaks the secret or signature: %v", err)
			}
		})
	}
}

func TestHeadersAnyCase(t *testing.T) {
	in := inbound("", "", lbfnBody, unix(lbfnTS))
	in.Header = http.Header{"x-slack-request-timestamp": {lbfnTS}, "x-slack-signature": {lbfnSig}}
	if _, _, err := slack.New(slack.Config{SigningSecret: redact.NewSecret(lbfnSecret)}).Receive(in); err != nil {
		t.Fatal(err)
	}
}

func TestSSLCheck(t *testing.T) {
	p := slack.New(slack.Config{SigningSecret: redact.NewSecret(lbfnSecret)})
	for _, in := range []chatops.Inbound{
		{Method: http.MethodGet, Query: url.Values{"ssl_check": {"1"}}},
		{Method: http.MethodPost, Body: []byte("ssl_check=1&token=abc")},
	} {
		msg, ans, err := p.Receive(in)
		if err != nil || msg != nil || ans == nil || ans.Status != 200 || len(ans.Body) != 0 {
			t.Errorf("%s ssl_check: %v, %v, %v", in.Method, msg, ans, err)
		}
	}
	// Unconfigured, even the probe is refused: fail closed.
	if _, _, err := slack.New(slack.Config{}).Receive(chatops.Inbound{Method: http.MethodGet, Query: url.Values{"ssl_check": {"1"}}}); !errors.Is(err, chatops.ErrUnverified) {
		t.Errorf("unconfigured ssl_check: %v", err)
	}
}

func TestMissing(t *testing.T) {
	if got := slack.New(slack.Config{}).Missing(); got != "LBFN_SLACK_SIGNING_SECRET" {
		t.Errorf("Missing = %q", got)
	}
	if got := slack.New(slack.Config{SigningSecret: redact.NewSecret("s")}).Missing(); got != "" {
		t.Errorf("Missing = %q", got)
	}
	if got := slack.New(slack.Config{}).Name(); got != "slack" {
		t.Errorf("Name = %q", got)
	}
}

func TestAnswer(t *testing.T) {
	p := slack.New(slack.Config{SigningSecret: redact.NewSecret(lbfnSecret)})
	ans, inBand := p.Answer(chatops.Message{}, `queued huawei-create-pool as job slack:1 <"&">`)
	if !inBand || ans.Status != 200 || ans.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("answer: %v inBand=%v", ans, inBand)
	}
	var got map[string]string
	if err := json.Unmarshal(ans.Body, &got); err != nil || len(got) != 2 || got["response_type"] != "ephemeral" || got["text"] != `queued huawei-create-pool as job slack:1 <"&">` {
		t.Errorf("body %s: %v", ans.Body, err)
	}
	long, _ := p.Answer(chatops.Message{}, strings.Repeat("负", 5000))
	json.Unmarshal(long.Body, &got)
	if len(got["text"]) > 4000 || !strings.HasSuffix(got["text"], "…") {
		t.Errorf("long text: %d bytes", len(got["text"]))
	}
}

func TestPost(t *testing.T) {
	var calls atomic.Int32
	var gotBody []byte
	var gotPath, gotType string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		gotPath, gotType = r.URL.Path, r.Header.Get("Content-Type")
		gotBody, _ = io.ReadAll(r.Body)
		switch {
		case r.URL.Path == "/redirect":
			http.Redirect(w, r, "https://evil.example/", http.StatusTemporaryRedirect)
		case r.URL.Path == "/limited":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.WriteHeader(status)
		}
	}))
	defer srv.Close()
	p := slack.New(slack.Config{SigningSecret: redact.NewSecret(lbfnSecret), HTTPClient: srv.Client()})
	ctx := context.Background()
	reply := func(path string) chatops.Reply {
		return chatops.Reply{Platform: "slack", URL: srv.URL + path, Expires: time.Now().Add(time.Minute)}
	}

	if err := p.Post(ctx, reply("/commands/T1/2/SECRET"), "created pool-1"); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.Unmarshal(gotBody, &body)
	if gotPath != "/commands/T1/2/SECRET" || gotType != "application/json" || body["text"] != "created pool-1" || body["response_type"] != "in_channel" {
		t.Errorf("posted %s %q %s", gotPath, gotType, gotBody)
	}

	tests := []struct {
		name  string
		reply chatops.Reply
		kind  op.Kind
		calls int32
	}{
		{"500", reply("/commands/500/SECRET"), op.KindUnavailable, 1},
		{"redirect not followed", reply("/redirect"), op.KindProvider, 1},
		{"429 with Retry-After", reply("/limited"), op.KindThrottled, 1},
		{"off the pinned host", chatops.Reply{Platform: "slack", URL: "https://evil.example/SECRET"}, op.KindValidation, 0},
		{"http off loopback", chatops.Reply{Platform: "slack", URL: "http://hooks.slack.com/SECRET"}, op.KindValidation, 0},
		{"expired", chatops.Reply{Platform: "slack", URL: srv.URL + "/SECRET", Expires: time.Now().Add(-time.Second)}, op.KindValidation, 0},
		{"another platform's reply", chatops.Reply{Platform: "wecom", URL: srv.URL + "/SECRET"}, op.KindValidation, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "500" {
				status = 500
				defer func() { status = 200 }()
			}
			calls.Store(0)
			err := p.Post(ctx, tt.reply, "hi")
			if e := op.AsError(err); e == nil || e.Kind != tt.kind || calls.Load() != tt.calls {
				t.Fatalf("err = %v (kind %v), calls %d; want %s, %d calls", err, e, calls.Load(), tt.kind, tt.calls)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("error quotes the URL: %v", err)
			}
		})
	}

	srv.Close()
	err := p.Post(ctx, reply("/SECRET"), "hi")
	if e := op.AsError(err); e.Kind != op.KindUnavailable || !e.Retryable || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("closed server: %v", err)
	}
}

func TestPostBoundedByContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices the client leaving only once the body is read
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := slack.New(slack.Config{SigningSecret: redact.NewSecret("s")}).Post(ctx, chatops.Reply{Platform: "slack", URL: srv.URL + "/SECRET"}, "hi")
	if e := op.AsError(err); e.Kind != op.KindTimeout || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("err = %v", err)
	}
}

func TestConfigRedacted(t *testing.T) {
	c := slack.Config{SigningSecret: redact.NewSecret(lbfnSecret), HTTPClient: chatops.Client(nil)}
	for _, v := range []any{c, &c, slack.New(c)} {
		chattest.CheckRedacted(t, v, lbfnSecret)
	}
}

func FuzzReceive(f *testing.F) {
	f.Add(lbfnTS, lbfnSig, lbfnBody, "")
	f.Add(docTS, docSig, docBody, "ssl_check=1")
	f.Add("", "v0=", "%", "a=%zz")
	p := slack.New(slack.Config{SigningSecret: redact.NewSecret(lbfnSecret)})
	now := unix(lbfnTS)
	f.Fuzz(func(t *testing.T, ts, sig, body, query string) {
		q, _ := url.ParseQuery(query)
		in := inbound(ts, sig, body, now)
		in.Query = q
		msg, ans, err := p.Receive(in)
		if err == nil && (msg == nil) == (ans == nil) {
			t.Fatalf("exactly one of msg and answer expected: %v %v", msg, ans)
		}
		if err != nil && !errors.Is(err, chatops.ErrUnverified) && !errors.Is(err, chatops.ErrIgnored) {
			t.Fatalf("error wraps neither sentinel: %v", err)
		}
		// Re-signed fuzz bodies must verify: the check depends on the bytes, nothing else.
		in = inbound(lbfnTS, sign(lbfnSecret, lbfnTS, body), body, now)
		if _, _, err := p.Receive(in); errors.Is(err, chatops.ErrUnverified) {
			t.Fatalf("correctly signed body refused: %v", err)
		}
	})
}
