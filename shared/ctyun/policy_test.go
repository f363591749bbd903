package ctyun_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/auth/eopsign"
	"github.com/lbfn/lbfn/shared/ctyun"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/step"
)

// fastPoll is the default cadence scaled down a thousandfold, so tests take milliseconds.
var fastPoll = step.Policy{First: time.Millisecond, Growth: 1.5, Cap: 5 * time.Millisecond, Jitter: 0.2,
	MaxSteps: 100}

// fastHTTP retries transport failures quickly.
var fastHTTP = &httpx.Client{Policy: httpx.Policy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond}}

// setup starts an emulator and returns it with a ctyun-create-policy operation pointed at it.
func setup(t testing.TB, opts emulator.Options, tweak ...func(*ctyun.Config)) (*emulator.Emulator, op.Operation) {
	t.Helper()
	emu := emulator.New(opts)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, operation(srv.URL, tweak...)
}

func operation(endpoint string, tweak ...func(*ctyun.Config)) op.Operation {
	cfg := ctyun.Config{AccessKey: emulator.DemoAccessKey, SecretKey: redact.NewSecret(emulator.DemoSecretKey),
		Endpoint: endpoint, HTTP: fastHTTP, Poll: fastPoll}
	for _, f := range tweak {
		f(&cfg)
	}
	return ctyun.NewCreatePolicy(func() (*ctyun.Client, error) { return ctyun.NewClient(cfg) })
}

// wire is the body of one request the emulator received.
type wire struct {
	ClientToken string `json:"clientToken"`
}

func tokenOf(t *testing.T, r emulator.Recorded) string {
	t.Helper()
	var w wire
	if err := json.Unmarshal(r.Body, &w); err != nil {
		t.Fatalf("request body %q: %v", r.Body, err)
	}
	return w.ClientToken
}

// checkSameRequest asserts that every request carried the same body bytes (hence the same
// clientToken, which it returns) under a distinct, freshly signed request id.
func checkSameRequest(t *testing.T, reqs []emulator.Recorded) string {
	t.Helper()
	ids := map[string]bool{}
	for i, r := range reqs {
		if string(r.Body) != string(reqs[0].Body) {
			t.Errorf("request %d body differs:\n%s\nfirst:\n%s", i+1, r.Body, reqs[0].Body)
		}
		id := r.Header.Get(eopsign.HeaderRequestID)
		if id == "" || ids[id] {
			t.Errorf("request %d reuses request id %q", i+1, id)
		}
		ids[id] = true
		if r.Status != http.StatusOK {
			t.Errorf("request %d answered %d", i+1, r.Status)
		}
	}
	token := tokenOf(t, reqs[0])
	if token == "" {
		t.Error("no clientToken on the wire")
	}
	return token
}

func TestInProgressThenDone(t *testing.T) {
	emu, o := setup(t, emulator.Options{CTyunPolls: 3})
	res := op.Run(context.Background(), o, []byte(validRequest), op.Meta{Trigger: "sqs", MessageID: "msg-1"})
	if !res.OK || res.Status != op.StatusCreated {
		t.Fatalf("result: %+v (error %v)", res, res.Error)
	}
	reqs := emu.Requests()
	if len(reqs) != 4 || res.Attempts != 4 {
		t.Errorf("%d requests, attempts %d; want 4 (3 in_progress, then done)", len(reqs), res.Attempts)
	}
	token := checkSameRequest(t, reqs)
	if want := ctyun.DeriveClientToken("msg-1"); token != want {
		t.Errorf("clientToken = %q, want %q derived from the message id", token, want)
	}
	if id, ok := emu.CTyunPolicy(token); !ok || res.ID != id {
		t.Errorf("id = %q, emulator created %q", res.ID, id)
	}
	if res.RequestID != reqs[3].Header.Get(eopsign.HeaderRequestID) {
		t.Errorf("requestId = %q, want the last request's id echoed by CTyun", res.RequestID)
	}
	var env ctyun.Envelope
	if err := json.Unmarshal(res.Response, &env); err != nil || env.ReturnObj == nil || env.ReturnObj.Status != "done" {
		t.Errorf("response = %s, want CTyun's done envelope", res.Response)
	}
}

func TestDoneAtOnce(t *testing.T) {
	emu, o := setup(t, emulator.Options{CTyunPolls: -1})
	res := op.Run(context.Background(), o, []byte(validRequest), op.Meta{})
	if !res.OK || res.Status != op.StatusCreated || res.Attempts != 1 || emu.RequestCount("ctyun") != 1 {
		t.Fatalf("result %+v after %d requests, want created after 1", res, emu.RequestCount("ctyun"))
	}
}

func TestClientToken(t *testing.T) {
	withToken := strings.Replace(validRequest, "{", `{"clientToken": "my-token-1",`, 1)
	tests := []struct {
		name    string
		request string
		meta    op.Meta
		want    string
	}{
		{"the request's own", withToken, op.Meta{MessageID: "m"}, "my-token-1"},
		{"from idempotencyKey", strings.Replace(validRequest, "{", `{"idempotencyKey": "k1",`, 1), op.Meta{MessageID: "m"}, ctyun.DeriveClientToken("k1")},
		{"from the message id", validRequest, op.Meta{MessageID: "m"}, ctyun.DeriveClientToken("m")},
		{"empty is absent", strings.Replace(validRequest, "{", `{"clientToken": "",`, 1), op.Meta{IdempotencyHeader: "h"}, ctyun.DeriveClientToken("h")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, o := setup(t, emulator.Options{CTyunPolls: -1})
			for range 2 { // a redelivery continues the same creation
				if res := op.Run(context.Background(), o, []byte(tt.request), tt.meta); !res.OK {
					t.Fatalf("result: %+v", res.Error)
				}
			}
			for _, r := range emu.Requests() {
				if got := tokenOf(t, r); got != tt.want {
					t.Errorf("clientToken = %q, want %q", got, tt.want)
				}
			}
		})
	}
	// Derived tokens are stable, distinct per key and fit CTyun's 64 characters.
	a, b := ctyun.DeriveClientToken("key"), ctyun.DeriveClientToken("key")
	if a != b || a == ctyun.DeriveClientToken("key2") || len(a) > 64 {
		t.Errorf("DeriveClientToken: %q %q", a, b)
	}
}

func TestFailure900SentOnce(t *testing.T) {
	emu, o := setup(t, emulator.Options{CTyunPolls: 5})
	emu.ScriptCTyun("tok-900", emulator.CTyunAnswer{ErrorCode: "ELB.Listener.NotFound",
		Message: "listener not found", Description: "监听器不存在"})
	req := strings.Replace(validRequest, "{", `{"clientToken": "tok-900",`, 1)
	res := op.Run(context.Background(), o, []byte(req), op.Meta{})
	e := res.Err()
	if res.OK || e.Kind != op.KindProvider || e.Kind.TypeName() != "ProviderError" || e.Retryable {
		t.Fatalf("result %+v, want a non-retryable ProviderError", res)
	}
	if n := emu.RequestCount("ctyun"); n != 1 || res.Attempts != 1 {
		t.Errorf("%d requests (attempts %d), want exactly 1: a 900 is never re-sent", n, res.Attempts)
	}
	if e.ProviderCode != "ELB.Listener.NotFound" || !strings.Contains(e.ProviderMessage, "listener not found") ||
		!strings.Contains(e.ProviderMessage, "监听器不存在") {
		t.Errorf("provider code %q message %q", e.ProviderCode, e.ProviderMessage)
	}
}

// The deadline comes first: the answer is in_progress, in time, with what it takes to go on;
// sending that request again continues the same creation to its end.
func TestDeadlineThenResume(t *testing.T) {
	// The first invocation polls for 300ms, far short of the emulator's 2s, then has a margin
	// (kept as every entry point keeps it, op.Invocation) far longer than answering takes on a
	// loaded machine; the second has polls enough at the millisecond cadence to outlast the 2s.
	const margin, polling = 10 * time.Second, 300 * time.Millisecond
	emu, o := setup(t, emulator.Options{CTyunDoneAfter: 2 * time.Second}, func(c *ctyun.Config) {
		c.Poll.MaxSteps = 100000
	})
	invocation, cancel := context.WithTimeout(context.Background(), margin+polling)
	defer cancel()
	deadline, _ := invocation.Deadline()
	ctx, cancelWork := op.Invocation(invocation, margin)
	defer cancelWork()
	first := op.Run(ctx, o, []byte(validRequest), op.Meta{Trigger: "sqs", MessageID: "msg-7"})
	if !time.Now().Before(deadline) {
		t.Errorf("answered %v after the deadline", time.Since(deadline))
	}
	if !first.OK || first.Status != op.StatusInProgress {
		t.Fatalf("result %+v (error %v), want in_progress", first, first.Error)
	}
	token := ctyun.DeriveClientToken("msg-7")
	if first.ClientToken != token || first.RetryAfterSeconds < 1 || first.Attempts < 2 || first.ID != "" {
		t.Errorf("in_progress result: %+v", first)
	}
	var again map[string]any
	if err := json.Unmarshal(first.Request, &again); err != nil || again["clientToken"] != token {
		t.Fatalf("request to send again = %s, want the request with clientToken %s", first.Request, token)
	}
	if _, dry := again["dryRun"]; dry {
		t.Errorf("request to send again carries dryRun: %s", first.Request)
	}
	if _, ok := emu.CTyunPolicy(token); ok {
		t.Fatal("the emulator finished before its time")
	}
	sent := len(emu.Requests())

	// A later invocation, with another message id, sends the returned request.
	second := op.Run(context.Background(), o, first.Request, op.Meta{Trigger: "sqs", MessageID: "msg-8"})
	if !second.OK || second.Status != op.StatusCreated {
		t.Fatalf("resumed result: status %s after %d attempts (error %v)", second.Status, second.Attempts, second.Error)
	}
	reqs := emu.Requests()
	if checkSameRequest(t, reqs) != token {
		t.Errorf("resumed with another clientToken")
	}
	if id, _ := emu.CTyunPolicy(token); second.ID != id || second.Attempts != len(reqs)-sent {
		t.Errorf("id %q (emulator %q), attempts %d of %d requests", second.ID, id, second.Attempts, len(reqs)-sent)
	}
}

// No time at all (an invocation that arrives with less time than its margin): nothing is
// sent, and the answer is a retryable timeout, so the event source delivers it again.
func TestNoTimeLeft(t *testing.T) {
	emu, o := setup(t, emulator.Options{})
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Millisecond))
	defer cancel()
	res := op.Run(ctx, o, []byte(validRequest), op.Meta{MessageID: "m"})
	if e := res.Err(); res.OK || e.Kind != op.KindTimeout || !e.Retryable || res.Attempts != 0 || emu.RequestCount("") != 0 {
		t.Errorf("result %+v after %d requests, want a retryable timeout without a request", res, emu.RequestCount(""))
	}
}

func TestMaxPolls(t *testing.T) {
	emu, o := setup(t, emulator.Options{CTyunPolls: 1000}, func(c *ctyun.Config) { c.Poll.MaxSteps = 3 })
	res := op.Run(context.Background(), o, []byte(validRequest), op.Meta{MessageID: "m"})
	if !res.OK || res.Status != op.StatusInProgress || emu.RequestCount("ctyun") != 3 || res.Attempts != 3 {
		t.Errorf("result %+v after %d requests, want in_progress after 3", res, emu.RequestCount("ctyun"))
	}
}

func TestAnomalies(t *testing.T) {
	const token = "tok-odd"
	req := strings.Replace(validRequest, "{", `{"clientToken": "tok-odd",`, 1)
	tests := []struct {
		name     string
		script   []emulator.CTyunAnswer
		wantOK   bool
		requests int
		message  string
	}{
		{"done without policyID once, then done", []emulator.CTyunAnswer{{Status: "done", NoPolicyID: true}}, true, 2, ""},
		{"done without policyID twice", []emulator.CTyunAnswer{{Status: "done", NoPolicyID: true}, {Status: "done", NoPolicyID: true}},
			false, 2, "no policyID"},
		{"unknown status", []emulator.CTyunAnswer{{}, {Status: "failed"}}, false, 2, `"failed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, o := setup(t, emulator.Options{CTyunPolls: -1})
			emu.ScriptCTyun(token, tt.script...)
			res := op.Run(context.Background(), o, []byte(req), op.Meta{})
			if n := emu.RequestCount("ctyun"); res.OK != tt.wantOK || n != tt.requests || res.Attempts != n {
				t.Fatalf("result %+v (error %v) after %d requests, want ok=%v after %d", res, res.Error, n, tt.wantOK, tt.requests)
			}
			if !tt.wantOK {
				if e := res.Err(); e.Kind != op.KindProvider || !strings.Contains(e.Message, tt.message) {
					t.Errorf("error %+v, want provider error mentioning %s", e, tt.message)
				}
			} else if id, _ := emu.CTyunPolicy(token); res.ID != id || id == "" {
				t.Errorf("id %q, emulator %q", res.ID, id)
			}
		})
	}
}

// Transport-level answers map to kinds; the token makes re-sending a lost request safe.
func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name      string
		faults    []emulator.Fault
		tweak     func(*ctyun.Config)
		wantKind  op.Kind
		wantHTTP  int
		wantInMsg string
	}{
		{"503 until the transport gives up", repeat(emulator.Fault{Status: 503}, 3), nil, op.KindUnavailable, 503, "Service Unavailable"},
		{"429 until the transport gives up", repeat(emulator.Fault{Status: 429}, 3), nil, op.KindThrottled, 429, ""},
		{"a 502 page is tolerated once", []emulator.Fault{{Status: 502}}, nil, "", 0, ""},
		{"a lost answer is re-sent", []emulator.Fault{{DropAfterHandling: true}}, nil, "", 0, ""},
		{"wrong secret", nil, func(c *ctyun.Config) { c.SecretKey = redact.NewSecret("wrong") }, op.KindAuth, 401, "Openapi.Signature.Invalid"},
		{"unknown access key", nil, func(c *ctyun.Config) { c.AccessKey = "OTHER" }, op.KindAuth, 401, "unknown access key"},
		{"clock 20 minutes slow", nil, func(c *ctyun.Config) { c.Now = func() time.Time { return time.Now().Add(-20 * time.Minute) } },
			op.KindAuth, 401, "15 minutes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tweaks []func(*ctyun.Config)
			if tt.tweak != nil {
				tweaks = append(tweaks, tt.tweak)
			}
			emu, o := setup(t, emulator.Options{CTyunPolls: -1}, tweaks...)
			emu.Inject(tt.faults...)
			res := op.Run(context.Background(), o, []byte(validRequest), op.Meta{MessageID: "m"})
			if tt.wantKind == "" {
				if !res.OK || res.Status != op.StatusCreated || res.Attempts != len(tt.faults)+1 {
					t.Fatalf("result %+v (error %v), want created after %d attempts", res, res.Error, len(tt.faults)+1)
				}
				checkToken(t, emu.Requests(), ctyun.DeriveClientToken("m"))
				return
			}
			e := res.Err()
			if res.OK || e.Kind != tt.wantKind || e.HTTPStatus != tt.wantHTTP || !strings.Contains(e.Message, tt.wantInMsg) {
				t.Fatalf("error %+v, want %s with HTTP %d mentioning %q", e, tt.wantKind, tt.wantHTTP, tt.wantInMsg)
			}
			if res.Attempts != emu.RequestCount("ctyun") {
				t.Errorf("attempts %d, requests %d", res.Attempts, emu.RequestCount("ctyun"))
			}
			if strings.Contains(e.Message, emulator.DemoSecretKey) || strings.Contains(e.Message, "wrong") {
				t.Errorf("error message shows a secret: %s", e.Message)
			}
		})
	}
}

func checkToken(t *testing.T, reqs []emulator.Recorded, want string) {
	t.Helper()
	for _, r := range reqs {
		if len(r.Body) > 0 && tokenOf(t, r) != want {
			t.Errorf("clientToken %q, want %q", tokenOf(t, r), want)
		}
	}
}

func repeat(f emulator.Fault, n int) []emulator.Fault {
	fs := make([]emulator.Fault, n)
	for i := range fs {
		fs[i] = f
	}
	return fs
}

// Answers the emulator does not give: gateways, odd encodings.
func TestAnswers(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantKind op.Kind // "" for created
		wantMsg  string
	}{
		{"statusCode as a string", 200, `{"statusCode":"800","message":"success","errorCode":"SUCCESS","returnObj":{"status":"done","policyID":"p-1"}}`, "", ""},
		{"900 as a string with error only", 200, `{"statusCode":"900","message":"quota exceeded","error":"ELB.Policy.QuotaExceeded"}`, op.KindProvider, "ELB.Policy.QuotaExceeded"},
		{"undocumented statusCode", 200, `{"statusCode":700,"message":"?"}`, op.KindProvider, "statusCode 700"},
		{"800 without returnObj", 200, `{"statusCode":800,"message":"success"}`, op.KindProvider, "without returnObj"},
		{"HTML on 200", 200, `<html><body><h1>Maintenance</h1></body></html>`, op.KindUnavailable, "Maintenance"},
		{"HTML 403", 403, `<html><head><title>Forbidden</title><style>h1{}</style></head><body>Access denied</body></html>`, op.KindAuth, "Access denied"},
		{"JSON 401", 401, `{"statusCode":900,"errorCode":"Openapi.Auth.Failed","message":"bad key"}`, op.KindAuth, "bad key"},
		{"404 path", 404, `404 page not found`, op.KindProvider, "HTTP 404"},
		{"400 gateway", 400, `{"statusCode":900,"errorCode":"Openapi.Parameter.Error","message":"bad","description":"参数错误"}`, op.KindProvider, "参数错误"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.Header().Set("X-Request-Id", "gw-1")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			res := op.Run(context.Background(), operation(srv.URL), []byte(validRequest), op.Meta{MessageID: "m"})
			if tt.wantKind == "" {
				if !res.OK || res.ID != "p-1" || res.RequestID != "gw-1" {
					t.Fatalf("result %+v (error %v)", res, res.Error)
				}
				return
			}
			e := res.Err()
			if e.Kind != tt.wantKind || !strings.Contains(e.Message, tt.wantMsg) || e.RequestID != "gw-1" {
				t.Fatalf("error %+v, want %s mentioning %q", e, tt.wantKind, tt.wantMsg)
			}
			if calls != 1 || res.Attempts != 1 {
				t.Errorf("%d calls (attempts %d), want 1", calls, res.Attempts)
			}
		})
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	emu, o := setup(t, emulator.Options{})
	res := op.Run(context.Background(), o, []byte(strings.Replace(validRequest, "{", `{"dryRun": true,`, 1)), op.Meta{})
	if !res.OK || res.Status != op.StatusValidated || emu.RequestCount("") != 0 {
		t.Errorf("result %+v, %d requests", res, emu.RequestCount(""))
	}
}

func TestValidationSendsNothing(t *testing.T) {
	emu, o := setup(t, emulator.Options{})
	bad := `{"regionID": "r", "name": "1x", "conditions": [{"ruleType": "PATH", "matchType": "EQUAL_TO", "matchValue": "/"}],
	  "targetGroup": {"name": "tg", "algorithm": "rr", "targets": [{"instanceID": "i", "protocolPort": 80, "instanceType": "vm", "weight": 0, "address": "x"}]}}`
	res := op.Run(context.Background(), o, []byte(bad), op.Meta{})
	e := res.Err()
	if e.Kind != op.KindValidation || emu.RequestCount("") != 0 {
		t.Fatalf("result %+v, %d requests", res, emu.RequestCount(""))
	}
	var fields []string
	for _, v := range e.Violations {
		fields = append(fields, v.Field)
	}
	want := "listenerID name conditions[0].matchValue targetGroup.targets[0].weight targetGroup.targets[0].address"
	if strings.Join(fields, " ") != want {
		t.Errorf("violations %v, want all of %s", fields, want)
	}
}

// The wire body is the documented body in the documented order, clientToken always set and
// unset optionals left out: for the signing vector's request, byte for byte the vector's body.
func TestWireBody(t *testing.T) {
	const vectorBody = `{"clientToken":"79fa97e3-c48b-4e2b-9f46-6a13d8163678","regionID":"bb9fdb42056f11eda1610242ac110002","listenerID":"listener-3ba2dlfbec","name":"policy01","conditions":[{"ruleType":"PATH","matchType":"STARTS_WITH","matchValue":"/api"}],"targetGroup":{"name":"tg01","algorithm":"rr","targets":[{"instanceID":"ss-0123456789","protocolPort":8080,"instanceType":"vm","weight":100,"address":"192.168.0.10"}]}}`
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = make([]byte, r.ContentLength)
		_, _ = r.Body.Read(got)
		if r.URL.Path != "/v4/elb/async-create-policy" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("User-Agent") == "" {
			t.Errorf("%s %s, headers %v", r.Method, r.URL, r.Header)
		}
		_, _ = w.Write([]byte(`{"statusCode":800,"returnObj":{"status":"done","policyID":"p"}}`))
	}))
	defer srv.Close()
	// The same request as the user would write it: pretty-printed, keys in another order.
	user := `{"idempotencyKey": "k", "targetGroup": {"targets": [{"address": "192.168.0.10", "weight": 100, "instanceType": "vm",
	  "protocolPort": 8080, "instanceID": "ss-0123456789"}], "algorithm": "rr", "name": "tg01"},
	  "conditions": [{"matchValue": "/api", "matchType": "STARTS_WITH", "ruleType": "PATH"}],
	  "name": "policy01", "listenerID": "listener-3ba2dlfbec", "regionID": "bb9fdb42056f11eda1610242ac110002",
	  "clientToken": "79fa97e3-c48b-4e2b-9f46-6a13d8163678"}`
	if res := op.Run(context.Background(), operation(srv.URL), []byte(user), op.Meta{}); !res.OK {
		t.Fatal(res.Error)
	}
	if string(got) != vectorBody {
		t.Errorf("wire body:\n%s\nwant:\n%s", got, vectorBody)
	}
	// A zero the user wrote is still sent; an optional left out is not sent as null.
	if res := op.Run(context.Background(), operation(srv.URL), []byte(strings.Replace(user, "{", `{"description": "",`, 1)), op.Meta{}); !res.OK {
		t.Fatal(res.Error)
	}
	if !strings.Contains(string(got), `"description":""`) || strings.Contains(string(got), "null") {
		t.Errorf("wire body %s", got)
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // in the config error; "" for success
	}{
		{"no access key", map[string]string{"CTYUN_SK": "s"}, "CTYUN_AK"},
		{"no secret key", map[string]string{"CTYUN_AK": "a"}, "CTYUN_SK"},
		{"plain http to a remote host", map[string]string{"CTYUN_AK": "a", "CTYUN_SK": "s", "CTYUN_ELB_ENDPOINT": "http://example.com"}, "CTYUN_ELB_ENDPOINT"},
		{"bad poll setting", map[string]string{"CTYUN_AK": "a", "CTYUN_SK": "s", "LBFN_CTYUN_POLL_FIRST": "soon"}, "LBFN_CTYUN_POLL_FIRST"},
		{"max below first", map[string]string{"CTYUN_AK": "a", "CTYUN_SK": "s", "LBFN_CTYUN_POLL_FIRST": "2s", "LBFN_CTYUN_POLL_MAX": "1s"}, "LBFN_CTYUN_POLL_MAX"},
		{"no polls", map[string]string{"CTYUN_AK": "a", "CTYUN_SK": "s", "LBFN_CTYUN_MAX_POLLS": "0"}, "LBFN_CTYUN_MAX_POLLS"},
		{"defaults", map[string]string{"CTYUN_AK": "a", "CTYUN_SK": "s"}, ""},
		{"loopback emulator", map[string]string{"CTYUN_AK": "a", "CTYUN_SK": "s", "CTYUN_ELB_ENDPOINT": "http://127.0.0.1:8090/"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"CTYUN_AK", "CTYUN_SK", "CTYUN_ELB_ENDPOINT", "LBFN_CTYUN_POLL_FIRST", "LBFN_CTYUN_POLL_MAX", "LBFN_CTYUN_MAX_POLLS"} {
				t.Setenv(k, tt.env[k]) // restored after the test
				if _, set := tt.env[k]; !set {
					os.Unsetenv(k)
				}
			}
			_, err := ctyun.FromEnv()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var e *op.Error
			if !errors.As(err, &e) || e.Kind != op.KindConfig || !strings.Contains(e.Message, tt.want) {
				t.Errorf("err = %v, want a config error naming %s", err, tt.want)
			}
			if strings.Contains(e.Message, `"s"`) {
				t.Errorf("config error shows the secret: %s", e.Message)
			}
		})
	}
}

func TestSecretsNotPrinted(t *testing.T) {
	cfg := ctyun.Config{AccessKey: "AK", SecretKey: redact.NewSecret("very-secret-key")}
	c, err := ctyun.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", &cfg), fmt.Sprint(c), fmt.Sprintf("%+v", c)} {
		if strings.Contains(s, "very-secret") {
			t.Errorf("secret printed: %s", s)
		}
	}
}

// A creation that takes several invocations is one creation from its first request to its
// last: the resumed request (with the clientToken lbfn added) completes the idempotency record
// of the original input under the key the creation started with, so the original input sent
// again answers the first result, and the key of every result is the first one.
func TestResumedCreationKeepsItsIdentity(t *testing.T) {
	withKey := strings.Replace(validRequest, "{", `{"idempotencyKey":"order-42",`, 1)
	tests := []struct {
		name    string
		request string
		meta    op.Meta
		wantKey string // "" : the first result's
	}{
		{"explicit key", withKey, op.Meta{Trigger: "direct"}, "order-42"},
		{"key from the request's hash", validRequest, op.Meta{Trigger: "direct"}, ""},
		{"key from the message id", validRequest, op.Meta{Trigger: "sqs", MessageID: "msg-1"}, "msg-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Four in_progress answers, three requests per invocation: the second one finishes.
			emu, o := setup(t, emulator.Options{CTyunPolls: 4}, func(c *ctyun.Config) { c.Poll.MaxSteps = 3 })
			runner := op.Runner{Store: &op.MemoryStore{}}
			ctx := context.Background()
			first, _ := runner.Run(ctx, o, []byte(tt.request), tt.meta)
			if !first.OK || first.Status != op.StatusInProgress {
				t.Fatalf("first result %+v (error %v), want in_progress", first, first.Error)
			}
			key := first.IdempotencyKey
			if tt.wantKey != "" && key != tt.wantKey {
				t.Errorf("first result's key %q, want %q", key, tt.wantKey)
			}
			var again struct {
				IdempotencyKey string `json:"idempotencyKey"`
				ClientToken    string `json:"clientToken"`
			}
			if err := json.Unmarshal(first.Request, &again); err != nil || again.IdempotencyKey != key ||
				again.ClientToken != ctyun.DeriveClientToken(key) {
				t.Fatalf("request to send again %s, want key %q and its clientToken", first.Request, key)
			}

			// Sent again as a new event: another message id, or none.
			done, _ := runner.Run(ctx, o, first.Request, op.Meta{Trigger: "direct"})
			if !done.OK || done.Status != op.StatusCreated || done.IdempotencyKey != key {
				t.Fatalf("resumed result %+v (error %v), want created under %q", done, done.Error, key)
			}
			policies := emu.RequestCount("ctyun")

			// The original input again, as it first came: the first result, nothing sent.
			for _, replay := range [][]byte{[]byte(tt.request), first.Request} {
				res, _ := runner.Run(ctx, o, replay, tt.meta)
				if !res.OK || res.Status != op.StatusCreated || res.ID != done.ID || res.IdempotencyKey != key {
					t.Errorf("replay of %s: %+v (error %v), want %s under %q", replay, res, res.Error, done.ID, key)
				}
			}
			if n := emu.RequestCount("ctyun"); n != policies {
				t.Errorf("the replays sent %d requests, want none", n-policies)
			}
		})
	}
}
