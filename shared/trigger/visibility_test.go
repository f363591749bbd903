package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/sqsapi"
	"github.com/lbfn/lbfn/shared/trigger"
)

const sqsSecret = "trigger-test-aws-secret"

// visibilitySQS is a loopback SQS that records the ChangeMessageVisibility calls it gets,
// or refuses them all with status when that is set.
type visibilitySQS struct {
	mu     sync.Mutex
	calls  []visibilityCall
	status int
}

type visibilityCall struct {
	QueueURL          string `json:"QueueUrl"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout int    `json:"VisibilityTimeout"`
}

func (s *visibilitySQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if r.Header.Get("X-Amz-Target") != "AmazonSQS.ChangeMessageVisibility" ||
		!strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.sqs#InvalidAction","message":"unexpected"}`)
		return
	}
	var c visibilityCall
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != 0 {
		w.WriteHeader(s.status)
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.sqs#ReceiptHandleIsInvalid","message":"The input receipt handle is invalid."}`)
		return
	}
	s.calls = append(s.calls, c)
	_, _ = io.WriteString(w, `{}`)
}

func (s *visibilitySQS) Calls() []visibilityCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]visibilityCall(nil), s.calls...)
}

// newVisibilitySQS starts the fake and returns the real SQS client pointed at it.
func newVisibilitySQS(t *testing.T) (*visibilitySQS, *sqsapi.Client, string) {
	t.Helper()
	fake := &visibilitySQS{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c, err := sqsapi.New(sqsapi.Settings{Endpoint: srv.URL, Region: "us-east-1", AccessKeyID: "AKIDTEST", SecretAccessKey: redact.NewSecret(sqsSecret)},
		&httpx.Client{Policy: httpx.Policy{MaxAttempts: 2, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return fake, c, srv.URL
}

// sqsEventWithHandles is sqsEvent with a receipt handle "rh-<messageId>" on every record.
func sqsEventWithHandles(t testing.TB, recs ...record) []byte {
	var e events.SQSEvent
	for _, r := range recs {
		e.Records = append(e.Records, events.SQSMessage{MessageId: r.id, ReceiptHandle: "rh-" + r.id, Body: r.body, EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:q", AWSRegion: "us-east-1"})
	}
	return mustJSON(t, e)
}

func TestSQSInProgressComesBackWhenItsResultSays(t *testing.T) {
	fake, sqs, url := newVisibilitySQS(t)
	o, _ := newFakeOp()
	h := trigger.New(o, trigger.Options{Logger: quietLogger(), SQSConcurrency: 3, FailureQueue: &fakeQueue{}, Visibility: sqs})
	ans, err := h.Handle(context.Background(), sqsEventWithHandles(t,
		record{"ok", `{"name":"a"}`},
		record{"dry", `{"name":"b","dryRun":true}`},
		record{"invalid", `{"name":""}`},
		record{"conflict", `{"name":"c","outcome":"conflict"}`},
		record{"throttled", `{"name":"d","outcome":"throttled"}`},
		record{"in-progress", `{"name":"e","outcome":"in_progress"}`},
		record{"in-progress-soon", `{"name":"f","outcome":"in_progress","retryAfterS":1}`},
		record{"in-progress-late", `{"name":"g","outcome":"in_progress","retryAfterS":50000}`},
		record{"in-progress-no-wait", `{"name":"h","outcome":"in_progress","retryAfterS":-1}`},
	))
	if err != nil {
		t.Fatal(err)
	}
	var again []string
	for _, f := range ans.(events.SQSEventResponse).BatchItemFailures {
		again = append(again, f.ItemIdentifier)
	}
	if want := []string{"throttled", "in-progress", "in-progress-soon", "in-progress-late", "in-progress-no-wait"}; !reflect.DeepEqual(again, want) {
		t.Errorf("batchItemFailures %v, want %v", again, want)
	}
	got := map[string]int{}
	for _, c := range fake.Calls() {
		if c.QueueURL != url+"/123456789012/q" {
			t.Errorf("QueueUrl %q, want the eventSourceARN's queue on the endpoint", c.QueueURL)
		}
		if _, dup := got[c.ReceiptHandle]; dup {
			t.Errorf("%s changed twice", c.ReceiptHandle)
		}
		got[c.ReceiptHandle] = c.VisibilityTimeout
	}
	// Only the records in progress with a wait: none for successes, dry runs, permanent or
	// retryable failures, or an in_progress result that names no wait.
	want := map[string]int{"rh-in-progress": 5, "rh-in-progress-soon": 1, "rh-in-progress-late": 43200}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ChangeMessageVisibility calls %v, want %v", got, want)
	}
}

func TestSQSVisibilityFailureKeepsTheRecord(t *testing.T) {
	fake, sqs, _ := newVisibilitySQS(t)
	fake.status = http.StatusBadRequest
	var logs bytes.Buffer
	o, _ := newFakeOp()
	h := trigger.New(o, trigger.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Visibility: sqs})
	ans, err := h.Handle(context.Background(), sqsEventWithHandles(t,
		record{"ok", `{"name":"a"}`}, record{"in-progress", `{"name":"b","outcome":"in_progress"}`}))
	if err != nil {
		t.Fatal(err)
	}
	failures := ans.(events.SQSEventResponse).BatchItemFailures
	if len(failures) != 1 || failures[0].ItemIdentifier != "in-progress" {
		t.Errorf("batchItemFailures %v, want the in_progress record still redelivered", failures)
	}
	out := logs.String()
	if !strings.Contains(out, `"level":"WARN","msg":"could not bring the message back sooner`) ||
		!strings.Contains(out, `"messageId":"in-progress"`) || !strings.Contains(out, "ReceiptHandleIsInvalid") {
		t.Errorf("the failed change is not logged as a warning:\n%s", out)
	}
	if strings.Contains(out, sqsSecret) || strings.Contains(out, "rh-in-progress") {
		t.Errorf("log holds the secret key or the receipt handle:\n%s", out)
	}
}

// TestSQSVisibilityUnreachable: SQS not answering at all is no different.
func TestSQSVisibilityUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	sqs, err := sqsapi.New(sqsapi.Settings{Endpoint: url, Region: "us-east-1", AccessKeyID: "AKIDTEST", SecretAccessKey: redact.NewSecret(sqsSecret)},
		&httpx.Client{Policy: httpx.Policy{MaxAttempts: 2, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	o, _ := newFakeOp()
	h := trigger.New(o, trigger.Options{Logger: quietLogger(), Visibility: sqs})
	ans, err := h.Handle(context.Background(), sqsEventWithHandles(t, record{"in-progress", `{"name":"b","outcome":"in_progress"}`}))
	if err != nil {
		t.Fatalf("err %v: a record in progress is not a failed batch", err)
	}
	if f := ans.(events.SQSEventResponse).BatchItemFailures; len(f) != 1 || f[0].ItemIdentifier != "in-progress" {
		t.Errorf("batchItemFailures %v, want the record in progress redelivered", f)
	}
}
