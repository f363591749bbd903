package failqueue_test

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

	"github.com/lbfn/lbfn/shared/failqueue"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
)

// fakeSQS answers SendMessage in SQS's JSON protocol with the statuses queued in answers.
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
		_, _ = io.WriteString(w, `{"MD5OfMessageBody":"x","MessageId":"m-1"}`)
	case http.StatusBadRequest:
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}`)
	case http.StatusForbidden:
		_, _ = io.WriteString(w, `{"__type":"com.amazon.coral.service#AccessDeniedException","message":"denied"}`)
	default:
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.sqs#InternalError","message":"oops"}`)
	}
}

const secret = "test-aws-secret-key"

func newQueue(t *testing.T, srv *httptest.Server) *failqueue.Queue {
	t.Helper()
	q, err := failqueue.New(failqueue.Settings{
		QueueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/failures", Endpoint: srv.URL,
		Region: "eu-west-1", AccessKeyID: "AKIDTEST", SecretAccessKey: secret, SessionToken: "tok",
	}, &httpx.Client{Policy: httpx.Policy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	q.Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	return q
}

func TestSend(t *testing.T) {
	fake := &fakeSQS{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	q := newQueue(t, srv)
	err := q.Send(context.Background(), `{"result":{}}`, map[string]string{"function": "huawei-create-pool", "kind": "validation", "messageId": ""})
	if err != nil {
		t.Fatal(err)
	}
	r := fake.requests[0]
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("X-Amz-Target") != "AmazonSQS.SendMessage" ||
		r.Header.Get("Content-Type") != "application/x-amz-json-1.0" || r.Header.Get("X-Amz-Security-Token") != "tok" ||
		r.Header.Get("X-Amz-Date") != "20260102T030405Z" {
		t.Errorf("request %s %s headers %v", r.Method, r.URL, r.Header)
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260102/eu-west-1/sqs/aws4_request, SignedHeaders=") ||
		!strings.Contains(auth, "x-amz-target") || strings.Contains(auth, secret) {
		t.Errorf("Authorization %q", auth)
	}
	var in map[string]any
	if err := json.Unmarshal(fake.bodies[0], &in); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"QueueUrl":    "https://sqs.eu-west-1.amazonaws.com/123456789012/failures",
		"MessageBody": `{"result":{}}`,
		"MessageAttributes": map[string]any{
			"function": map[string]any{"DataType": "String", "StringValue": "huawei-create-pool"},
			"kind":     map[string]any{"DataType": "String", "StringValue": "validation"},
		},
	}
	if got, _ := json.Marshal(in); string(got) != string(mustJSON(want)) {
		t.Errorf("body %s, want %s", got, mustJSON(want))
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestSendErrors(t *testing.T) {
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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeSQS{answers: tt.answers}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			err := newQueue(t, srv).Send(context.Background(), "b", nil)
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
			if !errors.As(err, &e) || e.Kind != tt.kind || e.ProviderCode != tt.code || strings.Contains(err.Error(), secret) {
				t.Errorf("err %#v", err)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	ok := failqueue.Settings{QueueURL: "https://sqs.us-east-1.amazonaws.com/1/q", Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: "b"}
	tests := []struct {
		name   string
		change func(*failqueue.Settings)
		want   string // "" when valid
	}{
		{"valid", func(*failqueue.Settings) {}, ""},
		{"loopback endpoint", func(s *failqueue.Settings) { s.Endpoint = "http://127.0.0.1:9324" }, ""},
		{"http queue url", func(s *failqueue.Settings) { s.QueueURL = "http://sqs.us-east-1.amazonaws.com/1/q" }, "LBFN_FAILURE_QUEUE_URL"},
		{"no queue path", func(s *failqueue.Settings) { s.QueueURL = "https://sqs.us-east-1.amazonaws.com/" }, "LBFN_FAILURE_QUEUE_URL"},
		{"remote endpoint", func(s *failqueue.Settings) { s.Endpoint = "https://sqs.example.com" }, "LBFN_SQS_ENDPOINT"},
		{"no region", func(s *failqueue.Settings) { s.Region = "" }, "AWS_REGION"},
		{"no credentials", func(s *failqueue.Settings) { s.SecretAccessKey = "" }, "AWS_SECRET_ACCESS_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.change(&s)
			_, err := failqueue.New(s, &httpx.Client{})
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

func TestFromEnvUnset(t *testing.T) {
	t.Setenv("LBFN_FAILURE_QUEUE_URL", "")
	q, err := failqueue.FromEnv()
	if q != nil || err != nil {
		t.Errorf("FromEnv = %v, %v; want no queue", q, err)
	}
}

func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(&fakeSQS{})
	defer srv.Close()
	q, _ := failqueue.New(failqueue.Settings{QueueURL: "https://sqs.eu-west-1.amazonaws.com/1/q", Endpoint: srv.URL,
		Region: "eu-west-1", AccessKeyID: "a", SecretAccessKey: "b"}, &httpx.Client{})
	b.ReportAllocs()
	for b.Loop() {
		if err := q.Send(context.Background(), `{"result":{}}`, map[string]string{"kind": "validation"}); err != nil {
			b.Fatal(err)
		}
	}
}
