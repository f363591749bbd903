package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lbfn/lbfn/shared/chatops/chattest"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/lambdatest"
)

// The chat platforms' secrets of these tests.
const (
	slackSecret       = "e2e-slack-signing-secret"
	feishuToken       = "e2e-feishu-verification-token"
	feishuEncryptKey  = "e2e-feishu-encrypt-key"
	dingtalkSecret    = "e2e-dingtalk-app-secret"
	dingtalkCorp      = "ding-e2e-corp"
	wecomToken        = "e2eWeComToken"
	wecomAESKey       = "bGJmbi13ZWNvbS1hZXMta2V5LTMyLWJ5dGVzLTAwMDE" // chatops.md §4.2(4)
	chatopsBinaryName = "chatops"
)

var chatSecrets = []string{slackSecret, feishuToken, feishuEncryptKey, chattest.FeishuAppSecret, chattest.FeishuTenantToken,
	dingtalkSecret, wecomToken, wecomAESKey}

// chatLoop is chatops and the create functions wired as on AWS: chatops behind a fake API
// Gateway, its SQS queues a fake SQS, the platforms' reply side chattest's, and each create
// function run on the messages it was queued, against the emulator.
type chatLoop struct {
	t         *testing.T // the test or subtest running now
	root      *testing.T // the test the loop's processes live as long as
	platforms *chattest.Platforms
	sqs       *fakeSQS
	gateway   *httptest.Server
	chatops   *lambdatest.Function
	cloud     string
	emu       *emulator.Emulator
	mu        sync.Mutex
	creators  map[string]*lambdatest.Function
	taken     int // SQS messages already handed to a create function
}

func newChatLoop(t *testing.T, allowList string, extra ...string) *chatLoop {
	t.Helper()
	emu, cloud := newCloud(t)
	l := &chatLoop{t: t, root: t, platforms: chattest.NewPlatforms(), sqs: newFakeSQS(t), cloud: cloud, emu: emu, creators: map[string]*lambdatest.Function{}}
	t.Cleanup(l.platforms.Close)
	l.gateway = httptest.NewServer(http.HandlerFunc(l.serveGateway))
	t.Cleanup(l.gateway.Close)
	env := append(l.sqs.endpointEnv(),
		"LBFN_SLACK_SIGNING_SECRET="+slackSecret,
		"LBFN_FEISHU_VERIFICATION_TOKEN="+feishuToken,
		"LBFN_FEISHU_ENCRYPT_KEY="+feishuEncryptKey,
		"LBFN_FEISHU_APP_ID="+chattest.FeishuAppID,
		"LBFN_FEISHU_APP_SECRET="+chattest.FeishuAppSecret,
		"LBFN_FEISHU_API_BASE="+l.platforms.URL,
		"LBFN_DINGTALK_APP_SECRET="+dingtalkSecret,
		"LBFN_DINGTALK_CORP_IDS="+dingtalkCorp,
		"LBFN_WECOM_TOKEN="+wecomToken,
		"LBFN_WECOM_ENCODING_AES_KEY="+wecomAESKey,
		"LBFN_CHATOPS_ALLOW="+allowList,
		"LBFN_CHATOPS_URL="+l.gateway.URL,
	)
	for _, fn := range functions {
		env = append(env, fmt.Sprintf("LBFN_QUEUE_URL_%s=%s/123456789012/%s", strings.ToUpper(strings.ReplaceAll(fn, "-", "_")), l.sqs.url, fn))
	}
	f, err := lambdatest.Start(binaries[chatopsBinaryName], append(env, extra...))
	if err != nil {
		t.Fatal(err)
	}
	l.chatops = f
	t.Cleanup(func() {
		f.Close()
		l.checkLogs("chatops", f.Logs())
		if t.Failed() {
			t.Logf("chatops logs:\n%s", f.Logs())
		}
	})
	return l
}

// checkLogs fails the test when a log shows a secret or a platform's reply address.
func (l *chatLoop) checkLogs(who, logs string) {
	for _, s := range append(chatSecrets, l.platforms.URL+"/slack/", l.platforms.URL+"/dingtalk/", l.platforms.URL+"/wecom/", "REPLYCAPABILITY") {
		if strings.Contains(logs, s) {
			l.t.Errorf("%s logged a secret or reply address (%q)", who, s)
		}
	}
}

// serveGateway is API Gateway's HTTP API: one request becomes one payload 2.0 event for
// chatops, and its answer the HTTP answer.
func (l *chatLoop) serveGateway(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	e := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: r.URL.Path, RawQueryString: r.URL.RawQuery,
		Headers: headers, Body: base64.StdEncoding.EncodeToString(body), IsBase64Encoded: true,
		RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: r.Host, Stage: "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.URL.Path}}}
	out, errType, err := l.chatops.InvokeJSON(e, 10*time.Second)
	if err != nil || errType != "" {
		l.t.Errorf("chatops invoke: %v %s %s", err, errType, out)
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		l.t.Errorf("chatops answered %s", out)
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.WriteString(w, resp.Body)
}

// send delivers a platform's request to chatops through the gateway.
func (l *chatLoop) send(r chattest.Request) (int, []byte) {
	l.t.Helper()
	u := l.gateway.URL + r.Path
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	req, err := http.NewRequest(r.Method, u, bytes.NewReader(r.Body))
	if err != nil {
		l.t.Fatal(err)
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, s := range chatSecrets {
		if strings.Contains(string(b), s) {
			l.t.Errorf("an answer shows a secret")
		}
	}
	if strings.Contains(string(b), l.platforms.URL) || strings.Contains(string(b), "/chatops/result/") {
		l.t.Errorf("an answer shows a reply address: %s", b)
	}
	return resp.StatusCode, b
}

// queued returns the SQS messages not yet handed to a create function.
func (l *chatLoop) queued() []sqsMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sqs.messages()[l.taken:]
}

// runQueued hands every new SQS message to its create function (started on first use,
// against the emulator), as the queue's event source mapping would.
func (l *chatLoop) runQueued() {
	l.t.Helper()
	msgs := l.queued()
	l.mu.Lock()
	l.taken += len(msgs)
	l.mu.Unlock()
	for i, m := range msgs {
		fn := m.QueueURL[strings.LastIndex(m.QueueURL, "/")+1:]
		l.deliver(fn, fmt.Sprintf("sqs-%d-%d", l.taken, i), m.Body)
	}
}

// deliver runs one SQS record of body on fn's binary, which posts its result to the
// request's replyTo when done.
func (l *chatLoop) deliver(fn, messageID, body string) {
	l.t.Helper()
	f, ok := l.creators[fn]
	if !ok {
		f = startFunction(l.root, fn, l.cloud)
		l.creators[fn] = f
		l.root.Cleanup(func() { l.checkLogs(fn, f.Logs()) })
	}
	resp, errType, err := f.Invoke(sqsEvent(l.t, [2]string{messageID, body}), 20*time.Second)
	if err != nil || errType != "" {
		l.t.Fatalf("%s: %v %s %s", fn, err, errType, resp)
	}
	var answer events.SQSEventResponse
	if err := json.Unmarshal(resp, &answer); err != nil || len(answer.BatchItemFailures) != 0 {
		l.t.Errorf("%s answered %s", fn, resp)
	}
}

// commandOf is "create <fn> <its sample request as one line of JSON>".
func commandOf(t *testing.T, fn string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, fn, "direct.json"))
	if err != nil {
		t.Fatal(err)
	}
	var line bytes.Buffer
	if err := json.Compact(&line, b); err != nil {
		t.Fatal(err)
	}
	return "create " + fn + " " + line.String()
}

// checkQueuedOnce checks that exactly one message was queued for fn, as its ordinary request
// with the job id as its idempotency key and a replyTo on chatops's result route.
func (l *chatLoop) checkQueuedOnce(fn, job string) {
	l.t.Helper()
	msgs := l.queued()
	if len(msgs) != 1 {
		l.t.Fatalf("%d messages queued, want 1: %+v", len(msgs), msgs)
	}
	m := msgs[0]
	var req map[string]any
	if err := json.Unmarshal([]byte(m.Body), &req); err != nil {
		l.t.Fatalf("queued body %s", m.Body)
	}
	replyTo, _ := req["replyTo"].(string)
	if !strings.HasSuffix(m.QueueURL, "/123456789012/"+fn) || req["idempotencyKey"] != job ||
		!strings.HasPrefix(replyTo, l.gateway.URL+"/chatops/result/") || strings.Contains(m.Body, l.platforms.URL) {
		l.t.Errorf("queued to %s: %s", m.QueueURL, m.Body)
	}
}

// resultPosted returns the one message posted to target after the create function ran.
func (l *chatLoop) resultPosted(platform, target string, before int) string {
	l.t.Helper()
	got := l.platforms.PostedTo(platform, target)
	if len(got) != before+1 {
		l.t.Fatalf("%s %s got %d messages, want %d: %q", platform, target, len(got), before+1, got)
	}
	return got[before]
}

func TestChatopsSlackEveryFunction(t *testing.T) {
	l := newChatLoop(t, "slack:U0001ALICE=*")
	for i, fn := range functions {
		t.Run(fn, func(t *testing.T) {
			l.t = t
			trigger := fmt.Sprintf("1234567890.%d.0123456789abcdef", i)
			job := "slack:" + trigger
			rid := fmt.Sprintf("resp-%d-REPLYCAPABILITY", i)
			status, body := l.send(chattest.SlackCommand(slackSecret, time.Now(), "U0001ALICE", trigger,
				l.platforms.SlackResponseURL(rid), commandOf(t, fn)))
			ack := chattest.SlackAnswerText(body)
			if status != http.StatusOK || !strings.Contains(ack, fn) || !strings.Contains(ack, job) {
				t.Fatalf("answer %d %s", status, body)
			}
			l.checkQueuedOnce(fn, job)
			l.runQueued()
			posted := l.resultPosted("slack", rid, 0)
			if !strings.Contains(posted, fn) || !strings.Contains(posted, job) || !strings.Contains(posted, "created ") {
				t.Errorf("posted %q, want the function, the job and the created id", posted)
			}
		})
	}
}

func TestChatopsSlackRefusesUnverified(t *testing.T) {
	l := newChatLoop(t, "slack:*=*")
	good := func() chattest.Request {
		return chattest.SlackCommand(slackSecret, time.Now(), "U1", "1.2.3", l.platforms.SlackResponseURL("r"), commandOf(t, "huawei-create-pool"))
	}
	tampered := good()
	tampered.Body = bytes.Replace(tampered.Body, []byte("U1"), []byte("U2"), 1)
	unsigned := good()
	unsigned.Header.Del("X-Slack-Signature")
	tests := map[string]chattest.Request{
		"forged":   chattest.SlackCommand("not-the-secret", time.Now(), "U1", "1.2.3", l.platforms.SlackResponseURL("r"), "help"),
		"stale":    chattest.SlackCommand(slackSecret, time.Now().Add(-301*time.Second), "U1", "1.2.3", l.platforms.SlackResponseURL("r"), "help"),
		"tampered": tampered,
		"unsigned": unsigned,
	}
	for name, r := range tests {
		t.Run(name, func(t *testing.T) {
			l.t = t
			if status, body := l.send(r); status != http.StatusUnauthorized || len(body) != 0 {
				t.Errorf("answer %d %q, want a bare 401", status, body)
			}
		})
	}
	l.t = t
	if n := len(l.sqs.messages()); n != 0 || len(l.platforms.Posted()) != 0 {
		t.Errorf("%d queued, %d posted for unverified requests", n, len(l.platforms.Posted()))
	}
}

func TestChatopsSlackAllowFullWidthAndDuplicates(t *testing.T) {
	l := newChatLoop(t, "slack:U0001ALICE=huawei-create-pool")
	// A user outside the allow-list is refused in the channel, and nothing is queued.
	status, body := l.send(chattest.SlackCommand(slackSecret, time.Now(), "U0002BOB", "9.9.9", l.platforms.SlackResponseURL("bob"), commandOf(t, "huawei-create-pool")))
	if status != http.StatusOK || !strings.Contains(chattest.SlackAnswerText(body), "U0002BOB may not create huawei-create-pool") {
		t.Errorf("refusal %d %s", status, body)
	}
	if n := len(l.queued()); n != 0 {
		t.Fatalf("queued %d for a refused user", n)
	}

	// Full-width signs and spaces, curly quotes and an em dash, as chat clients send them.
	text := "create huawei-create-pool —dry-run region＝cn-north-4\u3000pool.protocol＝HTTP pool.lb_algorithm＝“ROUND_ROBIN” " +
		"pool.loadbalancer_id＝63ad9dfe-4750-479f-9630-ada43ccc8117"
	status, body = l.send(chattest.SlackCommand(slackSecret, time.Now(), "U0001ALICE", "1.1.1", l.platforms.SlackResponseURL("fw"), text))
	if ack := chattest.SlackAnswerText(body); status != http.StatusOK || !strings.Contains(ack, "validated") || !strings.Contains(ack, "slack:1.1.1") {
		t.Errorf("full-width dry run: %d %s", status, body)
	}
	text = strings.Replace(text, "—dry-run ", "", 1)
	request := chattest.SlackCommand(slackSecret, time.Now(), "U0001ALICE", "2.2.2", l.platforms.SlackResponseURL("fw2"), text)
	if status, body = l.send(request); status != http.StatusOK || !strings.Contains(chattest.SlackAnswerText(body), "slack:2.2.2") {
		t.Errorf("full-width create: %d %s", status, body)
	}
	l.checkQueuedOnce("huawei-create-pool", "slack:2.2.2")

	// The same delivery again is acknowledged and not queued again.
	status, body = l.send(request)
	if ack := chattest.SlackAnswerText(body); status != http.StatusOK || !strings.Contains(ack, "already queued") {
		t.Errorf("duplicate: %d %s", status, body)
	}
	l.checkQueuedOnce("huawei-create-pool", "slack:2.2.2")

	// A duplicate message on the queue (SQS delivers at least once) creates nothing new,
	// and the chat hears the result once.
	msg := l.queued()[0]
	l.runQueued()
	l.deliver("huawei-create-pool", "sqs-again", msg.Body)
	posted := l.platforms.PostedTo("slack", "fw2")
	if len(posted) != 1 || !strings.Contains(posted[0], "created ") {
		t.Errorf("posted %q, want one result", posted)
	}
	if n := l.creationRequests(); n != 1 {
		t.Errorf("%d creations reached the cloud, want 1", n)
	}
}

// creationRequests counts the requests that reached the emulator: the loop's cloud is its
// own, and each Huawei pool creation is one request.
func (l *chatLoop) creationRequests() int { return l.emu.RequestCount("") }

func TestChatopsFeishu(t *testing.T) {
	l := newChatLoop(t, "feishu:ou_alice=*")
	now := time.Now()
	// The URL check answers the challenge, encrypted as Feishu sends it with an encrypt key.
	checkChallenge(t, l, feishuEncryptKey)
	for name, r := range map[string]chattest.Request{
		"wrong token": chattest.FeishuChallenge("wrong-token", feishuEncryptKey, now, "c"),
		"wrong key":   chattest.FeishuChallenge(feishuToken, "another-key", now, "c"),
		"plain":       chattest.FeishuChallenge(feishuToken, "", now, "c"),
	} {
		if status, _ := l.send(r); status != http.StatusUnauthorized {
			t.Errorf("url_verification, %s: %d, want 401", name, status)
		}
	}

	// Forged and tampered events: 401 and nothing done.
	tampered := chattest.FeishuMessage(feishuToken, feishuEncryptKey, now, "ev-t", "om_t", "ou_alice", commandOf(t, "huawei-create-pool"))
	tampered.Header.Set("X-Lark-Signature", strings.Repeat("0", 64))
	plainWithKey := chattest.FeishuMessage(feishuToken, "", now, "ev-p", "om_p", "ou_alice", commandOf(t, "huawei-create-pool"))
	for name, r := range map[string]chattest.Request{
		"wrong signature":                tampered,
		"wrong key":                      chattest.FeishuMessage(feishuToken, "another-key", now, "ev-k", "om_k", "ou_alice", "help"),
		"wrong token":                    chattest.FeishuMessage("wrong-token", feishuEncryptKey, now, "ev-w", "om_w", "ou_alice", "help"),
		"plain while an encrypt key set": plainWithKey,
	} {
		if status, body := l.send(r); status != http.StatusUnauthorized || len(body) != 0 {
			t.Errorf("%s: %d %q, want a bare 401", name, status, body)
		}
	}
	if len(l.queued()) != 0 || len(l.platforms.Posted()) != 0 {
		t.Fatalf("unverified events did something: %d queued, %v posted", len(l.queued()), l.platforms.Posted())
	}

	// A command: an empty 200, the acknowledgement through the reply API, the result too.
	r := chattest.FeishuMessage(feishuToken, feishuEncryptKey, now, "ev-1", "om_1", "ou_alice", commandOf(t, "huawei-create-lbaas-pool"))
	if status, body := l.send(r); status != http.StatusOK || len(bytes.TrimSpace(body)) > 2 {
		t.Errorf("answer %d %q, want an empty 200", status, body)
	}
	ack := l.platforms.PostedTo("feishu", "om_1")
	if len(ack) != 1 || !strings.Contains(ack[0], "feishu:om_1") || !strings.Contains(ack[0], "huawei-create-lbaas-pool") {
		t.Fatalf("acknowledgement %q", ack)
	}
	l.checkQueuedOnce("huawei-create-lbaas-pool", "feishu:om_1")

	// Feishu delivers again (a new event id, the same message): nothing new is queued.
	l.send(chattest.FeishuMessage(feishuToken, feishuEncryptKey, now, "ev-2", "om_1", "ou_alice", commandOf(t, "huawei-create-lbaas-pool")))
	l.checkQueuedOnce("huawei-create-lbaas-pool", "feishu:om_1")
	l.runQueued()
	posted := l.platforms.PostedTo("feishu", "om_1")
	if last := posted[len(posted)-1]; !strings.Contains(last, "created ") || !strings.Contains(last, "feishu:om_1") {
		t.Errorf("result posted %q", posted)
	}

	// A rule broken: answered with its path, nothing queued.
	l.send(chattest.FeishuMessage(feishuToken, feishuEncryptKey, now, "ev-3", "om_3", "ou_alice",
		"create huawei-create-pool region=cn-north-4 pool.lb_algorithm=ROUND_ROBIN pool.loadbalancer_id=63ad9dfe-4750-479f-9630-ada43ccc8117"))
	if got := l.platforms.PostedTo("feishu", "om_3"); len(got) != 1 || !strings.Contains(got[0], "pool.protocol") {
		t.Errorf("violations answered %q", got)
	}
	if len(l.queued()) != 0 {
		t.Error("a request breaking a rule was queued")
	}
}

func checkChallenge(t *testing.T, l *chatLoop, encryptKey string) {
	t.Helper()
	status, body := l.send(chattest.FeishuChallenge(feishuToken, encryptKey, time.Now(), "challenge-123"))
	var c struct{ Challenge string }
	if status != http.StatusOK || json.Unmarshal(body, &c) != nil || c.Challenge != "challenge-123" {
		t.Errorf("url_verification (encrypt key %v): %d %s", encryptKey != "", status, body)
	}
}

// TestChatopsFeishuPlain is Feishu without an encrypt key: the verification token is the
// only proof, checked on every event.
func TestChatopsFeishuPlain(t *testing.T) {
	l := newChatLoop(t, "feishu:*=*", "LBFN_FEISHU_ENCRYPT_KEY=")
	now := time.Now()
	checkChallenge(t, l, "")
	if status, _ := l.send(chattest.FeishuChallenge("wrong-token", "", now, "c")); status != http.StatusUnauthorized {
		t.Errorf("url_verification with a wrong token: %d", status)
	}
	if status, _ := l.send(chattest.FeishuMessage("wrong-token", "", now, "ev-0", "om_0", "ou_bob", commandOf(t, "huawei-create-pool"))); status != http.StatusUnauthorized {
		t.Errorf("an event with a wrong token: %d", status)
	}
	l.send(chattest.FeishuMessage(feishuToken, "", now, "ev-1", "om_1", "ou_bob", commandOf(t, "huawei-create-pool")))
	l.checkQueuedOnce("huawei-create-pool", "feishu:om_1")
	l.runQueued()
	if got := l.resultPosted("feishu", "om_1", 1); !strings.Contains(got, "created ") {
		t.Errorf("result %q", got)
	}
}

func TestChatopsDingTalk(t *testing.T) {
	l := newChatLoop(t, "dingtalk:staff-alice=jdcloud-create-backend")
	now := time.Now()
	hook := l.platforms.DingTalkSessionWebhook("sess-1-REPLYCAPABILITY")
	for name, r := range map[string]chattest.Request{
		"forged": chattest.DingTalkMessage("not-the-secret", now, dingtalkCorp, "m0", "staff-alice", hook, "help"),
		"stale":  chattest.DingTalkMessage(dingtalkSecret, now.Add(-61*time.Minute), dingtalkCorp, "m0", "staff-alice", hook, "help"),
	} {
		if status, body := l.send(r); status != http.StatusUnauthorized || len(body) != 0 {
			t.Errorf("%s: %d %q, want a bare 401", name, status, body)
		}
	}
	// Another corp's robot: not acted on at all.
	if status, _ := l.send(chattest.DingTalkMessage(dingtalkSecret, now, "ding-other-corp", "m1", "staff-alice", hook, commandOf(t, "jdcloud-create-backend"))); status != http.StatusOK {
		t.Errorf("another corp: %d", status)
	}
	if len(l.queued()) != 0 || len(l.platforms.Posted()) != 0 {
		t.Fatalf("acted on: %d queued, %v posted", len(l.queued()), l.platforms.Posted())
	}

	r := chattest.DingTalkMessage(dingtalkSecret, now, dingtalkCorp, "msg-2", "staff-alice", hook, commandOf(t, "jdcloud-create-backend"))
	if status, _ := l.send(r); status != http.StatusOK {
		t.Errorf("answer %d", status)
	}
	if ack := l.platforms.PostedTo("dingtalk", "sess-1-REPLYCAPABILITY"); len(ack) != 1 || !strings.Contains(ack[0], "dingtalk:msg-2") {
		t.Fatalf("acknowledgement %q", ack)
	}
	l.checkQueuedOnce("jdcloud-create-backend", "dingtalk:msg-2")
	// The same msgId again (a replay within the signature's hour): nothing new.
	l.send(r)
	l.checkQueuedOnce("jdcloud-create-backend", "dingtalk:msg-2")
	l.runQueued()
	if got := l.resultPosted("dingtalk", "sess-1-REPLYCAPABILITY", 1); !strings.Contains(got, "created ") {
		t.Errorf("result %q", got)
	}
	// Allowed jdcloud only: another function is refused in the conversation.
	l.send(chattest.DingTalkMessage(dingtalkSecret, now, dingtalkCorp, "msg-3", "staff-alice", hook, commandOf(t, "ctyun-create-policy")))
	if got := l.platforms.PostedTo("dingtalk", "sess-1-REPLYCAPABILITY"); !strings.Contains(got[len(got)-1], "may not create ctyun-create-policy") {
		t.Errorf("refusal %q", got[len(got)-1])
	}
	if len(l.queued()) != 0 {
		t.Error("a refused command was queued")
	}
}

func TestChatopsWeCom(t *testing.T) {
	l := newChatLoop(t, "wecom:zhangsan=*")
	now := time.Now()
	status, body := l.send(chattest.WeComVerify(wecomToken, wecomAESKey, now, "1616140317555161061"))
	if status != http.StatusOK || string(body) != "1616140317555161061" {
		t.Errorf("URL check: %d %q", status, body)
	}
	bad := chattest.WeComVerify(wecomToken, wecomAESKey, now, "1")
	bad.Query.Set("msg_signature", strings.Repeat("0", 40))
	if status, body := l.send(bad); status != http.StatusUnauthorized || len(body) != 0 {
		t.Errorf("URL check with a bad signature: %d %q", status, body)
	}
	respURL := l.platforms.WeComResponseURL("code-1-REPLYCAPABILITY")
	forged := chattest.WeComMessage("another-token", wecomAESKey, now, "msg-0", "zhangsan", respURL, "help")
	if status, body := l.send(forged); status != http.StatusUnauthorized || len(body) != 0 {
		t.Errorf("forged callback: %d %q", status, body)
	}

	r := chattest.WeComMessage(wecomToken, wecomAESKey, now, "CAIQ16HMjQYY", "zhangsan", respURL, commandOf(t, "huawei-create-master-slave-pool"))
	status, body = l.send(r)
	ack, err := chattest.WeComPassiveText(wecomToken, wecomAESKey, body)
	if status != http.StatusOK || err != nil || !strings.Contains(ack, "wecom:CAIQ16HMjQYY") || !strings.Contains(ack, "huawei-create-master-slave-pool") {
		t.Fatalf("passive reply %d %q: %q %v", status, body, ack, err)
	}
	l.checkQueuedOnce("huawei-create-master-slave-pool", "wecom:CAIQ16HMjQYY")
	l.runQueued()
	if got := l.resultPosted("wecom", "code-1-REPLYCAPABILITY", 0); !strings.Contains(got, "created ") || !strings.Contains(got, "wecom:CAIQ16HMjQYY") {
		t.Errorf("result %q", got)
	}
}

func TestChatopsUnconfiguredPlatformAnswers401(t *testing.T) {
	l := newChatLoop(t, "slack:*=*", "LBFN_SLACK_SIGNING_SECRET=")
	status, body := l.send(chattest.SlackCommand("", time.Now(), "U1", "1.2.3", l.platforms.SlackResponseURL("r"), "help"))
	if status != http.StatusUnauthorized || len(body) != 0 {
		t.Errorf("answer %d %q, want a bare 401", status, body)
	}
	if !strings.Contains(l.chatops.Logs(), "LBFN_SLACK_SIGNING_SECRET") {
		t.Errorf("the log does not name the missing variable:\n%s", l.chatops.Logs())
	}
}

func TestChatopsForgedResultToken(t *testing.T) {
	l := newChatLoop(t, "slack:*=*")
	resp, err := http.Post(l.gateway.URL+"/chatops/result/slack.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "application/json",
		strings.NewReader(`{"ok":true,"function":"huawei-create-pool","status":"created","id":"x","idempotencyKey":"slack:1"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(l.platforms.Posted()) != 0 {
		t.Errorf("forged token: %d, %v posted", resp.StatusCode, l.platforms.Posted())
	}
}
