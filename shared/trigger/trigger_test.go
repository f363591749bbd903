package trigger_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/trigger"
)

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type record struct{ id, body string }

func sqsEvent(t testing.TB, recs ...record) []byte {
	var e events.SQSEvent
	for _, r := range recs {
		e.Records = append(e.Records, events.SQSMessage{MessageId: r.id, Body: r.body, EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:q", AWSRegion: "us-east-1"})
	}
	return mustJSON(t, e)
}

func snsEvent(t testing.TB, id, message string) []byte {
	return mustJSON(t, events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns", EventVersion: "1.0",
		SNS: events.SNSEntity{MessageID: id, Message: message, Type: "Notification"}}}})
}

func eventBridgeEvent(t testing.TB, id, detail string) []byte {
	return mustJSON(t, events.EventBridgeEvent{ID: id, DetailType: "lbfn request", Source: "test", Detail: json.RawMessage(detail)})
}

func apiGatewayEvent(t testing.TB, body string, headers map[string]string, b64 bool) []byte {
	if b64 {
		body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	e := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "POST /", RawPath: "/", Headers: headers, Body: body, IsBase64Encoded: b64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "r1", DomainName: "abc.execute-api.us-east-1.amazonaws.com",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/"}}}
	return mustJSON(t, e)
}

func functionURLEvent(t testing.TB, body string, headers map[string]string, b64 bool) []byte {
	if b64 {
		body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	e := events.LambdaFunctionURLRequest{Version: "2.0", RawPath: "/", Headers: headers, Body: body, IsBase64Encoded: b64,
		RequestContext: events.LambdaFunctionURLRequestContext{RequestID: "r1", DomainName: "abcdef.lambda-url.us-east-1.on.aws",
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST", Path: "/"}}}
	return mustJSON(t, e)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestDetect(t *testing.T) {
	tests := []struct {
		name  string
		event []byte
		want  trigger.Shape
	}{
		{"sqs", sqsEvent(t, record{"m1", `{}`}), trigger.ShapeSQS},
		{"sns", snsEvent(t, "m1", `{}`), trigger.ShapeSNS},
		{"eventbridge", eventBridgeEvent(t, "e1", `{}`), trigger.ShapeEventBridge},
		{"api gateway", apiGatewayEvent(t, `{}`, nil, false), trigger.ShapeHTTP},
		{"function url", functionURLEvent(t, `{}`, nil, false), trigger.ShapeFunctionURL},
		{"request", []byte(`{"name":"a"}`), trigger.ShapeDirect},
		{"empty records", []byte(`{"Records":[]}`), trigger.ShapeDirect},
		{"mixed records", []byte(`{"Records":[{"eventSource":"aws:sqs"},{"EventSource":"aws:sns"}]}`), trigger.ShapeDirect},
		{"records wrong case", []byte(`{"records":[{"eventSource":"aws:sqs"}]}`), trigger.ShapeDirect},
		{"kinesis", []byte(`{"Records":[{"eventSource":"aws:kinesis"}]}`), trigger.ShapeUnsupported},
		{"requestContext without http", []byte(`{"requestContext":{"stage":"x"}}`), trigger.ShapeDirect},
		{"detail without type", []byte(`{"detail":{}}`), trigger.ShapeDirect},
		{"not json", []byte(`nope`), trigger.ShapeDirect},
		{"array", []byte(`[1]`), trigger.ShapeDirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := trigger.Detect(tt.event); got != tt.want {
				t.Errorf("Detect = %q, want %q", got, tt.want)
			}
		})
	}
}

// invokeErr checks err is the Lambda function error of a failed result and returns both.
func invokeErr(t *testing.T, err error) (messages.InvokeResponse_Error, *op.Result) {
	t.Helper()
	var ie messages.InvokeResponse_Error
	if !errors.As(err, &ie) {
		t.Fatalf("error %T %v, want messages.InvokeResponse_Error", err, err)
	}
	var res op.Result
	if err := json.Unmarshal([]byte(ie.Message), &res); err != nil {
		t.Fatalf("errorMessage is not the result JSON: %v: %s", err, ie.Message)
	}
	return ie, &res
}

func TestDirect(t *testing.T) {
	o, client := newFakeOp()
	h := trigger.New(o, trigger.Options{Logger: quietLogger()})
	ctx := context.Background()

	ans, err := h.Handle(ctx, []byte(`{"name":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	res := ans.(*op.Result)
	if !res.OK || res.Status != op.StatusCreated || res.ID != "id-a" || res.Function != "fake-create-thing" {
		t.Errorf("result = %+v", res)
	}
	ans, err = h.Handle(ctx, []byte(`{"name":"a","outcome":"in_progress"}`))
	if err != nil || ans.(*op.Result).Status != op.StatusInProgress {
		t.Errorf("in_progress: %v %v, want a success answer", ans, err)
	}

	for _, kind := range op.Kinds {
		// The fake's "in_progress" outcome is the successful status of that name; the kind
		// comes from an idempotency store (TestDirectInProgressElsewhere).
		if kind == op.KindValidation || kind == op.KindConfig || kind == op.KindInProgress {
			continue
		}
		_, err := h.Handle(ctx, []byte(`{"name":"a","outcome":"`+kind+`"}`))
		ie, res := invokeErr(t, err)
		if ie.Type != kind.TypeName() || res.OK || res.Error.Kind != kind {
			t.Errorf("kind %s: errorType %q, result %+v", kind, ie.Type, res)
		}
	}

	before := client.calls.Load()
	for _, payload := range []string{`nope`, `[]`, `"x"`, `null`, ``, `{"name":""}`, `{"name":"a","extra":1}`, `{"Records":"x"}`} {
		_, err := h.Handle(ctx, []byte(payload))
		ie, res := invokeErr(t, err)
		if ie.Type != "ValidationError" || res.Error.Kind != op.KindValidation {
			t.Errorf("%q: errorType %q, result %+v", payload, ie.Type, res)
		}
	}
	if n := client.calls.Load() - before; n != 0 {
		t.Errorf("invalid requests made %d calls", n)
	}

	_, err = h.Handle(ctx, []byte(`{"name":"a","outcome":"panic"}`))
	if ie, _ := invokeErr(t, err); ie.Type != "ProviderError" {
		t.Errorf("panic: errorType %q", ie.Type)
	}
}

func TestInvokeBytes(t *testing.T) {
	o, _ := newFakeOp()
	h := trigger.New(o, trigger.Options{Logger: quietLogger()})
	b, err := h.Invoke(context.Background(), []byte(`{"name":"<a&b>"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"id":"id-<a&b>"`)) || bytes.HasSuffix(b, []byte("\n")) {
		t.Errorf("Invoke = %s", b)
	}
}

func TestEventBridge(t *testing.T) {
	o, client := newFakeOp()
	h := trigger.New(o, trigger.Options{Logger: quietLogger()})
	ans, err := h.Handle(context.Background(), eventBridgeEvent(t, "evt-1", `{"name":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	if res := ans.(*op.Result); res.IdempotencyKey != "evt-1" || client.Keys()[0] != "evt-1" {
		t.Errorf("idempotency key %q, want the event id", res.IdempotencyKey)
	}
	_, err = h.Handle(context.Background(), eventBridgeEvent(t, "evt-2", `{"name":"a","outcome":"not_found"}`))
	if ie, _ := invokeErr(t, err); ie.Type != "NotFoundError" {
		t.Errorf("errorType %q", ie.Type)
	}
	_, err = h.Handle(context.Background(), []byte(`{"id":"e","detail-type":"x","detail":null}`))
	if ie, _ := invokeErr(t, err); ie.Type != "ValidationError" {
		t.Errorf("null detail: errorType %q", ie.Type)
	}
}

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		body string
		want int
	}{
		{`{"name":"a"}`, 201},
		{`{"name":"a","outcome":"in_progress"}`, 202},
		{`{"name":"a","dryRun":true}`, 200},
		{`{"name":""}`, 400},
		{`not json`, 400},
		{`{"name":"a","outcome":"config"}`, 500},
		{`{"name":"a","outcome":"auth"}`, 502},
		{`{"name":"a","outcome":"not_found"}`, 404},
		{`{"name":"a","outcome":"conflict"}`, 409},
		{`{"name":"a","outcome":"quota"}`, 409},
		{`{"name":"a","outcome":"throttled"}`, 429},
		{`{"name":"a","outcome":"provider"}`, 502},
		{`{"name":"a","outcome":"unavailable"}`, 503},
		{`{"name":"a","outcome":"timeout"}`, 504},
	}
	o, _ := newFakeOp()
	h := trigger.New(o, trigger.Options{Logger: quietLogger()})
	for _, tt := range tests {
		for _, shape := range []string{"apigw", "apigw-base64", "furl", "furl-base64", "net/http"} {
			t.Run(shape+" "+tt.body, func(t *testing.T) {
				status, header, body := httpCall(t, h, o, shape, tt.body, nil)
				if status != tt.want {
					t.Errorf("status %d, want %d; body %s", status, tt.want, body)
				}
				if header["Content-Type"] != "application/json" {
					t.Errorf("Content-Type %q", header["Content-Type"])
				}
				var res op.Result
				if err := json.Unmarshal([]byte(body), &res); err != nil {
					t.Fatalf("body is not a result: %s", body)
				}
				if res.OK != (tt.want < 300) {
					t.Errorf("ok %v for status %d", res.OK, tt.want)
				}
				if tt.want == 202 && (res.ClientToken == "" || res.RetryAfterSeconds != 5 || len(res.Request) == 0 || header["Retry-After"] != "5") {
					t.Errorf("in_progress answer %+v, Retry-After %q", res, header["Retry-After"])
				}
			})
		}
	}
}

// httpCall sends body through one of the HTTP front ends and returns status, headers, body.
func httpCall(t *testing.T, h *trigger.Handler, o op.Operation, shape, body string, headers map[string]string) (int, map[string]string, string) {
	t.Helper()
	if shape == "net/http" {
		opts, ok := options[h]
		if !ok {
			opts = trigger.Options{Logger: quietLogger()}
		}
		srv := httptest.NewServer(trigger.NewHTTPHandler(o, opts))
		defer srv.Close()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/fake", strings.NewReader(body))
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		hs := map[string]string{}
		for k := range resp.Header {
			hs[k] = resp.Header.Get(k)
		}
		return resp.StatusCode, hs, string(b)
	}
	var event []byte
	switch shape {
	case "apigw", "apigw-base64":
		event = apiGatewayEvent(t, body, headers, shape == "apigw-base64")
	default:
		event = functionURLEvent(t, body, headers, shape == "furl-base64")
	}
	ans, err := h.Handle(context.Background(), event)
	if err != nil {
		t.Fatalf("HTTP event answered an error: %v", err)
	}
	switch r := ans.(type) {
	case events.APIGatewayV2HTTPResponse:
		if strings.HasPrefix(shape, "furl") {
			t.Errorf("Function URL event answered %T", ans)
		}
		return r.StatusCode, r.Headers, r.Body
	case events.LambdaFunctionURLResponse:
		if strings.HasPrefix(shape, "apigw") {
			t.Errorf("API Gateway event answered %T", ans)
		}
		return r.StatusCode, r.Headers, r.Body
	}
	t.Fatalf("answer %T", ans)
	return 0, nil, ""
}

// options maps handlers to the options they were built with, for the net/http twin; a
// handler not in it was built with a quiet logger only.
var options = map[*trigger.Handler]trigger.Options{}

// newHandler builds the handler of o with opts and remembers opts for httpCall's net/http twin.
func newHandler(o op.Operation, opts trigger.Options) *trigger.Handler {
	h := trigger.New(o, opts)
	options[h] = opts
	return h
}

func TestWebhookSignature(t *testing.T) {
	const secret = "s3cret-webhook"
	// One clock for the test and the handler: "301 s in the future" must be 301 s from what
	// the handler reads, whatever second boundary the test crosses.
	now := time.Unix(1767225600, 0) // 2026-01-01T00:00:00Z
	clock := func() time.Time { return now }
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	ts := at(0)
	body := `{"name":"a"}`
	sign := func(ts string) string { return trigger.Signature(secret, ts, []byte(body)) }
	good := sign(ts)
	signed := func(ts string) map[string]string {
		return map[string]string{"X-Lbfn-Timestamp": ts, "X-Lbfn-Signature": sign(ts)}
	}
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"valid", map[string]string{"X-Lbfn-Timestamp": ts, "X-Lbfn-Signature": good}, 201},
		{"valid lower-case names, upper-case hex", map[string]string{"x-lbfn-timestamp": ts, "x-lbfn-signature": "sha256=" + strings.ToUpper(good[7:])}, 201},
		{"300 s old", signed(at(-300 * time.Second)), 201},
		{"300 s ahead", signed(at(300 * time.Second)), 201},
		{"missing both", nil, 401},
		{"missing signature", map[string]string{"X-Lbfn-Timestamp": ts}, 401},
		{"missing timestamp", map[string]string{"X-Lbfn-Signature": good}, 401},
		{"wrong", map[string]string{"X-Lbfn-Timestamp": ts, "X-Lbfn-Signature": trigger.Signature("other", ts, []byte(body))}, 401},
		{"no prefix", map[string]string{"X-Lbfn-Timestamp": ts, "X-Lbfn-Signature": good[7:]}, 401},
		{"not hex", map[string]string{"X-Lbfn-Timestamp": ts, "X-Lbfn-Signature": "sha256=zz"}, 401},
		{"301 s old", signed(at(-301 * time.Second)), 401},
		{"301 s ahead", signed(at(301 * time.Second)), 401},
		{"timestamp not seconds", map[string]string{"X-Lbfn-Timestamp": "yesterday", "X-Lbfn-Signature": good}, 401},
		{"signed other timestamp", map[string]string{"X-Lbfn-Timestamp": at(-time.Second), "X-Lbfn-Signature": good}, 401},
		// now - 2^63 wraps around when the age is computed by subtraction.
		{"now minus 2^63 (overflow)", signed(strconv.FormatInt(now.Unix()-math.MaxInt64-1, 10)), 401},
		{"minimum int64", signed(strconv.FormatInt(math.MinInt64, 10)), 401},
		{"maximum int64", signed(strconv.FormatInt(math.MaxInt64, 10)), 401},
		{"plus sign", signed("+" + ts), 401},
		{"minus zero padded", signed("-0" + ts), 401},
		{"leading zeros beyond the bound", signed("000" + ts), 401},
		{"underscore digits", signed(ts[:4] + "_" + ts[4:]), 401},
		{"fraction", signed(ts + ".0"), 401},
		{"full-width digits", signed("１７６７２２５６００"), 401},
	}
	for _, shape := range []string{"apigw", "apigw-base64", "furl", "net/http"} {
		for _, tt := range tests {
			t.Run(shape+" "+tt.name, func(t *testing.T) {
				o, client := newFakeOp()
				h := newHandler(o, trigger.Options{Logger: quietLogger(), WebhookSecret: redact.NewSecret(secret), Now: clock})
				status, _, respBody := httpCall(t, h, o, shape, body, tt.headers)
				if status != tt.want {
					t.Fatalf("status %d, want %d: %s", status, tt.want, respBody)
				}
				if tt.want == 401 {
					if n := client.calls.Load(); n != 0 {
						t.Errorf("a rejected request made %d calls", n)
					}
					if strings.Contains(respBody, good[7:]) || strings.Contains(respBody, secret) {
						t.Errorf("401 body reveals the signature or secret: %s", respBody)
					}
				}
			})
		}
	}
}

func TestHTTPIdempotencyHeader(t *testing.T) {
	o, client := newFakeOp()
	h := trigger.New(o, trigger.Options{Logger: quietLogger()})
	_, _, body := httpCall(t, h, o, "apigw", `{"name":"a"}`, map[string]string{"idempotency-key": "k-1"})
	if !strings.Contains(body, `"idempotencyKey":"k-1"`) || client.Keys()[0] != "k-1" {
		t.Errorf("Idempotency-Key not used: %s", body)
	}
}

func TestHTTPHandlerMethodAndSize(t *testing.T) {
	o, client := newFakeOp()
	srv := httptest.NewServer(trigger.NewHTTPHandler(o, trigger.Options{Logger: quietLogger()}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	resp, err = http.Post(srv.URL, "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || client.calls.Load() != 0 {
		t.Errorf("2 MiB body: %d, %d calls", resp.StatusCode, client.calls.Load())
	}
}

func TestSQSBatch(t *testing.T) {
	records := []record{
		{"ok", `{"name":"a"}`},
		{"invalid", `{"name":""}`},
		{"not-json", `not json`},
		{"throttled", `{"name":"b","outcome":"throttled"}`},
		{"in-progress", `{"name":"c","outcome":"in_progress"}`},
		{"conflict", `{"name":"d","outcome":"conflict"}`},
		{"panic", `{"name":"e","outcome":"panic"}`},
		{"dry", `{"name":"f","dryRun":true}`},
	}
	tests := []struct {
		name      string
		queue     *fakeQueue
		wantRetry []string
		wantSent  []string // messageIds on the failure queue
	}{
		{"with failure queue", &fakeQueue{}, []string{"throttled", "in-progress"}, []string{"invalid", "not-json", "conflict", "panic"}},
		{"without failure queue", nil, []string{"invalid", "not-json", "throttled", "in-progress", "conflict", "panic"}, nil},
		{"failure queue down", &fakeQueue{fail: true}, []string{"invalid", "not-json", "throttled", "in-progress", "conflict", "panic"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, client := newFakeOp()
			opts := trigger.Options{Logger: quietLogger(), SQSConcurrency: 3}
			if tt.queue != nil {
				opts.FailureQueue = tt.queue
			}
			h := trigger.New(o, opts)
			ans, err := h.Handle(context.Background(), sqsEvent(t, records...))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range ans.(events.SQSEventResponse).BatchItemFailures {
				got = append(got, f.ItemIdentifier)
			}
			if !reflect.DeepEqual(got, tt.wantRetry) {
				t.Errorf("batchItemFailures %v, want %v", got, tt.wantRetry)
			}
			if tt.queue == nil {
				return
			}
			var sent []string
			for _, m := range tt.queue.Sent() {
				var rep trigger.FailureReport
				if err := json.Unmarshal([]byte(m.Body), &rep); err != nil {
					t.Fatalf("failure message is not a report: %s", m.Body)
				}
				sent = append(sent, rep.MessageID)
				if m.Attributes["function"] != "fake-create-thing" || m.Attributes["kind"] != string(rep.Result.Error.Kind) ||
					m.Attributes["trigger"] != "sqs" || rep.Result.OK || len(rep.Request) == 0 {
					t.Errorf("report %+v attributes %v", rep, m.Attributes)
				}
				if rep.MessageID == "not-json" && string(rep.Request) != `"not json"` {
					t.Errorf("non-JSON request kept as %s", rep.Request)
				}
				if rep.MessageID == "conflict" && string(rep.Request) != `{"name":"d","outcome":"conflict"}` {
					t.Errorf("request kept as %s", rep.Request)
				}
			}
			if !sameSet(sent, tt.wantSent) {
				t.Errorf("failure queue got %v, want %v", sent, tt.wantSent)
			}
			for _, k := range client.Keys() {
				if k == "" || strings.HasPrefix(k, "sha256:") {
					t.Errorf("idempotency key %q, want the messageId", k)
				}
			}
		})
	}
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestSQSAllFailed: a batch answers a *BatchError only when every record failed; a creation
// still in progress is listed for redelivery but is not a failure.
func TestSQSAllFailed(t *testing.T) {
	tests := []struct {
		name      string
		records   []record
		store     op.Store
		wantError bool
		wantItems []string
	}{
		{name: "every record failed", records: []record{{"a", `{"name":"a","outcome":"unavailable"}`}, {"b", `{"name":"b","outcome":"throttled"}`}},
			wantError: true},
		{name: "the only record is in progress", records: []record{{"a", `{"name":"a","outcome":"in_progress"}`}},
			wantItems: []string{"a"}},
		{name: "every record in progress", records: []record{{"a", `{"name":"a","outcome":"in_progress"}`}, {"b", `{"name":"b","outcome":"in_progress"}`}},
			wantItems: []string{"a", "b"}},
		{name: "failed and in progress", records: []record{{"a", `{"name":"a","outcome":"unavailable"}`}, {"b", `{"name":"b","outcome":"in_progress"}`}},
			wantItems: []string{"a", "b"}},
		{name: "in progress elsewhere", records: []record{{"a", `{"name":"a"}`}}, store: heldStore{},
			wantItems: []string{"a"}},
		{name: "all ok", records: []record{{"a", `{"name":"a"}`}}, wantItems: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _ := newFakeOp()
			h := trigger.New(o, trigger.Options{Logger: quietLogger(), Store: tt.store})
			ans, err := h.Handle(context.Background(), sqsEvent(t, tt.records...))
			var be *trigger.BatchError
			if tt.wantError {
				if !errors.As(err, &be) || be.Records != len(tt.records) {
					t.Errorf("err %v, want *BatchError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err %v, want a partial batch answer", err)
			}
			var ids []string
			for _, f := range ans.(events.SQSEventResponse).BatchItemFailures {
				ids = append(ids, f.ItemIdentifier)
			}
			if !sameSet(ids, tt.wantItems) {
				t.Errorf("batchItemFailures %v, want %v", ids, tt.wantItems)
			}
			if len(tt.wantItems) == 0 {
				if b := mustJSON(t, ans); string(b) != `{"batchItemFailures":[]}` {
					t.Errorf("answer %s", b)
				}
			}
		})
	}
}

func TestSQSConcurrencyBound(t *testing.T) {
	o, client := newFakeOp()
	h := trigger.New(o, trigger.Options{Logger: quietLogger(), SQSConcurrency: 2})
	var recs []record
	for i := range 8 {
		recs = append(recs, record{strconv.Itoa(i), `{"name":"a","sleepMs":5}`})
	}
	if _, err := h.Handle(context.Background(), sqsEvent(t, recs...)); err != nil {
		t.Fatal(err)
	}
	if n := client.maxRun.Load(); n > 2 || n < 1 {
		t.Errorf("%d records ran at once, bound 2", n)
	}
	if client.calls.Load() != 8 {
		t.Errorf("%d calls, want 8", client.calls.Load())
	}
}

func TestSNS(t *testing.T) {
	q := &fakeQueue{}
	o, client := newFakeOp()
	h := trigger.New(o, trigger.Options{Logger: quietLogger(), FailureQueue: q})
	ctx := context.Background()
	if _, err := h.Handle(ctx, snsEvent(t, "sns-1", `{"name":"a"}`)); err != nil {
		t.Errorf("success: %v", err)
	}
	if client.Keys()[0] != "sns-1" {
		t.Errorf("idempotency key %q, want the SNS MessageId", client.Keys()[0])
	}
	_, err := h.Handle(ctx, snsEvent(t, "sns-2", `{"name":"a","outcome":"throttled"}`))
	if ie, _ := invokeErr(t, err); ie.Type != "ThrottledError" {
		t.Errorf("retryable: errorType %q", ie.Type)
	}
	var ip *trigger.InProgressError
	if _, err := h.Handle(ctx, snsEvent(t, "sns-3", `{"name":"a","outcome":"in_progress"}`)); !errors.As(err, &ip) {
		t.Errorf("in_progress: %v, want *InProgressError", err)
	}
	if _, err := h.Handle(ctx, snsEvent(t, "sns-4", `{"name":""}`)); err != nil {
		t.Errorf("permanent: %v, want no error", err)
	}
	if sent := q.Sent(); len(sent) != 1 || sent[0].Attributes["messageId"] != "sns-4" || sent[0].Attributes["kind"] != "validation" {
		t.Errorf("failure queue: %+v", sent)
	}
	q.fail = true
	if _, err := h.Handle(ctx, snsEvent(t, "sns-5", `{"name":""}`)); err == nil {
		t.Error("permanent failure not kept: want an error so Lambda retries it")
	}
	noQueue := trigger.New(o, trigger.Options{Logger: quietLogger()})
	if _, err := noQueue.Handle(ctx, snsEvent(t, "sns-6", `{"name":""}`)); err != nil {
		t.Errorf("permanent without a queue: %v, want it logged and no error", err)
	}
}

func TestUnconfigured(t *testing.T) {
	o, client := newFakeOp()
	h := trigger.New(trigger.Unconfigured(o, op.Errorf(op.KindConfig, "LBFN_SQS_CONCURRENCY must be between 1 and 100, got 0")), trigger.Options{Logger: quietLogger()})
	_, err := h.Handle(context.Background(), []byte(`{"name":"a"}`))
	ie, res := invokeErr(t, err)
	if ie.Type != "ConfigError" || res.Function != "fake-create-thing" || !strings.Contains(res.Error.Message, "LBFN_SQS_CONCURRENCY") {
		t.Errorf("errorType %q result %+v", ie.Type, res)
	}
	status, _, _ := httpCall(t, h, nil, "apigw", `{"name":"a"}`, nil)
	if status != 500 {
		t.Errorf("HTTP status %d, want 500", status)
	}
	ans, err := h.Handle(context.Background(), sqsEvent(t, record{"a", `{"name":"a"}`}, record{"b", `{"name":"b"}`}))
	var be *trigger.BatchError
	if !errors.As(err, &be) {
		t.Errorf("SQS: %v %v, want every record kept", ans, err)
	}
	if client.calls.Load() != 0 {
		t.Error("unconfigured operation made calls")
	}
	_, err = trigger.New(trigger.Unconfigured(o, errors.New("plain")), trigger.Options{Logger: quietLogger()}).Handle(context.Background(), []byte(`{}`))
	if ie, _ := invokeErr(t, err); ie.Type != "ConfigError" {
		t.Errorf("plain error: errorType %q", ie.Type)
	}
}

func TestLoadOptions(t *testing.T) {
	t.Setenv("LBFN_WEBHOOK_SECRET", "w")
	t.Setenv("LBFN_SQS_CONCURRENCY", "7")
	opts, err := trigger.LoadOptions()
	if err != nil || opts.WebhookSecret.Reveal() != "w" || opts.SQSConcurrency != 7 || opts.RequestTimeout != 55*time.Second ||
		opts.DeadlineMargin != op.DefaultMargin {
		t.Errorf("LoadOptions = %+v, %v", opts, err)
	}
	for value, want := range map[string]time.Duration{"2s": 2 * time.Second, "0s": -1} {
		t.Setenv("LBFN_DEADLINE_MARGIN", value)
		if opts, err := trigger.LoadOptions(); err != nil || opts.DeadlineMargin != want {
			t.Errorf("LBFN_DEADLINE_MARGIN=%s: margin %v, %v; want %v", value, opts.DeadlineMargin, err, want)
		}
	}
	for _, bad := range []string{"-1s", "soon"} {
		t.Setenv("LBFN_DEADLINE_MARGIN", bad)
		if _, err := trigger.LoadOptions(); err == nil || !strings.Contains(err.Error(), "LBFN_DEADLINE_MARGIN") {
			t.Errorf("LBFN_DEADLINE_MARGIN=%s: %v, want an error naming it", bad, err)
		}
	}
	os.Unsetenv("LBFN_DEADLINE_MARGIN") // t.Setenv restores it at the end
	for _, bad := range []string{"0", "101", "many"} {
		t.Setenv("LBFN_SQS_CONCURRENCY", bad)
		_, err := trigger.LoadOptions()
		var e *op.Error
		if !errors.As(err, &e) || e.Kind != op.KindConfig || !strings.Contains(e.Message, "LBFN_SQS_CONCURRENCY") {
			t.Errorf("LBFN_SQS_CONCURRENCY=%s: %v", bad, err)
		}
	}
}

// TestDeadlines: the HTTP handler's request ends RequestTimeout less DeadlineMargin from its
// start; Handle takes its context's deadline as it is (its entry point kept the margin), and
// a call followed by the trigger's own queue calls (a failure queue) ends DefaultReserve
// earlier, to leave them time.
func TestDeadlines(t *testing.T) {
	t.Run("http", func(t *testing.T) {
		o, client := newFakeOp()
		const timeout, margin = time.Hour, 3 * time.Second
		srv := httptest.NewServer(trigger.NewHTTPHandler(o, trigger.Options{Logger: quietLogger(), RequestTimeout: timeout, DeadlineMargin: margin}))
		defer srv.Close()
		before := time.Now()
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"name":"h"}`))
		after := time.Now()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := client.Deadline("h"); got.Before(before.Add(timeout-margin)) || got.After(after.Add(timeout-margin)) {
			t.Errorf("call deadline %v after the request began, want the timeout less the margin, %v", got.Sub(before), timeout-margin)
		}
	})
	deadline := time.Now().Add(time.Hour)
	tests := []struct {
		name  string
		opts  trigger.Options
		event []byte
		want  time.Time
	}{
		{"direct", trigger.Options{}, []byte(`{"name":"d"}`), deadline},
		{"sqs without a failure queue", trigger.Options{}, sqsEvent(t, record{"m", `{"name":"d"}`}), deadline},
		{"sqs with a failure queue", trigger.Options{FailureQueue: &fakeQueue{}}, sqsEvent(t, record{"m", `{"name":"d"}`}), deadline.Add(-op.DefaultReserve)},
		{"sns with a failure queue", trigger.Options{FailureQueue: &fakeQueue{}}, snsEvent(t, "m", `{"name":"d"}`), deadline.Add(-op.DefaultReserve)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, client := newFakeOp()
			tt.opts.Logger = quietLogger()
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			if _, err := trigger.New(o, tt.opts).Handle(ctx, tt.event); err != nil {
				t.Fatal(err)
			}
			if got := client.Deadline("d"); !got.Equal(tt.want) {
				t.Errorf("call deadline %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLogsOneLinePerOutcome(t *testing.T) {
	var buf bytes.Buffer
	o, _ := newFakeOp()
	h := trigger.New(o, trigger.Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil)), WebhookSecret: redact.NewSecret("topsecret")})
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := trigger.Signature("topsecret", ts, []byte(`{"name":"a"}`))
	httpCall(t, h, o, "apigw", `{"name":"a"}`, map[string]string{"X-Lbfn-Timestamp": ts, "X-Lbfn-Signature": sig})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log lines: %s", len(lines), buf.String())
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"function", "provider", "trigger", "idempotencyKey", "attempts", "durationMs", "status"} {
		if _, ok := line[k]; !ok {
			t.Errorf("log line lacks %q: %s", k, lines[0])
		}
	}
	if strings.Contains(buf.String(), sig[7:]) || strings.Contains(buf.String(), "topsecret") {
		t.Errorf("log reveals the signature or secret: %s", buf.String())
	}
}

func BenchmarkHandleSQS(b *testing.B) {
	o, _ := newFakeOp()
	h := trigger.New(o, trigger.Options{Logger: quietLogger()})
	var recs []record
	for i := range 10 {
		recs = append(recs, record{strconv.Itoa(i), `{"name":"a"}`})
	}
	event := sqsEvent(b, recs...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(context.Background(), event); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDetect(b *testing.B) {
	event := apiGatewayEvent(b, `{"name":"a"}`, map[string]string{"content-type": "application/json"}, false)
	b.ReportAllocs()
	for b.Loop() {
		trigger.Detect(event)
	}
}

// SQS's receive count tells the operation whether an earlier delivery, in whatever process,
// may have sent the creation already: a count above 1 says it may have; a count of 1, or none
// readable (SQS always sends one), is taken as the first delivery.
func TestSQSReceiveCountMeansRepeat(t *testing.T) {
	tests := []struct {
		count string
		want  bool
	}{
		{"1", false}, {"2", true}, {"17", true}, {"", false}, {"x", false}, {"-3", false},
	}
	for _, tt := range tests {
		t.Run("count "+tt.count, func(t *testing.T) {
			o, client := newFakeOp()
			h := trigger.New(o, trigger.Options{Logger: quietLogger()})
			msg := events.SQSMessage{MessageId: "m-1", Body: `{"name":"a"}`, EventSource: "aws:sqs",
				EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:q", Attributes: map[string]string{}}
			if tt.count != "" {
				msg.Attributes["ApproximateReceiveCount"] = tt.count
			}
			event, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{msg}})
			if _, err := h.Handle(context.Background(), event); err != nil {
				t.Fatal(err)
			}
			if repeat, called := client.Repeat("m-1"); !called || repeat != tt.want {
				t.Errorf("called %v with Repeat %v, want %v", called, repeat, tt.want)
			}
		})
	}
}
