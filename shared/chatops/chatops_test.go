package chatops_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lbfn/lbfn/shared/chatops"
	"github.com/lbfn/lbfn/shared/egress"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

const secretURL = "https://hooks.slack.com/commands/T1/2/SECRETPART"

func TestReplyRedactedUnderEveryVerb(t *testing.T) {
	r := chatops.Reply{Platform: "slack", URL: secretURL, MessageID: "om_SECRET", Expires: time.Unix(1, 0)}
	m := chatops.Message{Platform: "slack", MessageID: "t1", User: "U1", Text: "help", Reply: r}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v", "%10.3v"} {
		for _, v := range []any{r, &r, m, &m, []chatops.Reply{r}, map[string]any{"r": r}} {
			got := fmt.Sprintf(verb, v)
			if strings.Contains(got, "SECRET") || strings.Contains(got, "hooks.slack.com") {
				t.Errorf("Sprintf(%q, %T) = %q: leaks the address", verb, v, got)
			}
		}
	}
	if got := fmt.Sprint(r); got != "[redacted]" {
		t.Errorf("Sprint = %q", got)
	}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		slog.New(h).Info("posting", "reply", r, "msg", m)
	}
	if strings.Contains(buf.String(), "SECRET") {
		t.Errorf("slog output leaks the address: %s", buf.String())
	}
}

func TestJobIDAndExpired(t *testing.T) {
	m := chatops.Message{Platform: "feishu", MessageID: "om_1"}
	if got := m.JobID(); got != "feishu:om_1" {
		t.Errorf("JobID = %q", got)
	}
	now := time.Unix(1000, 0)
	tests := []struct {
		expires time.Time
		want    bool
	}{{time.Time{}, false}, {now.Add(time.Second), false}, {now, true}, {now.Add(-time.Second), true}}
	for _, tt := range tests {
		if got := (chatops.Reply{Expires: tt.expires}).Expired(now); got != tt.want {
			t.Errorf("Expired(expires %v) = %v, want %v", tt.expires, got, tt.want)
		}
	}
}

func TestHeaderValue(t *testing.T) {
	in := chatops.Inbound{Header: http.Header{"x-slack-signature": {"lower"}, "Timestamp": {"canon"}}}
	for name, want := range map[string]string{"X-Slack-Signature": "lower", "timestamp": "canon", "Sign": ""} {
		if got := in.HeaderValue(name); got != want {
			t.Errorf("HeaderValue(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijkl", 10, "abcdefg…"},
		{"创建负载均衡", 10, "创建…"}, // 3-byte runes: never cut inside one
		{"创建负载均衡", 9, "创建…"},
		{"创建负载均衡", 8, "创…"},
		{"创建负载均衡", 5, "…"},
		{"abc", 2, ""},
		{"a\xffb", 10, "a\uFFFDb"},
	}
	for _, tt := range tests {
		got := chatops.Truncate(tt.in, tt.max)
		if got != tt.want || len(got) > tt.max || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestPadUnpad(t *testing.T) {
	for _, block := range []int{16, 32} {
		for n := 0; n <= 2*block; n++ {
			msg := bytes.Repeat([]byte{'x'}, n)
			p := chatops.Pad(msg, block)
			if len(p)%block != 0 || len(p) <= n {
				t.Fatalf("Pad(%d bytes, %d) = %d bytes", n, block, len(p))
			}
			got, err := chatops.Unpad(p, block)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("Unpad(Pad(%d bytes)) = %q, %v", n, got, err)
			}
		}
	}
	bad := map[string][]byte{
		"empty":          nil,
		"not whole":      bytes.Repeat([]byte{1}, 15),
		"zero pad":       append(bytes.Repeat([]byte{'a'}, 15), 0),
		"pad over block": append(bytes.Repeat([]byte{'a'}, 15), 17),
		"mixed pad":      append(bytes.Repeat([]byte{'a'}, 13), 2, 3, 3),
	}
	for name, b := range bad {
		if _, err := chatops.Unpad(b, 16); err == nil {
			t.Errorf("Unpad(%s) accepted", name)
		}
	}
}

func TestCBCRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	iv := key[:16]
	for _, block := range []int{16, 32} {
		ct, err := chatops.EncryptCBC(key, iv, []byte("hello world"), block)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := chatops.DecryptCBC(key, iv, ct, block)
		if err != nil || string(pt) != "hello world" {
			t.Errorf("block %d: got %q, %v", block, pt, err)
		}
		other := bytes.Repeat([]byte{8}, 32)
		if pt, err := chatops.DecryptCBC(other, iv, ct, block); err == nil && string(pt) == "hello world" {
			t.Errorf("block %d: wrong key decrypted", block)
		}
	}
	if _, err := chatops.DecryptCBC(key, iv, []byte("short"), 16); err == nil {
		t.Error("partial block accepted")
	}
}

func TestCheckURL(t *testing.T) {
	hosts := []string{"hooks.slack.com"}
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://hooks.slack.com/commands/T/1/x", true},
		{"https://HOOKS.slack.com./commands/T/1/x", true},
		{"https://hooks.slack.com:443/x", true},
		{"http://127.0.0.1:8080/x", true},
		{"http://localhost:1/x", true},
		{"https://[::1]:9/x", true},
		{"http://hooks.slack.com/x", false},
		{"https://hooks.slack.com:8443/x", false},
		{"https://evil.example/x", false},
		{"https://hooks.slack.com.evil.example/x", false},
		{"https://user:pw@hooks.slack.com/x", false},
		{"https://u@127.0.0.1/x", false},
		{"ftp://127.0.0.1/x", false},
		{"https://169.254.169.254/latest", false},
		{"/relative", false},
		{"", false},
		{"mailto:a@hooks.slack.com", false},
		{"https://hooks.slack.com\x00/x", false},
	}
	for _, tt := range tests {
		_, err := chatops.CheckURL(tt.url, hosts...)
		if (err == nil) != tt.ok {
			t.Errorf("CheckURL(%q) err = %v, want ok=%v", tt.url, err, tt.ok)
		}
		if err != nil && strings.Contains(err.Error(), "slack.com") {
			t.Errorf("CheckURL error quotes the URL: %v", err)
		}
	}
}

func TestPostJSON(t *testing.T) {
	var gotBody, gotType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/landed", http.StatusFound)
		case "/landed":
			t.Error("redirect followed")
		case "/slow":
			io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		default:
			var b bytes.Buffer
			b.ReadFrom(r.Body)
			gotBody, gotType = b.String(), r.Header.Get("Content-Type")
			w.Write([]byte(`{"ok":true}`))
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	status, answer, err := chatops.PostJSON(ctx, srv.Client(), "test", srv.URL+"/SECRET", nil, nil, []byte(`{"a":1}`))
	if err != nil || status != 200 || string(answer) != `{"ok":true}` || gotBody != `{"a":1}` || gotType != "application/json" {
		t.Errorf("post: %d %q %v; server saw %q %q", status, answer, err, gotBody, gotType)
	}
	status, _, err = chatops.PostJSON(ctx, nil, "test", srv.URL+"/redirect", nil, nil, nil)
	if err != nil || status != http.StatusFound {
		t.Errorf("redirect: status %d, %v; want the 302 itself", status, err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, _, err = chatops.PostJSON(short, nil, "test", srv.URL+"/slow?token=SECRET", nil, nil, nil)
	if op.AsError(err).Kind != op.KindTimeout || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("slow: %v, want a timeout without the URL", err)
	}
	_, _, err = chatops.PostJSON(ctx, nil, "test", "https://evil.example/SECRET", []string{"hooks.slack.com"}, nil, nil)
	if op.AsError(err).Kind != op.KindValidation || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("off-host: %v", err)
	}
	srv.Close()
	_, _, err = chatops.PostJSON(ctx, nil, "slack response_url", srv.URL+"/SECRET", nil, nil, nil)
	if err == nil || strings.Contains(err.Error(), "SECRET") || !strings.HasPrefix(op.AsError(err).Message, "slack response_url: ") {
		t.Errorf("closed server: %v", err)
	}
}

// TestRuntimeAPIRefused: a reply address on loopback is allowed (tests, make run) except on
// the Lambda Runtime API, where a post could answer the function's own invocation: CheckURL
// refuses it before any call, and the default client refuses to dial it even under another
// name for a loopback address.
func TestRuntimeAPIRefused(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, port, _ := strings.Cut(srv.Listener.Addr().String(), ":")
	ctx := context.Background()
	if status, _, err := chatops.PostJSON(ctx, nil, "test", srv.URL+"/x", nil, nil, nil); err != nil || status != http.StatusOK {
		t.Fatalf("loopback post: %d %v", status, err)
	}
	t.Setenv(egress.RuntimeAPIVariable, "127.0.0.1:"+port)
	for _, raw := range []string{srv.URL + "/2018-06-01/runtime/invocation/1/response", "http://localhost:" + port + "/x"} {
		if _, err := chatops.CheckURL(raw); err == nil {
			t.Errorf("CheckURL accepted the Runtime API")
		}
		_, _, err := chatops.PostJSON(ctx, nil, "test", raw, nil, nil, nil)
		if e := op.AsError(err); e == nil || e.Kind != op.KindValidation || e.Retryable || strings.Contains(e.Message, port) {
			t.Errorf("PostJSON to the Runtime API: %v", err)
		}
	}
	// Past CheckURL, the dial itself is checked.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://localhost:"+port+"/x", nil)
	if resp, err := chatops.Client(nil).Do(req); !egress.Refused(err) {
		t.Errorf("the default client dialled the Runtime API: %v %v", resp, err)
	}
	if e := chatops.SendError(ctx, "test", &url.Error{Op: "Post", URL: "http://localhost/SECRET", Err: &egress.AddressError{Reason: "refused"}}); e.Kind != op.KindValidation || e.Retryable || e.Message != "test: refused" {
		t.Errorf("SendError of a refused address = %+v", e)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the server saw %d requests, want only the first", n)
	}
}

// TestErrorsScrubbed: what a platform answers goes into errors through redact.Text, without
// the exchange's own secrets.
func TestErrorsScrubbed(t *testing.T) {
	e := chatops.CodeError(op.KindAuth, "feishu reply API", 99991663, "invalid access_token=t-abcdef123 sent with app-SECRET-1", redact.NewSecret("app-SECRET-1"))
	if strings.Contains(e.ProviderMessage, "t-abcdef123") || strings.Contains(e.ProviderMessage, "app-SECRET-1") ||
		!strings.HasPrefix(e.ProviderMessage, "invalid access_token=") || e.ProviderCode != "99991663" ||
		e.Kind != op.KindAuth || e.Retryable {
		t.Errorf("CodeError = %+v", e)
	}
	e = chatops.SendError(context.Background(), "test", errors.New(`malformed HTTP response "Authorization: Bearer abcdefghijkl"`))
	if strings.Contains(e.Message, "abcdefghijkl") || e.Kind != op.KindUnavailable || !e.Retryable {
		t.Errorf("SendError = %+v", e)
	}
}

func TestStatusError(t *testing.T) {
	tests := []struct {
		status int
		kind   op.Kind
	}{{429, op.KindThrottled}, {401, op.KindAuth}, {403, op.KindAuth}, {404, op.KindProvider}, {302, op.KindProvider}, {500, op.KindUnavailable}, {503, op.KindUnavailable}}
	for _, tt := range tests {
		e := chatops.StatusError("slack response_url", tt.status)
		if e.Kind != tt.kind || e.Retryable != tt.kind.Retryable() || e.Error() != fmt.Sprintf("%s: slack response_url: HTTP %d", tt.kind, tt.status) {
			t.Errorf("StatusError(%d) = %v (%s)", tt.status, e, e.Kind)
		}
	}
}

func TestReceiveErrors(t *testing.T) {
	if err := chatops.Unverified("slack", "stale"); !errors.Is(err, chatops.ErrUnverified) || errors.Is(err, chatops.ErrIgnored) {
		t.Errorf("Unverified: %v", err)
	}
	if err := chatops.Ignored("feishu", "bot sender"); !errors.Is(err, chatops.ErrIgnored) || err.Error() != "chatops: nothing to do: feishu: bot sender" {
		t.Errorf("Ignored: %v", err)
	}
}
