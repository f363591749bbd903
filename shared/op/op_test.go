package op

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/validate"
)

func TestKindTypeName(t *testing.T) {
	want := map[Kind]string{
		KindValidation: "ValidationError", KindConfig: "ConfigError", KindAuth: "AuthError",
		KindNotFound: "NotFoundError", KindConflict: "ConflictError", KindInProgress: "InProgressError",
		KindQuota:     "QuotaError",
		KindThrottled: "ThrottledError", KindProvider: "ProviderError",
		KindUnavailable: "UnavailableError", KindTimeout: "TimeoutError",
	}
	if len(Kinds) != len(want) {
		t.Fatalf("Kinds has %d kinds, want %d", len(Kinds), len(want))
	}
	for _, k := range Kinds {
		if got := k.TypeName(); got != want[k] {
			t.Errorf("%s.TypeName() = %q, want %q", k, got, want[k])
		}
	}
}

func TestKindHTTPStatus(t *testing.T) {
	want := map[Kind]int{
		KindValidation: 400, KindNotFound: 404, KindConflict: 409, KindInProgress: 409, KindQuota: 409,
		KindThrottled: 429, KindConfig: 500, KindAuth: 502, KindProvider: 502,
		KindUnavailable: 503, KindTimeout: 504,
	}
	for _, k := range Kinds {
		if got := k.HTTPStatus(); got != want[k] {
			t.Errorf("%s.HTTPStatus() = %d, want %d", k, got, want[k])
		}
	}
	if got := Kind("bogus").HTTPStatus(); got != http.StatusInternalServerError {
		t.Errorf("unknown kind HTTPStatus() = %d, want 500", got)
	}
}

func TestKindRetryable(t *testing.T) {
	for _, k := range Kinds {
		want := k == KindInProgress || k == KindThrottled || k == KindUnavailable || k == KindTimeout
		if k.Retryable() != want {
			t.Errorf("%s.Retryable() = %v, want %v", k, !want, want)
		}
		if e := Errorf(k, "x"); e.Retryable != want {
			t.Errorf("Errorf(%s).Retryable = %v", k, e.Retryable)
		}
	}
}

// The failure form of README.md ("The result"): every member present, violations an array.
func TestErrorJSON(t *testing.T) {
	wantKeys := []string{"httpStatus", "kind", "message", "providerCode", "providerMessage", "requestId", "retryable", "violations"}
	for _, e := range []*Error{
		Errorf(KindUnavailable, "down"),
		Invalid(nil),
		Invalid([]validate.Violation{{Field: "pool.lb_algorithm", Message: "required"}}),
		{Kind: KindProvider, Attempts: 3, Err: errors.New("secret cause"), HTTPStatus: 400, ProviderCode: "ELB.1", RequestID: "r"},
	} {
		for _, b := range [][]byte{mustJSON(t, e), mustJSON(t, *e)} {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range m {
				keys = append(keys, k)
			}
			sortStrings(keys)
			if !reflect.DeepEqual(keys, wantKeys) {
				t.Errorf("%s: keys %v, want %v", b, keys, wantKeys)
			}
			if v := string(m["violations"]); !strings.HasPrefix(v, "[") {
				t.Errorf("%s: violations = %s, want an array", b, v)
			}
		}
	}
	res := Failure("huawei-create-pool", "huaweicloud", Invalid([]validate.Violation{
		{Field: "pool.session_persistence.cookie_name", Message: "required when type is APP_COOKIE"}}))
	want := `{"ok":false,"function":"huawei-create-pool","provider":"huaweicloud","error":{"kind":"validation",` +
		`"message":"pool.session_persistence.cookie_name: required when type is APP_COOKIE","retryable":false,` +
		`"violations":[{"field":"pool.session_persistence.cookie_name","message":"required when type is APP_COOKIE"}],` +
		`"providerCode":"","providerMessage":"","httpStatus":0,"requestId":""}}`
	if got := string(mustJSON(t, res)); got != want {
		t.Errorf("failure result\n got %s\nwant %s", got, want)
	}
}

func TestErrorText(t *testing.T) {
	cause := errors.New("dial tcp: refused")
	tests := []struct {
		e    *Error
		want string
	}{
		{&Error{Kind: KindTimeout}, "timeout"},
		{Errorf(KindConfig, "%s is not set", "CTYUN_AK"), "config: CTYUN_AK is not set"},
		{Wrap(KindUnavailable, cause, ""), "unavailable: dial tcp: refused"},
		{Wrap(KindUnavailable, cause, "could not reach"), "unavailable: could not reach"},
		{Invalid([]validate.Violation{{Field: "a", Message: "required"}, {Field: "b", Message: "x"}, {Field: "c", Message: "y"}}), "validation: a: required (and 2 more)"},
		{Invalid(nil), "validation: invalid request"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	if w := Wrap(KindUnavailable, cause, ""); !errors.Is(w, cause) {
		t.Error("Wrap loses its cause for errors.Is")
	}
}

func TestAsError(t *testing.T) {
	own := Errorf(KindQuota, "full")
	tests := []struct {
		err       error
		kind      Kind
		retryable bool
	}{
		{own, KindQuota, false},
		{fmt.Errorf("wrapped: %w", own), KindQuota, false},
		{context.DeadlineExceeded, KindTimeout, true},
		{fmt.Errorf("post: %w", context.DeadlineExceeded), KindTimeout, true},
		{context.Canceled, KindUnavailable, true},
		{errors.New("boom"), KindUnavailable, true},
	}
	for _, tt := range tests {
		e := AsError(tt.err)
		if e.Kind != tt.kind || e.Retryable != tt.retryable {
			t.Errorf("AsError(%v) = %s retryable=%v, want %s retryable=%v", tt.err, e.Kind, e.Retryable, tt.kind, tt.retryable)
		}
	}
	if AsError(fmt.Errorf("w: %w", own)) != own {
		t.Error("AsError does not return the wrapped *Error itself")
	}
	var typedNil *Error
	if e := AsError(typedNil); e == nil || e.Kind != KindUnavailable {
		t.Errorf("AsError(typed nil *Error) = %v", e)
	}
	if AsError(nil) != nil {
		t.Error("AsError(nil) != nil")
	}
}

// testReq is a request type as a provider package writes one.
type testReq struct {
	Common
	Name  *string `json:"name,omitempty"`
	Port  *int    `json:"port,omitempty"`
	Items []int   `json:"items,omitempty"`
}

type testClient struct{ endpoint string }

type testOp struct {
	*Spec[testReq, *testClient]
	connects, calls atomic.Int32
	lastCall        Call
	callDeadline    time.Time // the deadline of the last call's context
	outcome         Result
	err             error
	connErr         error
}

func newTestOp() *testOp {
	o := &testOp{}
	o.Spec = &Spec[testReq, *testClient]{
		FunctionName: "test-create-thing",
		ProviderName: "testcloud",
		Client: func() (*testClient, error) {
			o.connects.Add(1)
			if o.connErr != nil {
				return nil, o.connErr
			}
			return &testClient{endpoint: "https://example.test"}, nil
		},
		Validate: func(r *testReq, v *validate.Report) {
			v.RequiredString("name", r.Name)
			v.Range("port", r.Port, 1, 65535)
		},
		Send: func(ctx context.Context, c *testClient, r *testReq, call Call) (Result, error) {
			o.calls.Add(1)
			o.lastCall = call
			o.callDeadline, _ = ctx.Deadline()
			if c == nil || c.endpoint == "" {
				return Result{}, errors.New("no client")
			}
			return o.outcome, o.err
		},
	}
	o.outcome = Result{Status: StatusCreated, ID: "id-1", RequestID: "req-1", Attempts: 1, Response: json.RawMessage(`{"id":"id-1"}`)}
	return o
}

func TestRunValidationFailure(t *testing.T) {
	o := newTestOp()
	tests := []struct {
		raw    string
		fields []string
	}{
		{`[]`, []string{""}},
		{`not json`, []string{""}},
		// Decoding problems first, then every rule: the typo and the field it left missing.
		{`{"port":0,"nmae":"x"}`, []string{"nmae", "name", "port"}},
		// A mistyped value is reported once, not again as "required".
		{`{"name":7}`, []string{"name"}},
		{`{"name":"x","port":"80"}`, []string{"port"}},
		{`{"port":0}`, []string{"name", "port"}},
		{`{"name":"x","replyTo":"http://example.com/hook","idempotencyKey":"` + strings.Repeat("k", 257) + `"}`,
			[]string{"idempotencyKey", "replyTo"}},
	}
	for _, tt := range tests {
		res := Run(context.Background(), o, []byte(tt.raw), Meta{})
		if res.OK || res.Error == nil || res.Error.Kind != KindValidation || res.Error.Retryable {
			t.Fatalf("Run(%s) = %+v, want a validation failure", tt.raw, res)
		}
		var fields []string
		for _, v := range res.Error.Violations {
			fields = append(fields, v.Field)
		}
		if !reflect.DeepEqual(fields, tt.fields) {
			t.Errorf("Run(%s) violations %v, want fields %v", tt.raw, res.Error.Violations, tt.fields)
		}
		if res.Function != "test-create-thing" || res.Provider != "testcloud" {
			t.Errorf("Run(%s) names %q %q", tt.raw, res.Function, res.Provider)
		}
	}
	if o.connects.Load() != 0 || o.calls.Load() != 0 {
		t.Errorf("invalid requests connected %d and called %d times", o.connects.Load(), o.calls.Load())
	}
}

func TestRunDryRun(t *testing.T) {
	o := newTestOp()
	o.connErr = Errorf(KindConfig, "TEST_AK is not set")
	res := Run(context.Background(), o, []byte(`{"name":"x","dryRun":true}`), Meta{MessageID: "m-1"})
	if !res.OK || res.Status != StatusValidated || res.Error != nil || res.IdempotencyKey != "m-1" {
		t.Errorf("dry run = %+v", res)
	}
	if o.calls.Load() != 0 || o.connects.Load() != 0 {
		t.Errorf("dry run connected %d and called %d times", o.connects.Load(), o.calls.Load())
	}
	b := mustJSON(t, res)
	if want := `{"ok":true,"function":"test-create-thing","provider":"testcloud","status":"validated","idempotencyKey":"m-1"}`; string(b) != want {
		t.Errorf("dry run JSON %s, want %s", b, want)
	}
}

func TestRunIdempotencyKey(t *testing.T) {
	hashOf := func(raw string) string {
		o := newTestOp()
		res := Run(context.Background(), o, []byte(raw), Meta{})
		if !res.OK {
			t.Fatalf("Run(%s): %v", raw, res.Error)
		}
		if o.lastCall.IdempotencyKey != res.IdempotencyKey {
			t.Fatalf("Call got key %q, result says %q", o.lastCall.IdempotencyKey, res.IdempotencyKey)
		}
		return res.IdempotencyKey
	}
	tests := []struct {
		name string
		raw  string
		meta Meta
		want string
	}{
		{"request wins", `{"name":"x","idempotencyKey":"req"}`, Meta{MessageID: "msg", IdempotencyHeader: "hdr"}, "req"},
		{"message id next", `{"name":"x"}`, Meta{MessageID: "msg", IdempotencyHeader: "hdr"}, "msg"},
		{"header next", `{"name":"x"}`, Meta{IdempotencyHeader: "hdr"}, "hdr"},
		{"empty request key falls through", `{"name":"x","idempotencyKey":""}`, Meta{IdempotencyHeader: "hdr"}, "hdr"},
	}
	for _, tt := range tests {
		o := newTestOp()
		res := Run(context.Background(), o, []byte(tt.raw), tt.meta)
		if res.IdempotencyKey != tt.want || o.lastCall.IdempotencyKey != tt.want {
			t.Errorf("%s: key %q (call %q), want %q", tt.name, res.IdempotencyKey, o.lastCall.IdempotencyKey, tt.want)
		}
	}

	base := hashOf(`{"name":"x","port":80,"items":[1,2]}`)
	if !strings.HasPrefix(base, "sha256:") {
		t.Errorf("hash key %q", base)
	}
	same := []string{
		`{"items":[1,2],"port":80,"name":"x"}`,
		`{"name":"x","port":80,"items":[1,2],"replyTo":"https://chat.example/hook"}`,
		` { "name" : "x", "port":80, "items":[1, 2], "dryRun": false } `,
	}
	for _, raw := range same {
		if got := hashOf(raw); got != base {
			t.Errorf("hash of %s = %s, want %s (common fields and key order must not count)", raw, got, base)
		}
	}
	for _, raw := range []string{`{"name":"y","port":80,"items":[1,2]}`, `{"name":"x","items":[1,2]}`, `{"name":"x","port":80,"items":[2,1]}`} {
		if got := hashOf(raw); got == base {
			t.Errorf("hash of %s equals that of a different request", raw)
		}
	}
	// The hash must not leave the request without its common fields.
	o := newTestOp()
	req, err := o.Decode(context.Background(), []byte(`{"name":"x","replyTo":"https://a.example/","idempotencyKey":""}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = hashRequest(req)
	if CommonOf(req).ReplyTo != "https://a.example/" {
		t.Error("hashRequest lost the request's replyTo")
	}
}

func TestRunConfigError(t *testing.T) {
	for _, connErr := range []error{Errorf(KindConfig, "TEST_AK is not set"), errors.New("bad endpoint")} {
		o := newTestOp()
		o.connErr = connErr
		for i := range 3 {
			res := Run(context.Background(), o, []byte(`{"name":"x"}`), Meta{})
			if res.OK || res.Error == nil || res.Error.Kind != KindConfig || res.Error.Retryable {
				t.Fatalf("call %d with Client error %v = %+v, want a config failure", i, connErr, res.Error)
			}
		}
		if n := o.connects.Load(); n != 1 {
			t.Errorf("Client ran %d times, want once", n)
		}
		if n := o.calls.Load(); n != 0 {
			t.Errorf("Call ran %d times after a config error", n)
		}
	}
}

func TestRunBuildsClientOnce(t *testing.T) {
	o := newTestOp()
	for range 3 {
		if res := Run(context.Background(), o, []byte(`{"name":"x"}`), Meta{}); !res.OK {
			t.Fatal(res.Error)
		}
	}
	if o.connects.Load() != 1 || o.calls.Load() != 3 {
		t.Errorf("connects %d calls %d, want 1 and 3", o.connects.Load(), o.calls.Load())
	}
}

func TestRunOutcome(t *testing.T) {
	tests := []struct {
		name       string
		out        Result
		err        error
		wantJSON   string
		retryAfter int
	}{
		{name: "created", out: Result{Status: StatusCreated, ID: "p-1", RequestID: "r-1", Attempts: 2, Response: json.RawMessage(`{"pool":{"id":"p-1"}}`)},
			wantJSON: `{"ok":true,"function":"test-create-thing","provider":"testcloud","status":"created","id":"p-1","requestId":"r-1","attempts":2,"idempotencyKey":"k","response":{"pool":{"id":"p-1"}}}`},
		{name: "what Run knows is Run's", out: Result{OK: false, Function: "other", Provider: "other", IdempotencyKey: "other", ID: "p-1", Error: Errorf(KindConflict, "stale")},
			wantJSON: `{"ok":true,"function":"test-create-thing","provider":"testcloud","status":"created","id":"p-1","idempotencyKey":"k"}`},
		{name: "status defaults to created", out: Result{ID: "p-1"},
			wantJSON: `{"ok":true,"function":"test-create-thing","provider":"testcloud","status":"created","id":"p-1","idempotencyKey":"k"}`},
		{name: "in progress", out: Result{Status: StatusInProgress, ClientToken: "tok", RetryAfterSeconds: Seconds(1500 * time.Millisecond), Request: json.RawMessage(`{"name":"x"}`), Attempts: 1},
			wantJSON: `{"ok":true,"function":"test-create-thing","provider":"testcloud","status":"in_progress","attempts":1,"idempotencyKey":"k","clientToken":"tok","retryAfterSeconds":2,"request":{"name":"x"}}`},
		{name: "whole seconds stay", out: Result{Status: StatusInProgress, RetryAfterSeconds: Seconds(3 * time.Second)},
			wantJSON: `{"ok":true,"function":"test-create-thing","provider":"testcloud","status":"in_progress","idempotencyKey":"k","retryAfterSeconds":3}`},
		{name: "a nanosecond is a second", out: Result{Status: StatusInProgress, RetryAfterSeconds: Seconds(1)},
			wantJSON: `{"ok":true,"function":"test-create-thing","provider":"testcloud","status":"in_progress","idempotencyKey":"k","retryAfterSeconds":1}`},
		{name: "op error", err: &Error{Kind: KindConflict, Message: "exists", ProviderCode: "ELB.1", HTTPStatus: 409, RequestID: "r", Attempts: 1},
			wantJSON: `{"ok":false,"function":"test-create-thing","provider":"testcloud","attempts":1,"idempotencyKey":"k","error":{"kind":"conflict","message":"exists","retryable":false,"violations":[],"providerCode":"ELB.1","providerMessage":"","httpStatus":409,"requestId":"r"}}`},
		{name: "plain error", err: errors.New("reset by peer"),
			wantJSON: `{"ok":false,"function":"test-create-thing","provider":"testcloud","idempotencyKey":"k","error":{"kind":"unavailable","message":"reset by peer","retryable":true,"violations":[],"providerCode":"","providerMessage":"","httpStatus":0,"requestId":""}}`},
		{name: "typed nil error", err: (*Error)(nil),
			wantJSON: `{"ok":false,"function":"test-create-thing","provider":"testcloud","idempotencyKey":"k","error":{"kind":"unavailable","message":"failed without an error","retryable":true,"violations":[],"providerCode":"","providerMessage":"","httpStatus":0,"requestId":""}}`},
		{name: "deadline", err: fmt.Errorf("post: %w", context.DeadlineExceeded),
			wantJSON: `{"ok":false,"function":"test-create-thing","provider":"testcloud","idempotencyKey":"k","error":{"kind":"timeout","message":"deadline exceeded before the provider answered","retryable":true,"violations":[],"providerCode":"","providerMessage":"","httpStatus":0,"requestId":""}}`},
	}
	for _, tt := range tests {
		o := newTestOp()
		o.outcome, o.err = tt.out, tt.err
		res := Run(context.Background(), o, []byte(`{"name":"x","idempotencyKey":"k"}`), Meta{})
		if got := string(mustJSON(t, res)); got != tt.wantJSON {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.wantJSON)
		}
		if (res.Err() == nil) != res.OK {
			t.Errorf("%s: Err() = %v with OK %v", tt.name, res.Err(), res.OK)
		}
	}
	if e := (&Result{}).Err(); e == nil || e.Kind != KindProvider {
		t.Errorf("Err() of a failed result without error = %v", e)
	}
}

func TestReplyTo(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://chat.example.com/hook", true},
		{"https://chat.example.com:8443/hook?x=1", true},
		{"http://127.0.0.1:9000/reply", true},
		{"http://127.0.0.2/reply", true},
		{"http://[::1]:9000/reply", true},
		{"http://localhost/reply", true},
		{"http://LocalHost/reply", true},
		{"http://chat.example.com/hook", false},
		{"http://10.0.0.1/hook", false},
		{"http://localhost.example.com/hook", false},
		{"ftp://chat.example.com/hook", false},
		{"https://", false},
		{"/relative/path", false},
		{"chat.example.com/hook", false},
		{"https://bad host/", false},
		// Refused before any call: user information (sent on as Basic credentials), and
		// addresses inside the function's network, whatever the scheme.
		{"https://user:pass@chat.example.com/hook", false},
		{"http://user:pass@127.0.0.1:9000/reply", false},
		{"https://169.254.169.254/latest/meta-data/", false},
		{"https://[fd00:ec2::254]/latest/meta-data/", false},
		{"https://metadata.google.internal/computeMetadata/v1/", false},
		{"https://10.0.0.1/hook", false},
		{"https://192.168.1.10/hook", false},
		{"https://[fe80::1]/hook", false},
		{"https://0.0.0.0/hook", false},
		{"https://239.1.2.3/hook", false},
		{"http://127.0.0.1:9001/2018-06-01/runtime/invocation/next", false},
		{"http://localhost:9001/2018-06-01/runtime/invocation/next", false},
	}
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
	for _, tt := range tests {
		var v validate.Report
		checkCommon(&Common{ReplyTo: tt.url}, &v)
		if v.OK() != tt.ok {
			t.Errorf("replyTo %q: violations %v, want ok=%v", tt.url, v.Violations(), tt.ok)
		}
		for _, vi := range v.Violations() {
			if vi.Field != "replyTo" {
				t.Errorf("replyTo %q: violation of %q", tt.url, vi.Field)
			}
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "localhost.": true, "127.0.0.1": true, "::1": true,
		"127.1.2.3": true, "0.0.0.0": false, "example.com": false, "": false, "[::1]": false, "10.0.0.1": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestDecodePanicsWithoutCommon(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a request type without Common must be a programming error")
		}
	}()
	s := &Spec[struct{ Name string }, int]{FunctionName: "bad"}
	_, _ = s.Decode(context.Background(), []byte(`{}`))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// BenchmarkRun measures what every invocation pays before the network: decode, rules, the
// hashed idempotency key.
func BenchmarkRun(b *testing.B) {
	o := newTestOp()
	raw := []byte(`{"name":"web-pool","port":8080,"items":[1,2,3,4,5],"replyTo":"https://chat.example.com/hook"}`)
	b.ReportAllocs()
	for b.Loop() {
		if res := Run(context.Background(), o, raw, Meta{}); !res.OK {
			b.Fatal(res.Error)
		}
	}
}

func TestSpecRequestType(t *testing.T) {
	var o Operation = newTestOp()
	if got, want := o.RequestType(), reflect.TypeFor[testReq](); got != want {
		t.Errorf("RequestType() = %v, want %v", got, want)
	}
}

// TestErrorWithCopies checks that the With methods change a copy only: the error they are
// called on (perhaps held by a result or a log line already) stays as it was made.
func TestErrorWithCopies(t *testing.T) {
	cause := &Error{Kind: KindAuth, Message: "sig s3cret", ProviderMessage: "echo s3cret"}
	hide := func(s string) string { return strings.ReplaceAll(s, "s3cret", "***") }
	tests := []struct {
		name  string
		with  func(*Error) *Error
		check func(*Error) bool
	}{
		{"attempts", func(e *Error) *Error { return e.WithAttempts(7) }, func(c *Error) bool { return c.Attempts == 7 }},
		{"message", func(e *Error) *Error { return e.WithMessage("other") }, func(c *Error) bool { return c.Message == "other" }},
		{"text", func(e *Error) *Error { return e.WithText(hide) }, func(c *Error) bool {
			inner := c.Err.(*Error)
			return c.Message == "denied ***" && c.ProviderMessage == "*** refused" &&
				inner.Message == "sig ***" && inner.ProviderMessage == "echo ***"
		}},
	}
	for _, tt := range tests {
		e := &Error{Kind: KindAuth, Message: "denied s3cret", ProviderMessage: "s3cret refused", Attempts: 2, Err: cause}
		before, causeBefore := *e, *cause
		c := tt.with(e)
		if c == e || !tt.check(c) {
			t.Errorf("%s: got %+v, want a changed copy", tt.name, c)
		}
		if !reflect.DeepEqual(*e, before) || !reflect.DeepEqual(*cause, causeBefore) {
			t.Errorf("%s: the original changed: %+v, cause %+v", tt.name, e, cause)
		}
		if c.Kind != e.Kind || c.Retryable != e.Retryable {
			t.Errorf("%s: kind or retryable changed in the copy: %+v", tt.name, c)
		}
	}
}
