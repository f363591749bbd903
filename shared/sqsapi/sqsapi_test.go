package sqsapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/sqsapi"
)

// fakeSQS answers SQS's JSON protocol with the statuses queued in answers.
type fakeSQS struct {
	mu       sync.Mutex
	answers  []int
	requests []*http.Request
	bodies   [][]byte
}

func (f *fakeSQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.bodies = append(f.bodies, body)
	status := http.StatusOK
	if len(f.answers) > 0 {
		status, f.answers = f.answers[0], f.answers[1:]
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	switch status {
	case http.StatusOK:
		if r.Header.Get("X-Amz-Target") == "AmazonSQS.SendMessage" {
			_, _ = io.WriteString(w, `{"MD5OfMessageBody":"x","MessageId":"m-1"}`)
		} else {
			_, _ = io.WriteString(w, `{}`)
		}
	case http.StatusBadRequest:
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}`)
	case http.StatusForbidden:
		_, _ = io.WriteString(w, `{"__type":"com.amazon.coral.service#AccessDeniedException","message":"denied"}`)
	default:
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.sqs#InternalError","message":"oops"}`)
	}
}

const secret = "test-aws-secret-key"

func newClient(t testing.TB, srv *httptest.Server) *sqsapi.Client {
	t.Helper()
	c, err := sqsapi.New(sqsapi.Settings{Endpoint: srv.URL,
		Region: "eu-west-1", AccessKeyID: "AKIDTEST", SecretAccessKey: redact.NewSecret(secret), SessionToken: redact.NewSecret("tok"),
	}, &httpx.Client{Policy: httpx.Policy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	c.Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	return c
}

// checkSigned checks the protocol headers and the SigV4 signature of one request.
func checkSigned(t *testing.T, r *http.Request, target string) {
	t.Helper()
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("X-Amz-Target") != target ||
		r.Header.Get("Content-Type") != "application/x-amz-json-1.0" || r.Header.Get("X-Amz-Security-Token") != "tok" ||
		r.Header.Get("X-Amz-Date") != "20260102T030405Z" {
		t.Errorf("request %s %s headers %v", r.Method, r.URL, r.Header)
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260102/eu-west-1/sqs/aws4_request, SignedHeaders=") ||
		!strings.Contains(auth, "x-amz-target") || strings.Contains(auth, secret) {
		t.Errorf("Authorization %q", auth)
	}
}

func TestSendMessage(t *testing.T) {
	fake := &fakeSQS{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	q, err := newClient(t, srv).Queue("https://sqs.eu-west-1.amazonaws.com/123456789012/failures")
	if err != nil {
		t.Fatal(err)
	}
	err = q.Send(context.Background(), `{"result":{}}`, map[string]string{"function": "huawei-create-pool", "kind": "validation", "messageId": ""})
	if err != nil {
		t.Fatal(err)
	}
	checkSigned(t, fake.requests[0], "AmazonSQS.SendMessage")
	want := map[string]any{
		"QueueUrl":    "https://sqs.eu-west-1.amazonaws.com/123456789012/failures",
		"MessageBody": `{"result":{}}`,
		"MessageAttributes": map[string]any{
			"function": map[string]any{"DataType": "String", "StringValue": "huawei-create-pool"},
			"kind":     map[string]any{"DataType": "String", "StringValue": "validation"},
		},
	}
	if got := canonical(t, fake.bodies[0]); got != string(mustJSON(want)) {
		t.Errorf("body %s, want %s", got, mustJSON(want))
	}
}

func TestChangeMessageVisibility(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		seconds int
	}{
		{"seconds", 5 * time.Second, 5},
		{"rounded up", 1500 * time.Millisecond, 2},
		{"zero: visible now", 0, 0},
		{"negative clamped", -time.Second, 0},
		{"at the limit", 12 * time.Hour, 43200},
		{"beyond the limit clamped", 13 * time.Hour, 43200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeSQS{}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			err := newClient(t, srv).ChangeVisibility(context.Background(), "arn:aws:sqs:eu-west-1:123456789012:requests", "rh-1", tt.timeout)
			if err != nil {
				t.Fatal(err)
			}
			checkSigned(t, fake.requests[0], "AmazonSQS.ChangeMessageVisibility")
			want := map[string]any{
				// LBFN_SQS_ENDPOINT is set: the queue is named on it, as local SQS servers do.
				"QueueUrl":          srv.URL + "/123456789012/requests",
				"ReceiptHandle":     "rh-1",
				"VisibilityTimeout": tt.seconds,
			}
			if got := canonical(t, fake.bodies[0]); got != string(mustJSON(want)) {
				t.Errorf("body %s, want %s", got, mustJSON(want))
			}
		})
	}
}

func canonical(t *testing.T, body []byte) string {
	t.Helper()
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		t.Fatal(err)
	}
	return string(mustJSON(in))
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestQueueURL(t *testing.T) {
	aws, err := sqsapi.New(sqsapi.Settings{Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: redact.NewSecret("b")}, &httpx.Client{})
	if err != nil {
		t.Fatal(err)
	}
	local, err := sqsapi.New(sqsapi.Settings{Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: redact.NewSecret("b"), Endpoint: "http://127.0.0.1:9324/"}, &httpx.Client{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		client *sqsapi.Client
		arn    string
		want   string // "" when not a queue ARN
	}{
		{aws, "arn:aws:sqs:us-east-1:123456789012:lbfn-requests", "https://sqs.us-east-1.amazonaws.com/123456789012/lbfn-requests"},
		{aws, "arn:aws:sqs:eu-west-1:123456789012:q.fifo", "https://sqs.eu-west-1.amazonaws.com/123456789012/q.fifo"},
		{aws, "arn:aws-cn:sqs:cn-north-1:123456789012:q", "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q"},
		{local, "arn:aws:sqs:us-east-1:123456789012:q", "http://127.0.0.1:9324/123456789012/q"},
		{aws, "", ""},
		{aws, "arn:aws:sns:us-east-1:123456789012:q", ""},
		{aws, "arn:aws:sqs:us-east-1:123456789012", ""},
		{aws, "arn:aws:sqs::123456789012:q", ""},
		{aws, "arn:aws:sqs:us-east-1:1:q:extra", ""},
		{aws, "arn:aws:sqs:us-east-1:1:q/../x", ""},
	}
	for _, tt := range tests {
		got, err := tt.client.QueueURL(tt.arn)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("QueueURL(%q) = %q, %v; want %q", tt.arn, got, err, tt.want)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		answers  []int
		kind     op.Kind
		code     string
		attempts int
	}{
		{"retried then ok", []int{500, 503}, "", "", 3},
		{"no such queue", []int{400}, op.KindProvider, "QueueDoesNotExist", 1},
		{"denied", []int{403}, op.KindAuth, "AccessDeniedException", 1},
		{"down", []int{500, 500, 500}, op.KindUnavailable, "InternalError", 3},
	}
	calls := map[string]func(*sqsapi.Client) error{
		"SendMessage": func(c *sqsapi.Client) error {
			return c.SendMessage(context.Background(), "https://sqs.eu-west-1.amazonaws.com/1/q", "b", nil)
		},
		"ChangeMessageVisibility": func(c *sqsapi.Client) error {
			return c.ChangeMessageVisibility(context.Background(), "https://sqs.eu-west-1.amazonaws.com/1/q", "rh", time.Second)
		},
	}
	for action, call := range calls {
		for _, tt := range tests {
			t.Run(action+"/"+tt.name, func(t *testing.T) {
				fake := &fakeSQS{answers: tt.answers}
				srv := httptest.NewServer(fake)
				defer srv.Close()
				err := call(newClient(t, srv))
				if len(fake.requests) != tt.attempts {
					t.Errorf("%d attempts, want %d", len(fake.requests), tt.attempts)
				}
				if tt.kind == "" {
					if err != nil {
						t.Errorf("err %v", err)
					}
					return
				}
				var e *op.Error
				if !errors.As(err, &e) || e.Kind != tt.kind || e.ProviderCode != tt.code ||
					!strings.Contains(e.Message, action) || strings.Contains(err.Error(), secret) {
					t.Errorf("err %#v", err)
				}
			})
		}
	}
}

func TestSettings(t *testing.T) {
	ok := sqsapi.Settings{Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: redact.NewSecret("b")}
	tests := []struct {
		name   string
		change func(*sqsapi.Settings)
		want   string // "" when valid
	}{
		{"valid", func(*sqsapi.Settings) {}, ""},
		{"loopback endpoint", func(s *sqsapi.Settings) { s.Endpoint = "http://127.0.0.1:9324" }, ""},
		{"remote endpoint", func(s *sqsapi.Settings) { s.Endpoint = "https://sqs.example.com" }, "LBFN_SQS_ENDPOINT"},
		{"http remote endpoint", func(s *sqsapi.Settings) { s.Endpoint = "http://sqs.example.com" }, "LBFN_SQS_ENDPOINT"},
		{"no region", func(s *sqsapi.Settings) { s.Region = "" }, "AWS_REGION"},
		{"no credentials", func(s *sqsapi.Settings) { s.SecretAccessKey = redact.Secret{} }, "AWS_SECRET_ACCESS_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.change(&s)
			_, err := sqsapi.New(s, &httpx.Client{})
			if tt.want == "" {
				if err != nil {
					t.Errorf("err %v", err)
				}
				return
			}
			var e *op.Error
			if !errors.As(err, &e) || e.Kind != op.KindConfig || !strings.Contains(e.Message, tt.want) {
				t.Errorf("err %v, want a config error naming %s", err, tt.want)
			}
		})
	}
}

func TestQueueURLSetting(t *testing.T) {
	c, err := sqsapi.New(sqsapi.Settings{Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: redact.NewSecret("b")}, &httpx.Client{})
	if err != nil {
		t.Fatal(err)
	}
	for url, valid := range map[string]bool{
		"https://sqs.us-east-1.amazonaws.com/1/q": true,
		"http://127.0.0.1:9324/1/q":               true,
		"http://sqs.us-east-1.amazonaws.com/1/q":  false,
		"https://sqs.us-east-1.amazonaws.com/":    false,
	} {
		q, err := c.Queue(url)
		var e *op.Error
		switch {
		case valid && (err != nil || q.URL() != url):
			t.Errorf("Queue(%q) = %v, %v", url, q, err)
		case !valid && (!errors.As(err, &e) || e.Kind != op.KindConfig || !strings.Contains(e.Message, "LBFN_FAILURE_QUEUE_URL")):
			t.Errorf("Queue(%q): %v, want a config error naming LBFN_FAILURE_QUEUE_URL", url, err)
		}
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name              string
		env               map[string]string
		client, queue     bool
		wantErrNamingThis string
	}{
		{"nothing set: no SQS", map[string]string{}, false, false, ""},
		{"credentials: a client, no queue", map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, true, false, ""},
		{"credentials and queue", map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b",
			"LBFN_FAILURE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/q"}, true, true, ""},
		{"queue without credentials", map[string]string{"LBFN_FAILURE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/q"}, false, false, "AWS_ACCESS_KEY_ID"},
		{"bad queue URL", map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b",
			"LBFN_FAILURE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/"}, false, false, "LBFN_FAILURE_QUEUE_URL"},
		{"remote endpoint", map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b",
			"LBFN_SQS_ENDPOINT": "https://sqs.example.com"}, false, false, "LBFN_SQS_ENDPOINT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"LBFN_FAILURE_QUEUE_URL", "LBFN_SQS_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
				t.Setenv(k, tt.env[k])
			}
			t.Setenv("AWS_REGION", "us-east-1")
			c, q, err := sqsapi.FromEnv()
			if (c != nil) != tt.client || (q != nil) != tt.queue {
				t.Errorf("client %v queue %v, want %v %v", c != nil, q != nil, tt.client, tt.queue)
			}
			var e *op.Error
			if tt.wantErrNamingThis == "" && err != nil ||
				tt.wantErrNamingThis != "" && (!errors.As(err, &e) || e.Kind != op.KindConfig || !strings.Contains(e.Message, tt.wantErrNamingThis)) {
				t.Errorf("err %v, want one naming %q", err, tt.wantErrNamingThis)
			}
		})
	}
}

func BenchmarkSendMessage(b *testing.B) {
	srv := httptest.NewServer(&fakeSQS{})
	defer srv.Close()
	c := newClient(b, srv)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.SendMessage(context.Background(), "https://sqs.eu-west-1.amazonaws.com/1/q", `{"result":{}}`, map[string]string{"kind": "validation"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChangeVisibility(b *testing.B) {
	srv := httptest.NewServer(&fakeSQS{})
	defer srv.Close()
	c := newClient(b, srv)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.ChangeVisibility(context.Background(), "arn:aws:sqs:eu-west-1:1:q", "rh", 5*time.Second); err != nil {
			b.Fatal(err)
		}
	}
}
