package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/trigger"
)

const webhookSecret = "e2e-webhook-secret"

// Requests modelled on the examples of the providers' API pages (events/README.md names them).
const (
	jdBackend = `{"regionId":"cn-north-1","backendName":"demo-backend","loadBalancerId":"nlb-example",` +
		`"protocol":"Tcp","port":80,"algorithm":"RoundRobin","healthCheckSpec":{"protocol":"Tcp"}}`
	huaweiPool = `{"region":"cn-north-4","projectId":"0123456789abcdef0123456789abcdef","pool":{"lb_algorithm":"ROUND_ROBIN",` +
		`"loadbalancer_id":"63ad9dfe-4750-479f-9630-ada43ccc8117","protocol":"HTTP"}}`
	huaweiPoolNoProtocol = `{"region":"cn-north-4","pool":{"lb_algorithm":"ROUND_ROBIN","loadbalancer_id":"63ad9dfe-4750-479f-9630-ada43ccc8117"}}`
	masterSlavePool      = `{"region":"cn-north-4","pool":{"name":"My pool","lb_algorithm":"LEAST_CONNECTIONS",` +
		`"listener_id":"0b11747a-b139-492f-9692-2df0b1c87193","protocol":"TCP","type":"ip","members":[` +
		`{"protocol_port":89,"name":"My member","address":"172.16.0.210","role":"master"},` +
		`{"protocol_port":89,"address":"172.16.0.211","role":"slave"}],` +
		`"healthmonitor":{"name":"My Healthmonitor","max_retries":3,"type":"TCP","timeout":30,"delay":1}}}`
	ctyunPolicy = `{"regionID":"81f7728662dd11ec810800155d307d5b","listenerID":"lb-ai7x5ulq4t","name":"yacos-test-tmp",` +
		`"description":"yacos-test-tmp","targetGroup":{"name":"test","algorithm":"rr","targets":[{"instanceID":"ss-0123456789",` +
		`"protocolPort":8080,"instanceType":"vm","weight":100,"address":"192.168.0.10"}]},` +
		`"conditions":[{"ruleType":"PATH","matchType":"STARTS_WITH","matchValue":"/foo"}]}`
)

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func result(t *testing.T, b []byte) *op.Result {
	t.Helper()
	var r op.Result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("not a result: %v: %s", err, b)
	}
	return &r
}

func sqsEvent(t *testing.T, records ...[2]string) []byte {
	var e events.SQSEvent
	for _, r := range records {
		e.Records = append(e.Records, events.SQSMessage{MessageId: r[0], ReceiptHandle: "rh-" + r[0], Body: r[1], EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:lbfn-requests", AWSRegion: "us-east-1"})
	}
	return mustJSON(t, e)
}

func TestSQSBatchMixed(t *testing.T) {
	emu, cloud := newCloud(t)
	q := newFakeSQS(t)
	// One record at a time, so the injected faults meet the failing record.
	fn := startFunction(t, "huawei-create-pool", cloud, append(q.env(), "LBFN_SQS_CONCURRENCY=1")...)
	emu.Inject(emulator.Fault{Provider: "huaweicloud", Status: 503}, emulator.Fault{Provider: "huaweicloud", Status: 503})
	event := sqsEvent(t,
		[2]string{"msg-failing", huaweiPool},           // 503 twice: retryable
		[2]string{"msg-invalid", huaweiPoolNoProtocol}, // validation: to the failure queue
		[2]string{"msg-not-json", `create a pool please`},
		[2]string{"msg-valid", huaweiPool},
	)
	resp, errType, err := fn.Invoke(event, 10*time.Second)
	if err != nil || errType != "" {
		t.Fatalf("%q %v: %s", errType, err, resp)
	}
	var answer events.SQSEventResponse
	if err := json.Unmarshal(resp, &answer); err != nil {
		t.Fatal(err)
	}
	if len(answer.BatchItemFailures) != 1 || answer.BatchItemFailures[0].ItemIdentifier != "msg-failing" {
		t.Errorf("batchItemFailures %s, want exactly msg-failing", resp)
	}
	if n := emu.RequestCount("huaweicloud"); n != 3 {
		t.Errorf("%d requests reached the emulator, want 3 (2 failed attempts, 1 creation)", n)
	}
	msgs := q.messages()
	if len(msgs) != 2 {
		t.Fatalf("failure queue got %d messages, want 2: %+v", len(msgs), msgs)
	}
	byID := map[string]trigger.FailureReport{}
	for _, m := range msgs {
		var rep trigger.FailureReport
		if err := json.Unmarshal([]byte(m.Body), &rep); err != nil {
			t.Fatalf("message body is not a failure report: %s", m.Body)
		}
		byID[rep.MessageID] = rep
		if m.Attributes["function"] != "huawei-create-pool" || m.Attributes["kind"] != "validation" || m.Attributes["trigger"] != "sqs" ||
			!strings.HasSuffix(m.QueueURL, "/123456789012/lbfn-failures") {
			t.Errorf("message attributes %v queue %s", m.Attributes, m.QueueURL)
		}
	}
	inv := byID["msg-invalid"]
	if inv.Result == nil || inv.Result.Error == nil || string(inv.Request) != huaweiPoolNoProtocol ||
		!slices.ContainsFunc(inv.Result.Error.Violations, func(v validateViolation) bool { return v.Field == "pool.protocol" }) {
		t.Errorf("report of msg-invalid: %+v", inv)
	}
	if nj := byID["msg-not-json"]; string(nj.Request) != `"create a pool please"` || nj.Result.Error.Kind != op.KindValidation {
		t.Errorf("report of msg-not-json: %+v", nj)
	}
}

func TestSQSWithoutFailureQueueKeepsPermanentFailures(t *testing.T) {
	emu, cloud := newCloud(t)
	fn := startFunction(t, "jdcloud-create-backend", cloud)
	bad := strings.Replace(jdBackend, `"port":80`, `"port":70000`, 1)
	resp, errType, err := fn.Invoke(sqsEvent(t, [2]string{"a", jdBackend}, [2]string{"b", bad}), 10*time.Second)
	if err != nil || errType != "" {
		t.Fatalf("%q %v: %s", errType, err, resp)
	}
	if string(resp) != `{"batchItemFailures":[{"itemIdentifier":"b"}]}` {
		t.Errorf("answer %s", resp)
	}
	if emu.RequestCount("jdcloud") != 1 {
		t.Errorf("%d requests, want 1", emu.RequestCount("jdcloud"))
	}
	// Every record failed: an error, the whole batch goes back (the Powertools rule).
	_, errType, err = fn.Invoke(sqsEvent(t, [2]string{"c", bad}), 10*time.Second)
	if err != nil || errType != "BatchError" {
		t.Errorf("all failed: errorType %q, %v", errType, err)
	}
}

func TestSQSFailureQueueDown(t *testing.T) {
	_, cloud := newCloud(t)
	q := newFakeSQS(t)
	q.down = true
	fn := startFunction(t, "huawei-create-lbaas-pool", cloud, q.env()...)
	resp, _, err := fn.Invoke(sqsEvent(t, [2]string{"ok", huaweiPool}, [2]string{"bad", `{"region":"cn-north-4"}`}), 10*time.Second)
	if err != nil || string(resp) != `{"batchItemFailures":[{"itemIdentifier":"bad"}]}` {
		t.Errorf("answer %s %v: a permanent failure that could not be queued must be redelivered", resp, err)
	}
}

func apiGatewayEvent(body string, headers map[string]string, b64 bool) events.APIGatewayV2HTTPRequest {
	if b64 {
		body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	return events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "POST /", RawPath: "/", Headers: headers, Body: body, IsBase64Encoded: b64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "apigw-1", Stage: "$default",
			DomainName: "abc123.execute-api.us-east-1.amazonaws.com",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/", Protocol: "HTTP/1.1"}}}
}

func signed(body string, at time.Time) map[string]string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return map[string]string{"content-type": "application/json", "x-lbfn-timestamp": ts,
		"x-lbfn-signature": trigger.Signature(webhookSecret, ts, []byte(body))}
}

func TestHTTPWebhook(t *testing.T) {
	emu, cloud := newCloud(t)
	fn := startFunction(t, "jdcloud-create-backend", cloud, "LBFN_WEBHOOK_SECRET="+webhookSecret)
	now := time.Now()
	wrong := signed(jdBackend, now)
	wrong["x-lbfn-signature"] = trigger.Signature("not-the-secret", wrong["x-lbfn-timestamp"], []byte(jdBackend))
	rejected := []struct {
		name    string
		headers map[string]string
	}{
		{"missing", map[string]string{"content-type": "application/json"}},
		{"wrong", wrong},
		{"stale", signed(jdBackend, now.Add(-10*time.Minute))},
		{"signed another body", signed(`{"regionId":"cn-north-1"}`, now)},
	}
	for _, tt := range rejected {
		resp, errType, err := fn.InvokeJSON(apiGatewayEvent(jdBackend, tt.headers, false), 10*time.Second)
		if err != nil || errType != "" {
			t.Fatalf("%s: %q %v", tt.name, errType, err)
		}
		var r events.APIGatewayV2HTTPResponse
		_ = json.Unmarshal(resp, &r)
		if r.StatusCode != 401 || result(t, []byte(r.Body)).OK {
			t.Errorf("%s: status %d body %s, want 401", tt.name, r.StatusCode, r.Body)
		}
	}
	if n := emu.RequestCount(""); n != 0 {
		t.Fatalf("%d requests reached the emulator before a valid signature", n)
	}

	resp, _, err := fn.InvokeJSON(apiGatewayEvent(jdBackend, signed(jdBackend, now), false), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r events.APIGatewayV2HTTPResponse
	_ = json.Unmarshal(resp, &r)
	res := result(t, []byte(r.Body))
	if r.StatusCode != 201 || !res.OK || res.Status != op.StatusCreated || res.ID == "" || res.Provider != "jdcloud" ||
		r.Headers["Content-Type"] != "application/json" {
		t.Errorf("valid signature: %d %s", r.StatusCode, r.Body)
	}
}

func TestHTTPBase64FunctionURLAndStatuses(t *testing.T) {
	emu, cloud := newCloud(t)
	fn := startFunction(t, "huawei-create-master-slave-pool", cloud)
	dry := strings.Replace(masterSlavePool, `{"region"`, `{"dryRun":true,"region"`, 1)
	invalid := strings.Replace(masterSlavePool, `"role":"slave"`, `"role":"backup"`, 1)
	tests := []struct {
		name   string
		event  any
		status int
	}{
		{"api gateway base64", apiGatewayEvent(masterSlavePool, map[string]string{"idempotency-key": "k-b64"}, true), 201},
		{"function url", events.LambdaFunctionURLRequest{Version: "2.0", RawPath: "/", Body: masterSlavePool,
			Headers: map[string]string{"content-type": "application/json"},
			RequestContext: events.LambdaFunctionURLRequestContext{RequestID: "furl-1", DomainName: "xyz.lambda-url.us-east-1.on.aws",
				HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST", Path: "/"}}}, 201},
		{"dry run", apiGatewayEvent(dry, nil, false), 200},
		{"invalid", apiGatewayEvent(invalid, nil, true), 400},
		{"not json", apiGatewayEvent(`pool please`, nil, false), 400},
	}
	for _, tt := range tests {
		before := emu.RequestCount("")
		resp, errType, err := fn.InvokeJSON(tt.event, 10*time.Second)
		if err != nil || errType != "" {
			t.Fatalf("%s: %q %v", tt.name, errType, err)
		}
		var r struct {
			StatusCode int               `json:"statusCode"`
			Headers    map[string]string `json:"headers"`
			Body       string            `json:"body"`
		}
		_ = json.Unmarshal(resp, &r)
		res := result(t, []byte(r.Body))
		if r.StatusCode != tt.status || res.OK != (tt.status < 300) {
			t.Errorf("%s: status %d, want %d: %s", tt.name, r.StatusCode, tt.status, r.Body)
		}
		if sent := emu.RequestCount("") - before; (tt.status == 201) != (sent > 0) {
			t.Errorf("%s: %d requests sent", tt.name, sent)
		}
		if tt.name == "api gateway base64" && res.IdempotencyKey != "k-b64" {
			t.Errorf("Idempotency-Key header not used: %s", r.Body)
		}
		if tt.name == "invalid" && !slices.ContainsFunc(res.Error.Violations, func(v validateViolation) bool { return v.Field == "pool.members[1].role" }) {
			t.Errorf("violations %+v", res.Error.Violations)
		}
	}
}

func TestSNS(t *testing.T) {
	emu, cloud := newCloud(t)
	q := newFakeSQS(t)
	fn := startFunction(t, "huawei-create-lbaas-pool", cloud, q.env()...)
	sns := func(id, msg string) events.SNSEvent {
		return events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns", EventVersion: "1.0",
			SNS: events.SNSEntity{MessageID: id, Message: msg, Type: "Notification", TopicArn: "arn:aws:sns:us-east-1:123456789012:lbfn"}}}}
	}
	if resp, errType, err := fn.InvokeJSON(sns("sns-ok", huaweiPool), 10*time.Second); err != nil || errType != "" {
		t.Errorf("success: %q %v %s", errType, err, resp)
	}
	emu.Inject(emulator.Fault{Provider: "huaweicloud", Status: 503}, emulator.Fault{Provider: "huaweicloud", Status: 503})
	if resp, errType, err := fn.InvokeJSON(sns("sns-retry", huaweiPool), 10*time.Second); err != nil || errType != "UnavailableError" {
		t.Errorf("retryable: errorType %q %v %s", errType, err, resp)
	}
	if resp, errType, err := fn.InvokeJSON(sns("sns-bad", huaweiPoolNoProtocol), 10*time.Second); err != nil || errType != "" {
		t.Errorf("permanent: errorType %q %v %s, want no error", errType, err, resp)
	}
	if msgs := q.messages(); len(msgs) != 1 || msgs[0].Attributes["messageId"] != "sns-bad" || msgs[0].Attributes["trigger"] != "sns" {
		t.Errorf("failure queue %+v", msgs)
	}
}

func TestEventBridge(t *testing.T) {
	_, cloud := newCloud(t)
	fn := startFunction(t, "huawei-create-master-slave-pool", cloud)
	eb := func(id, detail string) events.EventBridgeEvent {
		return events.EventBridgeEvent{Version: "0", ID: id, DetailType: "lbfn.create", Source: "lbfn.test", Region: "us-east-1",
			Detail: json.RawMessage(detail)}
	}
	resp, errType, err := fn.InvokeJSON(eb("eb-1", masterSlavePool), 10*time.Second)
	if err != nil || errType != "" {
		t.Fatalf("%q %v %s", errType, err, resp)
	}
	if res := result(t, resp); !res.OK || res.IdempotencyKey != "eb-1" || res.ID == "" {
		t.Errorf("result %s", resp)
	}
	_, errType, _ = fn.InvokeJSON(eb("eb-2", `{"region":"cn-north-4","pool":{}}`), 10*time.Second)
	if errType != "ValidationError" {
		t.Errorf("invalid detail: errorType %q", errType)
	}
}

func TestDirectTypedErrors(t *testing.T) {
	emu, cloud := newCloud(t)
	tests := []struct {
		name    string
		fn      string
		env     []string
		faults  int
		request string
		errType string
		kind    op.Kind
	}{
		{"created", "jdcloud-create-backend", nil, 0, jdBackend, "", ""},
		{"validation", "huawei-create-pool", nil, 0, huaweiPoolNoProtocol, "ValidationError", op.KindValidation},
		{"not an object", "ctyun-create-policy", nil, 0, `["policy"]`, "ValidationError", op.KindValidation},
		{"unavailable", "huawei-create-pool", nil, 2, huaweiPool, "UnavailableError", op.KindUnavailable},
		{"auth", "jdcloud-create-backend", []string{"JDCLOUD_SECRET_KEY=not-the-demo-secret"}, 0, jdBackend, "AuthError", op.KindAuth},
		{"config", "huawei-create-pool", []string{"HUAWEICLOUD_SDK_AK=", "HUAWEICLOUD_SDK_SK="}, 0, huaweiPool, "ConfigError", op.KindConfig},
		{"config ctyun", "ctyun-create-policy", []string{"CTYUN_AK=", "CTYUN_SK="}, 0, ctyunPolicy, "ConfigError", op.KindConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := startFunction(t, tt.fn, cloud, tt.env...)
			for range tt.faults {
				emu.Inject(emulator.Fault{Status: 503})
			}
			resp, errType, err := fn.Invoke([]byte(tt.request), 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if errType != tt.errType {
				t.Fatalf("errorType %q, want %q: %s", errType, tt.errType, resp)
			}
			res := result(t, resp)
			if tt.errType == "" {
				if !res.OK || res.Status != op.StatusCreated {
					t.Errorf("result %s", resp)
				}
				return
			}
			if res.OK || res.Error.Kind != tt.kind || res.Function != tt.fn {
				t.Errorf("errorMessage %s", resp)
			}
			if tt.kind == op.KindConfig && !strings.Contains(res.Error.Message, "_AK") && !strings.Contains(res.Error.Message, "_SK") {
				t.Errorf("config failure does not name the variable: %s", res.Error.Message)
			}
		})
	}
}

func TestCTyunInProgress(t *testing.T) {
	emu, cloud := newCloudWith(t, emulator.Options{CTyunDoneAfter: time.Hour})
	// SQS calls go to the fake, but there is no failure queue.
	sqs := newFakeSQS(t)
	// Each invocation polls for its deadline less the margin (2s), then has the margin (3s)
	// to answer and, from SQS, to call ChangeMessageVisibility: both far longer than they
	// take on a loaded machine, so the test does not race the clock.
	const margin, deadline = 3 * time.Second, 5 * time.Second
	fn := startFunction(t, "ctyun-create-policy", cloud, append(sqs.endpointEnv(), "LBFN_DEADLINE_MARGIN="+margin.String())...)

	// HTTP on a deadline shorter than the creation: 202 with what is needed to continue.
	resp, errType, err := fn.InvokeJSON(apiGatewayEvent(ctyunPolicy, map[string]string{"idempotency-key": "policy-1"}, false), deadline)
	if err != nil || errType != "" {
		t.Fatalf("%q %v", errType, err)
	}
	var r events.APIGatewayV2HTTPResponse
	_ = json.Unmarshal(resp, &r)
	res := result(t, []byte(r.Body))
	if r.StatusCode != 202 || !res.OK || res.Status != op.StatusInProgress || res.ClientToken == "" ||
		res.RetryAfterSeconds <= 0 || len(res.Request) == 0 {
		t.Fatalf("status %d body %s", r.StatusCode, r.Body)
	}
	if emu.RequestCount("ctyun") == 0 {
		t.Error("no request reached the emulator")
	}

	// Direct: in_progress is a success answer (a Step Functions loop reads status), and the
	// request it returns resumes the same creation.
	resp, errType, err = fn.Invoke(res.Request, deadline)
	if err != nil || errType != "" {
		t.Fatalf("%q %v", errType, err)
	}
	again := result(t, resp)
	if again.Status != op.StatusInProgress || again.ClientToken != res.ClientToken {
		t.Errorf("resumed: %s, want in_progress with clientToken %s", resp, res.ClientToken)
	}

	// SQS: an in_progress record is redelivered (listed), a finished one is not.
	resp, errType, err = fn.Invoke(sqsEvent(t, [2]string{"q-1", ctyunPolicy}, [2]string{"q-2", `{"regionID":"x"}`},
		[2]string{"q-3", strings.Replace(ctyunPolicy, `{"regionID"`, `{"dryRun":true,"regionID"`, 1)}), deadline)
	if err != nil || errType != "" {
		t.Fatalf("%q %v", errType, err)
	}
	var answer events.SQSEventResponse
	_ = json.Unmarshal(resp, &answer)
	ids := []string{}
	for _, f := range answer.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	// q-2 is a permanent failure without a failure queue: redelivered too, so the DLQ gets it.
	if !slices.Equal(ids, []string{"q-1", "q-2"}) {
		t.Errorf("batchItemFailures %v", ids)
	}
	// Only q-1, in progress, comes back when CTyun says to look again rather than after the
	// queue's visibility timeout: q-2 keeps the queue's timeout.
	changes := sqs.visibilityChanges()
	// The wait CTyun needs is the poll interval (LBFN_CTYUN_POLL_MAX=50ms): one second, as the
	// HTTP answer above said.
	want := []visibilityChange{{QueueURL: sqs.url + "/123456789012/lbfn-requests", ReceiptHandle: "rh-q-1",
		VisibilityTimeout: res.RetryAfterSeconds}}
	if !slices.Equal(changes, want) {
		t.Errorf("ChangeMessageVisibility calls %+v, want %+v", changes, want)
	}
	if len(sqs.messages()) != 0 {
		t.Errorf("messages sent without a failure queue: %+v", sqs.messages())
	}
}

func TestCTyunDone(t *testing.T) {
	_, cloud := newCloud(t) // done after two in_progress answers
	fn := startFunction(t, "ctyun-create-policy", cloud)
	resp, errType, err := fn.Invoke([]byte(ctyunPolicy), 10*time.Second)
	if err != nil || errType != "" {
		t.Fatalf("%q %v %s", errType, err, resp)
	}
	if res := result(t, resp); res.Status != op.StatusCreated || res.ID == "" || res.Provider != "ctyun" {
		t.Errorf("result %s", resp)
	}
}

// TestBinariesLinkOnlyWhatTheyRun: no emulator, test harness or dev server in a bootstrap.
func TestBinariesLinkOnlyWhatTheyRun(t *testing.T) {
	forbidden := []string{"github.com/lbfn/lbfn/shared/emulator", "github.com/lbfn/lbfn/shared/lambdatest",
		"github.com/lbfn/lbfn/shared/devserver", "github.com/lbfn/lbfn/shared/e2e", "testing", "net/http/httptest"}
	for _, fn := range functions {
		cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "github.com/lbfn/lbfn/functions/"+fn)
		cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", fn, err)
		}
		deps := strings.Fields(string(out))
		for _, f := range forbidden {
			if slices.Contains(deps, f) {
				t.Errorf("%s links %s", fn, f)
			}
		}
	}
}
