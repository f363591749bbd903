package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/chatops"
	"github.com/lbfn/lbfn/shared/chatops/allow"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/validate"
)

// fakePlatform verifies a request by its X-Fake-Signature header ("good") and reads the
// message from a JSON body, so the server's flow can be tested without any platform's
// crypto (the platform packages test theirs).
type fakePlatform struct {
	name    string
	missing string
	inBand  bool
	postErr error

	mu    sync.Mutex
	posts []fakePost
}

type fakePost struct {
	reply chatops.Reply
	text  string
}

type fakeBody struct {
	ID, User, Text, Handshake, Ignore string
}

const replyURL = "http://127.0.0.1:1/hooks/REPLYSECRET"

func (p *fakePlatform) Name() string    { return p.name }
func (p *fakePlatform) Missing() string { return p.missing }

func (p *fakePlatform) Receive(in chatops.Inbound) (*chatops.Message, *chatops.Outbound, error) {
	if in.Header.Get("X-Fake-Signature") != "good" {
		return nil, nil, chatops.Unverified(p.name, "bad signature")
	}
	var b fakeBody
	if json.Unmarshal(in.Body, &b) != nil {
		return nil, nil, chatops.Unverified(p.name, "not JSON")
	}
	switch {
	case b.Handshake != "":
		return nil, &chatops.Outbound{Status: http.StatusOK, Body: []byte(b.Handshake)}, nil
	case b.Ignore != "":
		return nil, nil, chatops.Ignored(p.name, b.Ignore)
	}
	return &chatops.Message{Platform: p.name, MessageID: b.ID, User: b.User, Text: b.Text,
		Reply: chatops.Reply{Platform: p.name, URL: replyURL}}, nil, nil
}

func (p *fakePlatform) Answer(msg chatops.Message, text string) (chatops.Outbound, bool) {
	if !p.inBand {
		return chatops.Outbound{Status: http.StatusOK}, false
	}
	b, _ := json.Marshal(map[string]string{"text": text})
	return chatops.Outbound{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}, true
}

func (p *fakePlatform) Post(ctx context.Context, reply chatops.Reply, text string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.postErr != nil {
		return p.postErr
	}
	p.posts = append(p.posts, fakePost{reply, text})
	return nil
}

func (p *fakePlatform) posted() []fakePost {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]fakePost(nil), p.posts...)
}

// fakeQueue records what it is given; block makes it wait for its context to end, err makes
// it fail.
type fakeQueue struct {
	mu       sync.Mutex
	sent     []queued
	block    bool
	err      error
	deadline time.Duration // how far the last Enqueue's deadline was from its call
}

type queued struct {
	function, job string
	request       map[string]any
}

func (q *fakeQueue) Enqueue(ctx context.Context, function string, request []byte, job string) error {
	q.mu.Lock()
	if d, ok := ctx.Deadline(); ok {
		q.deadline = time.Until(d)
	}
	q.mu.Unlock()
	if q.block {
		<-ctx.Done()
		return ctx.Err()
	}
	if q.err != nil {
		return q.err
	}
	var m map[string]any
	if err := json.Unmarshal(request, &m); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sent = append(q.sent, queued{function, job, m})
	return nil
}

func (q *fakeQueue) messages() []queued {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]queued(nil), q.sent...)
}

const (
	slackSecret = "slack-signing-SECRET-1"
	goodPool    = "create huawei-create-pool region=cn-north-4 pool.protocol=HTTP pool.lb_algorithm=ROUND_ROBIN " +
		"pool.loadbalancer_id=0b07acf0-b5e4-4fbb-8f3b-2b3c4f2f6a11"
)

type harness struct {
	srv    *Server
	inBand *fakePlatform // "slack": answers in the HTTP answer
	posted *fakePlatform // "feishu": answers through Post
	queue  *fakeQueue
	logs   *bytes.Buffer
	now    time.Time
}

func newHarness(t *testing.T, allowList string) *harness {
	t.Helper()
	list, err := allow.Parse(allowList)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{
		inBand: &fakePlatform{name: "slack", inBand: true},
		posted: &fakePlatform{name: "feishu"},
		queue:  &fakeQueue{},
		logs:   &bytes.Buffer{},
		now:    testNow,
	}
	h.srv = New(Options{
		Platforms:  []chatops.Platform{h.inBand, h.posted, &fakePlatform{name: "wecom", missing: "LBFN_WECOM_TOKEN"}},
		ReplyKeys:  map[string]redact.Secret{"slack": redact.NewSecret(slackSecret), "feishu": redact.NewSecret("feishu-app-SECRET")},
		Operations: catalog.Operations,
		Allow:      list,
		Queue:      h.queue,
		BaseURL:    "https://chat.example/prod",
		Logger:     slog.New(slog.NewJSONHandler(h.logs, nil)),
		Now:        func() time.Time { return h.now },
	})
	t.Cleanup(func() {
		for _, leak := range []string{"REPLYSECRET", slackSecret, "feishu-app-SECRET", "/chatops/result/"} {
			if strings.Contains(h.logs.String(), leak) {
				t.Errorf("the log holds %q:\n%s", leak, h.logs)
			}
		}
	})
	return h
}

// chat sends one message to platform and returns the answer and the text the user sees (in
// the HTTP answer or posted).
func (h *harness) chat(t *testing.T, platform string, b fakeBody, signed bool) (chatops.Outbound, string) {
	t.Helper()
	body, _ := json.Marshal(b)
	header := http.Header{}
	if signed {
		header.Set("X-Fake-Signature", "good")
	}
	before := len(h.posted.posted())
	out := h.srv.Serve(context.Background(), Request{Path: "/chatops/" + platform, Method: http.MethodPost, Header: header, Body: body})
	if platform == "feishu" {
		if len(out.Body) != 0 {
			t.Errorf("feishu answer has a body %q; it shows nothing of it", out.Body)
		}
		if p := h.posted.posted(); len(p) > before {
			if p[len(p)-1].reply.URL != replyURL {
				t.Error("the answer was not posted to the message's reply address")
			}
			return out, p[len(p)-1].text
		}
		return out, ""
	}
	var shown struct{ Text string }
	_ = json.Unmarshal(out.Body, &shown)
	return out, shown.Text
}

func TestChatFlow(t *testing.T) {
	const allowed = "slack:U1=*,feishu:*=huawei-create-pool"
	tests := []struct {
		name     string
		allow    string
		platform string
		body     fakeBody
		unsigned bool
		status   int
		want     []string // fragments of what the user is shown
		queued   int
	}{
		{"unverified", allowed, "slack", fakeBody{ID: "t1", User: "U1", Text: goodPool}, true, http.StatusUnauthorized, nil, 0},
		{"unconfigured", allowed, "wecom", fakeBody{ID: "t1", User: "U1", Text: goodPool}, false, http.StatusUnauthorized, nil, 0},
		{"unknown route", allowed, "teams", fakeBody{ID: "t1", User: "U1", Text: goodPool}, false, http.StatusNotFound, nil, 0},
		{"ignored", allowed, "slack", fakeBody{Ignore: "a bot"}, false, http.StatusOK, nil, 0},
		{"handshake", allowed, "slack", fakeBody{Handshake: "challenge-1"}, false, http.StatusOK, nil, 0},
		{"help", allowed, "slack", fakeBody{ID: "t1", User: "U1", Text: "help"}, false, http.StatusOK, []string{"huawei-create-pool", "ctyun-create-policy"}, 0},
		{"help says what to set", "", "slack", fakeBody{ID: "t1", User: "U1", Text: "help"}, false, http.StatusOK, []string{"huawei-create-pool", "LBFN_CHATOPS_ALLOW"}, 0},
		{"help of a function", allowed, "slack", fakeBody{ID: "t1", User: "U1", Text: "help huawei-create-pool"}, false, http.StatusOK, []string{"pool.protocol"}, 0},
		{"usage", allowed, "slack", fakeBody{ID: "t1", User: "U1", Text: "destroy everything"}, false, http.StatusOK, []string{"help"}, 0},
		{"created", allowed, "slack", fakeBody{ID: "t1", User: "U1", Text: goodPool}, false, http.StatusOK, []string{"huawei-create-pool", "slack:t1", "queued"}, 1},
		{"created, answer posted", allowed, "feishu", fakeBody{ID: "om_1", User: "ou_9", Text: goodPool}, false, http.StatusOK, []string{"huawei-create-pool", "feishu:om_1", "queued"}, 1},
		{"full-width input", allowed, "slack", fakeBody{ID: "t1", User: "U1", Text: "create huawei-create-pool region＝cn-north-4\u3000pool.protocol=HTTP pool.lb_algorithm=ROUND_ROBIN pool.loadbalancer_id=0b07acf0-b5e4-4fbb-8f3b-2b3c4f2f6a11"}, false, http.StatusOK, []string{"slack:t1", "queued"}, 1},
		{"not allowed: user", allowed, "slack", fakeBody{ID: "t1", User: "U2", Text: goodPool}, false, http.StatusOK, []string{"U2 may not create huawei-create-pool", "LBFN_CHATOPS_ALLOW"}, 0},
		{"not allowed: function", allowed, "feishu", fakeBody{ID: "om_1", User: "ou_9", Text: strings.Replace(goodPool, "huawei-create-pool", "huawei-create-lbaas-pool", 1)}, false, http.StatusOK, []string{"may not create huawei-create-lbaas-pool"}, 0},
		{"fail closed", "", "slack", fakeBody{ID: "t1", User: "U1", Text: goodPool}, false, http.StatusOK, []string{"LBFN_CHATOPS_ALLOW", "slack:t1"}, 0},
		{"rules broken", allowed, "slack", fakeBody{ID: "t1", User: "U1", Text: "create huawei-create-pool region=cn-north-4 pool.lb_algorithm=ROUND_ROBIN"}, false, http.StatusOK,
			[]string{"not queued", "pool.protocol", "pool.listener_id"}, 0},
		{"dry run", allowed, "slack", fakeBody{ID: "t1", User: "U1", Text: strings.Replace(goodPool, "huawei-create-pool", "huawei-create-pool --dry-run", 1)}, false, http.StatusOK, []string{"validated", "slack:t1"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.allow)
			out, shown := h.chat(t, tt.platform, tt.body, !tt.unsigned)
			if out.Status != tt.status {
				t.Errorf("status %d, want %d", out.Status, tt.status)
			}
			if tt.status != http.StatusOK && len(out.Body) != 0 {
				t.Errorf("a %d answer has a body %q: want it bare", out.Status, out.Body)
			}
			if tt.body.Handshake != "" && string(out.Body) != tt.body.Handshake {
				t.Errorf("handshake answered %q", out.Body)
			}
			for _, w := range tt.want {
				if !strings.Contains(shown, w) {
					t.Errorf("shown %q, want it to contain %q", shown, w)
				}
			}
			if tt.want == nil && shown != "" {
				t.Errorf("shown %q, want nothing", shown)
			}
			if strings.Contains(shown, "REPLYSECRET") || strings.Contains(shown, "/chatops/result/") {
				t.Errorf("the answer shows the reply address: %q", shown)
			}
			if got := len(h.queue.messages()); got != tt.queued {
				t.Errorf("queued %d, want %d", got, tt.queued)
			}
		})
	}
}

func TestQueuedRequest(t *testing.T) {
	h := newHarness(t, "slack:U1=*")
	h.chat(t, "slack", fakeBody{ID: "1.2.3", User: "U1", Text: goodPool}, true)
	msgs := h.queue.messages()
	if len(msgs) != 1 {
		t.Fatalf("queued %d", len(msgs))
	}
	m := msgs[0]
	if m.function != "huawei-create-pool" || m.job != "slack:1.2.3" || m.request["idempotencyKey"] != "slack:1.2.3" ||
		m.request["region"] != "cn-north-4" || m.request["dryRun"] != nil {
		t.Errorf("queued %+v", m)
	}
	replyTo, _ := m.request["replyTo"].(string)
	token, ok := strings.CutPrefix(replyTo, "https://chat.example/prod/chatops/result/")
	if !ok {
		t.Fatalf("replyTo %q is not under LBFN_CHATOPS_URL's result route", replyTo)
	}
	b, _ := json.Marshal(m.request)
	if strings.Contains(string(b), "REPLYSECRET") || strings.Contains(string(b), "127.0.0.1:1") {
		t.Errorf("the queued request carries the reply address in clear: %s", b)
	}
	tk, err := h.srv.sealer.open(token, testNow)
	if err != nil || tk.URL != replyURL || tk.JobID != "slack:1.2.3" || tk.Function != "huawei-create-pool" {
		t.Errorf("the token opens to %+v, %v", tk, err)
	}
	// The request queued is one the function itself accepts.
	o, _ := catalog.Lookup("huawei-create-pool")
	if _, err := o.Decode(context.Background(), b); err != nil {
		t.Errorf("the function refuses the queued request: %v", err)
	}
}

func TestDuplicateDeliveryQueuesOnce(t *testing.T) {
	h := newHarness(t, "slack:U1=*")
	body := fakeBody{ID: "1.2.3", User: "U1", Text: goodPool}
	_, first := h.chat(t, "slack", body, true)
	_, again := h.chat(t, "slack", body, true)
	if n := len(h.queue.messages()); n != 1 {
		t.Errorf("queued %d times, want once", n)
	}
	if !strings.Contains(first, "queued") || !strings.Contains(again, "already queued") || !strings.Contains(again, "slack:1.2.3") {
		t.Errorf("answers %q then %q", first, again)
	}
}

func TestEnqueueFailure(t *testing.T) {
	h := newHarness(t, "slack:U1=*")
	h.queue.err = op.Errorf(op.KindUnavailable, "SQS answered 500")
	body := fakeBody{ID: "1.2.3", User: "U1", Text: goodPool}
	_, shown := h.chat(t, "slack", body, true)
	if !strings.Contains(shown, "could not be queued (unavailable)") {
		t.Errorf("shown %q", shown)
	}
	h.queue.err = nil
	if _, shown := h.chat(t, "slack", body, true); !strings.Contains(shown, "queued") || len(h.queue.messages()) != 1 {
		t.Errorf("the same message delivered again after a failed enqueue: %q, %d queued", shown, len(h.queue.messages()))
	}
}

// TestSlowQueue shows that the answer does not wait for a queue that does not answer: the
// enqueue is given the budget as its deadline and the answer is given when it is spent.
// (Logical, not timed: the budget is what the queue saw, and the answer says it gave up.)
func TestSlowQueue(t *testing.T) {
	h := newHarness(t, "slack:U1=*")
	h.srv.opts.EnqueueBudget = 50 * time.Millisecond
	h.queue.block = true
	out, shown := h.chat(t, "slack", fakeBody{ID: "1.2.3", User: "U1", Text: goodPool}, true)
	if out.Status != http.StatusOK || !strings.Contains(shown, "did not confirm in time") || !strings.Contains(shown, "slack:1.2.3") {
		t.Errorf("answer %d %q", out.Status, shown)
	}
	h.queue.mu.Lock()
	d := h.queue.deadline
	h.queue.mu.Unlock()
	if d <= 0 || d > 50*time.Millisecond {
		t.Errorf("the enqueue's deadline was %s away, want within the 50ms budget", d)
	}
}

// TestQueueIgnoringItsContext: even a queue that never returns does not hold the answer.
func TestQueueIgnoringItsContext(t *testing.T) {
	h := newHarness(t, "slack:U1=*")
	h.srv.opts.EnqueueBudget = 20 * time.Millisecond
	stuck := make(chan struct{})
	defer close(stuck)
	h.srv.opts.Queue = queueFunc(func(context.Context, string, []byte, string) error { <-stuck; return nil })
	if _, shown := h.chat(t, "slack", fakeBody{ID: "1", User: "U1", Text: goodPool}, true); !strings.Contains(shown, "did not confirm in time") {
		t.Errorf("shown %q", shown)
	}
}

type queueFunc func(ctx context.Context, function string, request []byte, job string) error

func (f queueFunc) Enqueue(ctx context.Context, function string, request []byte, job string) error {
	return f(ctx, function, request, job)
}

func TestEnqueueBudgetInsideThePlatformDeadline(t *testing.T) {
	h := newHarness(t, "slack:U1=*")
	h.srv.opts.EnqueueBudget = time.Hour // the platform's 3 s still bounds it
	h.chat(t, "slack", fakeBody{ID: "1", User: "U1", Text: goodPool}, true)
	if d := h.queue.deadline; d <= 0 || d > Deadlines["slack"]-answerMargin {
		t.Errorf("the enqueue's deadline was %s away, want within Slack's deadline less the margin", d)
	}
}

// resultToken seals a ticket as the server would for a message.
func resultToken(t *testing.T, h *harness, platform, job, function string) string {
	t.Helper()
	tok, err := h.srv.sealer.seal(ticket{Platform: platform, URL: replyURL, JobID: job, Function: function, Expires: h.now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (h *harness) result(token string, res any) chatops.Outbound {
	b, _ := json.Marshal(res)
	return h.srv.Serve(context.Background(), Request{Path: "/chatops/result/" + token, Method: http.MethodPost, Body: b})
}

func TestResultRoute(t *testing.T) {
	created := &op.Result{OK: true, Function: "huawei-create-pool", Provider: "huaweicloud", Status: op.StatusCreated,
		ID: "pool-42", IdempotencyKey: "slack:1.2.3"}
	h := newHarness(t, "slack:U1=*")
	token := resultToken(t, h, "slack", "slack:1.2.3", "huawei-create-pool")

	if out := h.result(token, created); out.Status != http.StatusOK {
		t.Fatalf("status %d %s", out.Status, out.Body)
	}
	if out := h.result(token, created); out.Status != http.StatusOK {
		t.Errorf("the same result again: %d", out.Status)
	}
	posts := h.inBand.posted()
	if len(posts) != 1 {
		t.Fatalf("posted %d times, want once", len(posts))
	}
	if posts[0].reply.URL != replyURL || !strings.Contains(posts[0].text, "created pool-42") ||
		!strings.Contains(posts[0].text, "slack:1.2.3") || !strings.Contains(posts[0].text, "huawei-create-pool") {
		t.Errorf("posted %q", posts[0].text)
	}

	other := *created
	other.IdempotencyKey = "slack:9"
	expired := newHarness(t, "")
	expiredToken := resultToken(t, expired, "slack", "slack:1.2.3", "huawei-create-pool")
	expired.now = expired.now.Add(2 * time.Hour)
	inProgress := *created
	inProgress.Status = op.StatusInProgress
	tests := []struct {
		name   string
		h      *harness
		token  string
		body   any
		method string
		status int
	}{
		{"forged", h, "slack.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", created, "POST", http.StatusUnauthorized},
		{"another platform's name", h, "feishu" + strings.TrimPrefix(token, "slack"), created, "POST", http.StatusUnauthorized},
		{"expired", expired, expiredToken, created, "POST", http.StatusUnauthorized},
		{"another job's result", h, resultToken(t, h, "slack", "slack:7", "huawei-create-pool"), &other, "POST", http.StatusBadRequest},
		{"not a result", h, resultToken(t, h, "slack", "slack:8", "huawei-create-pool"), "hello", "POST", http.StatusBadRequest},
		{"not final", h, resultToken(t, h, "slack", "slack:1.2.3", "huawei-create-pool"), &inProgress, "POST", http.StatusAccepted},
		{"GET", h, token, created, "GET", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tt.h.inBand.posted())
			b, _ := json.Marshal(tt.body)
			out := tt.h.srv.Serve(context.Background(), Request{Path: "/chatops/result/" + tt.token, Method: tt.method, Body: b})
			if out.Status != tt.status {
				t.Errorf("status %d, want %d", out.Status, tt.status)
			}
			if len(tt.h.inBand.posted()) != before {
				t.Error("something was posted")
			}
		})
	}
}

func TestResultPostFailureIsRetried(t *testing.T) {
	h := newHarness(t, "")
	h.inBand.postErr = errors.New("slack answered 500")
	token := resultToken(t, h, "slack", "slack:1", "jdcloud-create-backend")
	res := &op.Result{Function: "jdcloud-create-backend", IdempotencyKey: "slack:1",
		Error: &op.Error{Kind: op.KindValidation, Message: "port: required",
			Violations: []validate.Violation{{Field: "port", Message: "required"}, {Field: "healthCheckSpec.httpCode[1]", Message: "not an HTTP code"}}}}
	if out := h.result(token, res); out.Status != http.StatusBadGateway {
		t.Errorf("status %d, want 502 so the poster tries again", out.Status)
	}
	h.inBand.postErr = nil
	if out := h.result(token, res); out.Status != http.StatusOK {
		t.Errorf("retry: status %d", out.Status)
	}
	posts := h.inBand.posted()
	if len(posts) != 1 {
		t.Fatalf("posted %d", len(posts))
	}
	for _, w := range []string{"jdcloud-create-backend job slack:1 failed", "validation", "port: required", "healthCheckSpec.httpCode[1]"} {
		if !strings.Contains(posts[0].text, w) {
			t.Errorf("posted %q, want %q in it", posts[0].text, w)
		}
	}
}
