package awsjson

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

const (
	testAKID   = "AKIDAWSJSONTEST"
	testSecret = "awsjson/secret+KEY0123456789"
	testToken  = "awsjson-session-token"
)

var testEnv = Env{Region: "eu-west-1", AccessKeyID: testAKID, SecretAccessKey: redact.NewSecret(testSecret), SessionToken: redact.NewSecret(testToken)}

var signedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type answer struct {
	status int
	body   string
}

// fake records requests and answers them in turn (the last answer repeats).
type fake struct {
	mu       sync.Mutex
	answers  []answer
	requests []*http.Request
	bodies   [][]byte
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.bodies = append(f.bodies, body)
	a := answer{200, `{}`}
	if len(f.answers) > 0 {
		a = f.answers[0]
		if len(f.answers) > 1 {
			f.answers = f.answers[1:]
		}
	}
	f.mu.Unlock()
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func newTestClient(t testing.TB, srv *httptest.Server, retry httpx.Retryable) *Client {
	t.Helper()
	c, err := New(Config{Service: "dynamodb", TargetPrefix: "DynamoDB_20120810", JSONVersion: "1.0",
		Endpoint: srv.URL, Env: testEnv, Retryable: retry, Now: func() time.Time { return signedAt }},
		&httpx.Client{Policy: httpx.Policy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCallSigned checks the protocol headers and recomputes the SigV4 signature with
// aws-sdk-go-v2's signer from what the server received.
func TestCallSigned(t *testing.T) {
	f := &fake{answers: []answer{{200, `{"Item":{"id":{"S":"k"}}}`}}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	var out struct {
		Item map[string]map[string]string
	}
	in := map[string]any{"TableName": "t", "Key": map[string]any{"id": map[string]string{"S": "k"}}}
	if err := newTestClient(t, srv, nil).Call(context.Background(), "GetItem", in, &out); err != nil {
		t.Fatal(err)
	}
	if out.Item["id"]["S"] != "k" {
		t.Errorf("decoded %+v", out)
	}
	r, body := f.requests[0], f.bodies[0]
	for h, want := range map[string]string{
		"Content-Type":         "application/x-amz-json-1.0",
		"X-Amz-Target":         "DynamoDB_20120810.GetItem",
		"X-Amz-Security-Token": testToken,
		"X-Amz-Date":           "20260102T030405Z",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		t.Errorf("request %s %s", r.Method, r.URL)
	}
	if want, _ := json.Marshal(in); string(body) != string(want) {
		t.Errorf("body %s, want %s", body, want)
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+testAKID+"/20260102/eu-west-1/dynamodb/aws4_request, SignedHeaders=") ||
		!strings.Contains(auth, "x-amz-target") || strings.Contains(auth, testSecret) {
		t.Errorf("Authorization %q", auth)
	}
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), strings.NewReader(string(body)))
	for _, h := range []string{"Content-Type", "X-Amz-Target"} {
		again.Header.Set(h, r.Header.Get(h))
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: testToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), "dynamodb", "eu-west-1", signedAt); err != nil {
		t.Fatal(err)
	}
	if got := again.Header.Get("Authorization"); got != auth {
		t.Errorf("signature does not verify:\n got %s\nwant %s", auth, got)
	}
}

// TestCallSignsEveryAttempt checks that a retried call is signed again at its own time.
func TestCallSignsEveryAttempt(t *testing.T) {
	f := &fake{answers: []answer{{503, `{}`}, {200, `{}`}}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := newTestClient(t, srv, nil)
	tick := signedAt
	c.now = func() time.Time { tick = tick.Add(time.Second); return tick }
	if err := c.Call(context.Background(), "PutItem", map[string]string{}, nil); err != nil {
		t.Fatal(err)
	}
	if len(f.requests) != 2 || f.requests[0].Header.Get("X-Amz-Date") == f.requests[1].Header.Get("X-Amz-Date") {
		t.Errorf("%d requests, dates not fresh", len(f.requests))
	}
}

func TestCallErrors(t *testing.T) {
	throttled := `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`
	tests := []struct {
		name      string
		answers   []answer
		retry     httpx.Retryable
		kind      op.Kind
		code      string
		attempts  int
		message   string // fragment of the op.Error message
		throttled bool
	}{
		{"condition failed", []answer{{400, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`}},
			nil, op.KindProvider, "ConditionalCheckFailedException", 1, "dynamodb: PutItem answered Bad Request: ConditionalCheckFailedException The conditional request failed", false},
		{"denied", []answer{{403, `{"__type":"com.amazon.coral.service#AccessDeniedException","Message":"not allowed"}`}},
			nil, op.KindAuth, "AccessDeniedException", 1, "AccessDeniedException not allowed", false},
		{"429 retried", []answer{{429, `{"__type":"com.amazonaws.sqs#RequestThrottled","message":"slow"}`}},
			nil, op.KindThrottled, "RequestThrottled", 3, "RequestThrottled slow", true},
		{"5xx retried", []answer{{500, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"oops"}`}},
			nil, op.KindUnavailable, "InternalServerError", 3, "Internal Server Error: InternalServerError oops", false},
		{"400 throttling not retried by default", []answer{{400, throttled}},
			nil, op.KindProvider, "ThrottlingException", 1, "ThrottlingException", true},
		{"400 throttling retried with RetryThrottled", []answer{{400, throttled}},
			RetryThrottled, op.KindProvider, "ThrottlingException", 3, "ThrottlingException", true},
		{"no body", []answer{{400, ``}}, nil, op.KindProvider, "", 1, "dynamodb: PutItem answered Bad Request", false},
		{"signature mismatch echoes the canonical request", []answer{{400, `{"__type":"com.amazon.coral.service#InvalidSignatureException",` +
			`"message":"The request signature we calculated does not match.\n\nThe Canonical String for this request should have been\n'POST\n/\n\nx-amz-security-token:` + testToken + `'"}`}},
			nil, op.KindProvider, "InvalidSignatureException", 1, "does not match.", false},
		{"credentials on the first line", []answer{{400, `{"__type":"UnrecognizedClientException","message":"key ` + testAKID + ` secret ` + testSecret + ` token ` + testToken + `"}`}},
			nil, op.KindProvider, "UnrecognizedClientException", 1, "key <redacted> secret <redacted> token <redacted>", false},
		{"long message bounded", []answer{{400, `{"__type":"ValidationException","message":"` + strings.Repeat("x", 500) + `"}`}},
			nil, op.KindProvider, "ValidationException", 1, strings.Repeat("x", 200) + "...", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fake{answers: tt.answers}
			srv := httptest.NewServer(f)
			defer srv.Close()
			err := newTestClient(t, srv, tt.retry).Call(context.Background(), "PutItem", map[string]string{"TableName": "t"}, nil)
			var e *op.Error
			if !errors.As(err, &e) {
				t.Fatalf("err %#v, want an *op.Error", err)
			}
			if e.Kind != tt.kind || e.Retryable != tt.kind.Retryable() || e.ProviderCode != tt.code || e.HTTPStatus != tt.answers[0].status || e.Attempts != tt.attempts {
				t.Errorf("err %#v", e)
			}
			if len(f.requests) != tt.attempts {
				t.Errorf("%d requests, want %d", len(f.requests), tt.attempts)
			}
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("message %q does not contain %q", e.Message, tt.message)
			}
			refusal := AsError(err)
			if refusal == nil || refusal.Code != tt.code || refusal.StatusCode != tt.answers[0].status || !HasCode(err, tt.code) ||
				refusal.Throttled() != tt.throttled || refusal.Attempts != tt.attempts {
				t.Errorf("refusal %#v", refusal)
			}
			assertNoSecret(t, err)
		})
	}
}

// assertNoSecret fails when a credential appears in err's text, its JSON, or its cause.
func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	b, _ := json.Marshal(err)
	texts := []string{err.Error(), string(b)}
	if r := AsError(err); r != nil {
		texts = append(texts, r.Error(), r.Message)
	}
	for _, text := range texts {
		for _, secret := range []string{testAKID, testSecret, testToken, "Canonical"} {
			if strings.Contains(text, secret) {
				t.Errorf("error carries %q: %s", secret, text)
			}
		}
	}
}

func TestCallUnreadableAnswer(t *testing.T) {
	srv := httptest.NewServer(&fake{answers: []answer{{200, `{"Item":`}}})
	defer srv.Close()
	var out struct{ Item map[string]any }
	err := newTestClient(t, srv, nil).Call(context.Background(), "GetItem", map[string]string{}, &out)
	var e *op.Error
	if !errors.As(err, &e) || e.Kind != op.KindProvider || !errors.Is(err, ErrUnreadable) || AsError(err) != nil {
		t.Errorf("err %#v, want a provider error caused by ErrUnreadable", err)
	}
}

func TestCallUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	err := newTestClient(t, srv, nil).Call(context.Background(), "GetItem", map[string]string{}, nil)
	var e *op.Error
	if !errors.As(err, &e) || e.Kind != op.KindUnavailable || AsError(err) != nil {
		t.Errorf("err %#v, want httpx's unavailable error", err)
	}
	assertNoSecret(t, err)
}

func TestLoopbackEndpoint(t *testing.T) {
	tests := []struct {
		raw  string
		want string // "" when refused
	}{
		{"http://127.0.0.1:4566", "http://127.0.0.1:4566"},
		{"http://localhost:4566/", "http://localhost:4566"},
		{"http://[::1]:4566", "http://[::1]:4566"},
		{"https://127.0.0.1:4566", "https://127.0.0.1:4566"},
		{"https://dynamodb.example.com", ""},
		{"http://dynamodb.example.com", ""},
		{"http://user:pass@127.0.0.1:4566", ""},
		{"127.0.0.1:4566", ""},
	}
	for _, tt := range tests {
		got, err := LoopbackEndpoint("LBFN_X_ENDPOINT", tt.raw)
		if got != tt.want {
			t.Errorf("LoopbackEndpoint(%q) = %q, want %q", tt.raw, got, tt.want)
		}
		var e *op.Error
		if tt.want == "" && (!errors.As(err, &e) || e.Kind != op.KindConfig || !strings.Contains(e.Message, "LBFN_X_ENDPOINT") || strings.Contains(e.Message, "pass")) {
			t.Errorf("LoopbackEndpoint(%q) error %v, want a config error naming the variable", tt.raw, err)
		}
		if tt.want != "" && err != nil {
			t.Errorf("LoopbackEndpoint(%q) error %v", tt.raw, err)
		}
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // config error fragment; "" when valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no region", func(c *Config) { c.Env.Region = "" }, "AWS_REGION is not set (needed to call sqs)"},
		{"no secret key", func(c *Config) { c.Env.SecretAccessKey = redact.Secret{} }, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (needed to call sqs)"},
		{"own purpose", func(c *Config) { c.Env.AccessKeyID = ""; c.Purpose = "needed for X" }, "(needed for X)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Service: "sqs", TargetPrefix: "AmazonSQS", JSONVersion: "1.0", Env: testEnv}
			tt.change(&cfg)
			c, err := New(cfg, &httpx.Client{})
			if tt.want == "" {
				if err != nil || c.Endpoint() != "https://sqs.eu-west-1.amazonaws.com/" {
					t.Errorf("New = %v, %v", c, err)
				}
				return
			}
			var e *op.Error
			if !errors.As(err, &e) || e.Kind != op.KindConfig || !strings.Contains(e.Message, tt.want) {
				t.Errorf("err %v, want a config error %q", err, tt.want)
			}
		})
	}
}

func TestRegionalEndpoint(t *testing.T) {
	for _, tt := range []struct{ service, region, want string }{
		{"dynamodb", "us-east-1", "https://dynamodb.us-east-1.amazonaws.com"},
		{"sqs", "cn-northwest-1", "https://sqs.cn-northwest-1.amazonaws.com.cn"},
	} {
		if got := RegionalEndpoint(tt.service, tt.region); got != tt.want {
			t.Errorf("RegionalEndpoint(%s, %s) = %s, want %s", tt.service, tt.region, got, tt.want)
		}
	}
}

func TestLoadEnv(t *testing.T) {
	for k, v := range map[string]string{"AWS_REGION": "ap-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"} {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_SESSION_TOKEN", "")
	os.Unsetenv("AWS_SESSION_TOKEN")
	e, err := LoadEnv()
	if err != nil || e.Region != "ap-east-1" || e.AccessKeyID != "a" || e.SecretAccessKey.Reveal() != "s" ||
		e.SessionToken.IsSet() || !e.HasCredentials() {
		t.Errorf("LoadEnv = %+v, %v", e, err)
	}
}

func FuzzErrorBody(f *testing.F) {
	f.Add([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"x"}`))
	f.Add([]byte(`{"__type":"AWS.SimpleQueueService.NonExistentQueue","Message":"y"}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, body []byte) {
		code, _ := errorBody(body)
		if strings.ContainsAny(code, "#.") {
			t.Errorf("code %q keeps its namespace", code)
		}
	})
}

func BenchmarkCall(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	c := newTestClient(b, srv, nil)
	in := map[string]string{"TableName": "t"}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Call(context.Background(), "PutItem", in, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCallHangingIsUnavailable: an AWS service that never answers is an outage, retryable,
// not a timeout of the function's own work, and the call gives up at the deadline.
func TestCallHangingIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := newTestClient(t, srv, nil).Call(ctx, "PutItem", map[string]string{}, nil)
	var e *op.Error
	if !errors.As(err, &e) || e.Kind != op.KindUnavailable || !e.Retryable || !strings.Contains(e.Message, "PutItem") {
		t.Errorf("err %#v, want a retryable unavailable error naming the action", err)
	}
}
