package jdcloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/jdcloud"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// fastHTTP retries like production but in milliseconds.
func fastHTTP() *httpx.Client {
	return &httpx.Client{
		HTTP: &http.Client{Timeout: 5 * time.Second},
		Policy: httpx.Policy{MaxAttempts: 4, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond,
			MaxRetryAfter: 2 * time.Second, RetryAmbiguous: true},
	}
}

// newEmulator serves a fresh emulator on loopback and returns a client of it.
func newEmulator(t testing.TB, mutate func(*jdcloud.Config)) (*emulator.Emulator, *jdcloud.Client) {
	t.Helper()
	em := emulator.New(emulator.Options{})
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	cfg := jdcloud.Config{AccessKey: emulator.DemoAccessKey, SecretKey: redact.NewSecret(emulator.DemoSecretKey),
		Endpoint: srv.URL, HTTP: fastHTTP()}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := jdcloud.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return em, c
}

func decode(t testing.TB, patch string) *jdcloud.CreateBackendRequest {
	t.Helper()
	req, err := jdcloud.CreateBackend.Decode(context.Background(), patched(t, patch))
	if err != nil {
		t.Fatal(err)
	}
	return req.(*jdcloud.CreateBackendRequest)
}

func opError(t *testing.T, err error) *op.Error {
	t.Helper()
	var e *op.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *op.Error", err, err)
	}
	return e
}

func TestCreateBackend(t *testing.T) {
	em, c := newEmulator(t, nil)
	req := decode(t, `{"description":"web","proxyProtocol":false}`)
	out, err := c.CreateBackend(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	held := em.JDCloudBackends()
	if len(held) != 1 || out.Status != op.StatusCreated || out.ID != held[0].BackendID || out.Attempts != 1 || out.RequestID == "" {
		t.Fatalf("outcome %+v, emulator holds %+v", out, held)
	}
	var resp struct {
		RequestID string
		Result    struct{ BackendID string }
	}
	if err := json.Unmarshal(out.Response, &resp); err != nil || resp.Result.BackendID != out.ID || resp.RequestID != out.RequestID {
		t.Errorf("response %s does not carry the id and request id (%v)", out.Response, err)
	}
	rec := em.Requests()[0]
	if rec.Method != "POST" || rec.Path != "/v1/regions/cn-north-1/backends/" {
		t.Errorf("sent %s %s", rec.Method, rec.Path)
	}
	wantBody := `{"regionId":"cn-north-1","backendName":"demo-backend","loadBalancerId":"nlb-example","protocol":"Tcp",` +
		`"port":80,"healthCheckSpec":{"protocol":"Tcp"},"proxyProtocol":false,"description":"web"}`
	if string(rec.Body) != wantBody {
		t.Errorf("body\n%s\nwant\n%s", rec.Body, wantBody)
	}
	if rec.Header.Get("Content-Type") != "application/json" || rec.Header.Get("x-jdcloud-content-sha256") != "" ||
		!strings.HasPrefix(rec.Header.Get("Authorization"), "JDCLOUD2-HMAC-SHA256 Credential="+emulator.DemoAccessKey+"/") {
		t.Errorf("headers %v", rec.Header)
	}
}

// TestEmulatorErrors drives each refusal the emulator produces and checks its mapping and
// that it was sent exactly once (never retried).
func TestEmulatorErrors(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(em *emulator.Emulator, c *jdcloud.Client)
		cfg      func(*jdcloud.Config)
		req      func(t *testing.T) *jdcloud.CreateBackendRequest
		kind     op.Kind
		status   int
		code     string
		message  string
		requests int
	}{
		{name: "wrong secret", cfg: func(c *jdcloud.Config) { c.SecretKey = redact.NewSecret("not-the-secret") },
			kind: op.KindAuth, status: 401, code: "ACCESS_ERROR", message: "sign result is not same [gw]", requests: 1},
		{name: "unknown access key", cfg: func(c *jdcloud.Config) { c.AccessKey = "SOMEONEELSE" },
			kind: op.KindAuth, status: 401, code: "ACCESS_ERROR", requests: 1},
		{name: "stale date", cfg: func(c *jdcloud.Config) { c.Now = func() time.Time { return time.Now().Add(-time.Hour) } },
			kind: op.KindAuth, status: 401, code: "ACCESS_ERROR", requests: 1},
		{name: "missing load balancer", setup: func(em *emulator.Emulator, _ *jdcloud.Client) { em.MarkJDCloudMissing("nlb-example") },
			kind: op.KindNotFound, status: 404, code: "NOT_FOUND", requests: 1},
		{name: "quota", setup: func(em *emulator.Emulator, c *jdcloud.Client) {
			em.SetJDCloudQuota(1)
			if _, err := c.CreateBackend(context.Background(), decode(t, `{"backendName":"first"}`)); err != nil {
				t.Fatal(err)
			}
		}, kind: op.KindQuota, status: 429, code: "QUOTA_EXCEEDED", message: "Quota limit backend exceeded.", requests: 2},
		{name: "refused by the provider's own check", req: func(t *testing.T) *jdcloud.CreateBackendRequest {
			r := decode(t, `{}`) // valid, then broken behind the validator's back
			r.Protocol = "HTTPS"
			return r
		}, kind: op.KindProvider, status: 400, code: "INVALID_ARGUMENT",
			message: "Request parameter protocol is 'HTTPS', expected one of [Http,Tcp,Udp]", requests: 1},
		{name: "name taken by a different backend", setup: func(em *emulator.Emulator, c *jdcloud.Client) {
			if _, err := c.CreateBackend(context.Background(), decode(t, `{"port":8080}`)); err != nil {
				t.Fatal(err)
			}
		}, kind: op.KindConflict, status: 409, code: "backend.inuse.name",
			message: "backend name 'demo-backend' is already exist", requests: 3}, // create, create, lookup
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			em, c := newEmulator(t, tt.cfg)
			if tt.setup != nil {
				tt.setup(em, c)
			}
			req := decode(t, `{}`)
			if tt.req != nil {
				req = tt.req(t)
			}
			_, err := c.CreateBackend(context.Background(), req)
			e := opError(t, err)
			if e.Kind != tt.kind || e.HTTPStatus != tt.status || e.ProviderCode != tt.code || e.Attempts != 1 ||
				e.RequestID == "" || e.Retryable {
				t.Errorf("error %+v, want kind %s, HTTP %d, code %s, 1 attempt, a request id, not retryable",
					e, tt.kind, tt.status, tt.code)
			}
			if tt.message != "" && e.ProviderMessage != tt.message {
				t.Errorf("provider message %q, want %q", e.ProviderMessage, tt.message)
			}
			if n := em.RequestCount("jdcloud"); n != tt.requests {
				t.Errorf("%d requests reached the emulator, want %d", n, tt.requests)
			}
			if strings.Contains(e.Error(), emulator.DemoSecretKey) {
				t.Errorf("secret in error: %v", e)
			}
		})
	}
}

// stub answers every request with status, headers and body, counting requests.
func stub(t *testing.T, status int, header http.Header, body string) (*jdcloud.Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := jdcloud.NewClient(jdcloud.Config{AccessKey: "AK", SecretKey: redact.NewSecret("SK"), Endpoint: srv.URL, HTTP: fastHTTP()})
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

// TestErrorForms maps the answers the emulator does not produce: gateway throttling, other
// 4xx, non-JSON 5xx pages, a 200 without an id.
func TestErrorForms(t *testing.T) {
	jd := func(code int, status, msg string) string {
		return `{"requestId":"req-1","error":{"code":` + itoa(code) + `,"status":"` + status + `","message":"` + msg + `"}}`
	}
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		kind      op.Kind
		code      string
		requestID string
		attempts  int
	}{
		{"bad parameter", 400, nil, jd(400, "INVALID_ARGUMENT", "Request parameter port is '0'"), op.KindProvider, "INVALID_ARGUMENT", "req-1", 1},
		{"forbidden", 403, nil, jd(403, "FORBIDDEN", "no permission"), op.KindAuth, "FORBIDDEN", "req-1", 1},
		{"gateway rate limit", 429, nil, jd(429, "HTTP_RATE_LIMIT_EXCEEDED", "too many"), op.KindThrottled, "HTTP_RATE_LIMIT_EXCEEDED", "req-1", 4},
		{"rate limit", 429, nil, jd(429, "RATE_LIMIT_EXCEEDED", "too many"), op.KindThrottled, "RATE_LIMIT_EXCEEDED", "req-1", 4},
		{"quota by status", 429, nil, jd(429, "QUOTA_EXCEEDED", "over"), op.KindQuota, "QUOTA_EXCEEDED", "req-1", 1},
		{"quota by message", 429, nil, jd(429, "LIMIT", "Quota limit backend exceeded."), op.KindQuota, "LIMIT", "req-1", 1},
		{"conflict without lookup", 409, nil, jd(409, "CONFLICT", "busy"), op.KindConflict, "CONFLICT", "req-1", 1},
		{"html 502", 502, http.Header{"X-Jdcloud-Request-Id": {"hdr-1"}, "Content-Type": {"text/html"}},
			"<html><body>502 Bad Gateway</body></html>", op.KindUnavailable, "", "hdr-1", 4},
		{"json 503", 503, nil, jd(503, "UNAVAILABLE", "later"), op.KindUnavailable, "UNAVAILABLE", "req-1", 4},
		{"200 without backendId", 200, nil, `{"requestId":"req-1","result":{}}`, op.KindProvider, "", "req-1", 1},
		{"other status", 418, nil, `teapot`, op.KindProvider, "", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := stub(t, tt.status, tt.header, tt.body)
			_, err := c.CreateBackend(context.Background(), decode(t, `{}`))
			e := opError(t, err)
			if e.Kind != tt.kind || e.ProviderCode != tt.code || e.RequestID != tt.requestID ||
				e.HTTPStatus != tt.status || e.Attempts != tt.attempts || int(n.Load()) != tt.attempts ||
				e.Retryable != tt.kind.Retryable() {
				t.Errorf("error %+v after %d requests; want kind %s code %q request id %q, %d attempts",
					e, n.Load(), tt.kind, tt.code, tt.requestID, tt.attempts)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestRetries(t *testing.T) {
	t.Run("429 Retry-After honoured then created", func(t *testing.T) {
		em, c := newEmulator(t, nil)
		em.Inject(emulator.Fault{Provider: "jdcloud", Status: 429, RetryAfter: "1"})
		out, err := c.CreateBackend(context.Background(), decode(t, `{}`))
		if err != nil || out.Attempts != 2 || len(em.JDCloudBackends()) != 1 {
			t.Fatalf("outcome %+v, %v; want created on attempt 2", out, err)
		}
		// The signing dates show the wait: at least the second Retry-After asked for.
		reqs := em.Requests()
		d0, err0 := time.Parse("20060102T150405Z", reqs[0].Header.Get("x-jdcloud-date"))
		d1, err1 := time.Parse("20060102T150405Z", reqs[1].Header.Get("x-jdcloud-date"))
		if err0 != nil || err1 != nil || d1.Sub(d0) < time.Second {
			t.Errorf("retry signed at %v after %v: Retry-After not honoured", d1, d0)
		}
	})
	t.Run("Retry-After beyond the policy ends the call throttled", func(t *testing.T) {
		em, c := newEmulator(t, func(cfg *jdcloud.Config) { cfg.HTTP.Policy.MaxRetryAfter = 500 * time.Millisecond })
		em.Inject(emulator.Fault{Provider: "jdcloud", Status: 429, RetryAfter: "30"})
		_, err := c.CreateBackend(context.Background(), decode(t, `{}`))
		if e := opError(t, err); e.Kind != op.KindThrottled || !e.Retryable || em.RequestCount("jdcloud") != 1 {
			t.Errorf("error %+v after %d requests, want throttled after 1", e, em.RequestCount("jdcloud"))
		}
	})
	t.Run("503 retried, each attempt signed afresh over the same body", func(t *testing.T) {
		em, c := newEmulator(t, nil)
		em.Inject(emulator.Fault{Provider: "jdcloud", Status: 503}, emulator.Fault{Provider: "jdcloud", Status: 503})
		out, err := c.CreateBackend(context.Background(), decode(t, `{}`))
		if err != nil || out.Attempts != 3 {
			t.Fatalf("outcome %+v, %v; want created on attempt 3", out, err)
		}
		assertResigned(t, em.Requests())
	})
	t.Run("503 until attempts run out", func(t *testing.T) {
		em, c := newEmulator(t, nil)
		for range 4 {
			em.Inject(emulator.Fault{Provider: "jdcloud", Status: 503})
		}
		_, err := c.CreateBackend(context.Background(), decode(t, `{}`))
		if e := opError(t, err); e.Kind != op.KindUnavailable || e.Attempts != 4 || !e.Retryable || e.HTTPStatus != 503 {
			t.Errorf("error %+v, want unavailable after 4 attempts", e)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		// The provider is slower than the caller's deadline: the call gives up at the
		// deadline, as a retryable timeout after the one attempt.
		em, c := newEmulator(t, nil)
		em.Inject(emulator.Fault{Provider: "jdcloud", Latency: 10 * time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := c.CreateBackend(ctx, decode(t, `{}`))
		e := opError(t, err)
		if e.Kind != op.KindTimeout || !e.Retryable || e.Attempts != 1 || em.RequestCount("jdcloud") != 1 {
			t.Errorf("error %+v after %d requests, want a retryable timeout after 1 attempt", e, em.RequestCount("jdcloud"))
		}
	})
	t.Run("no time left", func(t *testing.T) {
		em, c := newEmulator(t, nil)
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Millisecond))
		defer cancel()
		_, err := c.CreateBackend(ctx, decode(t, `{}`))
		if e := opError(t, err); e.Kind != op.KindTimeout || em.RequestCount("") != 0 {
			t.Errorf("error %+v after %d requests, want a timeout before sending", e, em.RequestCount(""))
		}
	})
}

// assertResigned checks that recorded attempts carry distinct nonces and signatures over
// identical bodies.
func assertResigned(t *testing.T, reqs []emulator.Recorded) {
	t.Helper()
	nonces := map[string]bool{}
	for _, r := range reqs {
		if r.Method != "POST" {
			continue
		}
		n := r.Header.Get("x-jdcloud-nonce")
		if n == "" || nonces[n] {
			t.Errorf("nonce %q missing or reused", n)
		}
		nonces[n] = true
		if string(r.Body) != string(reqs[0].Body) {
			t.Errorf("body changed between attempts:\n%s\n%s", reqs[0].Body, r.Body)
		}
	}
	if len(nonces) < 2 {
		t.Errorf("%d signed POSTs, want at least 2", len(nonces))
	}
}

// TestAmbiguousFailureReconciled: the first delivery is created but its answer is lost; the
// retry meets the name conflict, the lookup finds the backend we asked for, and the answer is
// created with that id. The emulator holds one backend.
func TestAmbiguousFailureReconciled(t *testing.T) {
	for _, lb := range []string{"nlb-example", "lb-example", "dnlb-example"} {
		t.Run(lb, func(t *testing.T) {
			em, c := newEmulator(t, nil)
			em.Inject(emulator.Fault{Provider: "jdcloud", DropAfterHandling: true})
			out, err := c.CreateBackend(context.Background(), decode(t, `{"loadBalancerId":"`+lb+`"}`))
			if err != nil {
				t.Fatal(err)
			}
			held := em.JDCloudBackends()
			if len(held) != 1 || out.Status != op.StatusCreated || out.ID != held[0].BackendID || out.Attempts != 2 {
				t.Fatalf("outcome %+v, emulator holds %d backends", out, len(held))
			}
			reqs := em.Requests()
			if len(reqs) != 3 || reqs[1].Status != 409 || reqs[2].Method != "GET" || reqs[2].Status != 200 {
				t.Fatalf("requests %d: want POST (dropped), POST 409, GET 200", len(reqs))
			}
			assertResigned(t, reqs)
			var resp struct{ Result struct{ BackendID string } }
			if json.Unmarshal(out.Response, &resp) != nil || resp.Result.BackendID != out.ID {
				t.Errorf("response %s does not carry the id", out.Response)
			}
		})
	}
}

// TestRedeliveryReconciled: the same request delivered again after it succeeded answers the
// same backend, and creates nothing.
func TestRedeliveryReconciled(t *testing.T) {
	em, c := newEmulator(t, nil)
	first, err := c.CreateBackend(context.Background(), decode(t, `{"algorithm":"RoundRobin"}`))
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateBackend(context.Background(), decode(t, `{"algorithm":"RoundRobin"}`))
	if err != nil || again.ID != first.ID || len(em.JDCloudBackends()) != 1 {
		t.Fatalf("redelivery: %+v, %v; first id %s", again, err, first.ID)
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name, ak, sk, endpoint string
		wantErr                string
	}{
		{"no access key", "", "sk", "", "JDCLOUD_ACCESS_KEY"},
		{"no secret key", "ak", "", "", "JDCLOUD_SECRET_KEY"},
		{"plain http to a remote host", "ak", "sk", "http://lb.example.com", "JDCLOUD_LB_ENDPOINT"},
		{"default endpoint", "ak", "sk", "", ""},
		{"loopback emulator", "ak", "sk", "http://127.0.0.1:8090", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("JDCLOUD_ACCESS_KEY", tt.ak)
			t.Setenv("JDCLOUD_SECRET_KEY", tt.sk)
			t.Setenv("JDCLOUD_LB_ENDPOINT", tt.endpoint)
			_, err := jdcloud.FromEnv()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e := opError(t, err)
			if e.Kind != op.KindConfig || !strings.Contains(e.Message, tt.wantErr) {
				t.Errorf("error %v, want a config error naming %s", e, tt.wantErr)
			}
			if tt.sk != "" && strings.Contains(e.Message, tt.sk) {
				t.Errorf("secret in error: %v", e)
			}
		})
	}
}

// TestRun goes through op.Run, the path every trigger takes: a dry run sends nothing, a real
// run answers the result README.md describes. It runs a fresh copy of jdcloud.CreateBackend: the
// operation connects once per process, so under go test -count=2 the shared one would keep
// the first run's emulator address.
func TestRun(t *testing.T) {
	em := emulator.New(emulator.Options{})
	srv := httptest.NewServer(em)
	defer srv.Close()
	t.Setenv("JDCLOUD_ACCESS_KEY", emulator.DemoAccessKey)
	t.Setenv("JDCLOUD_SECRET_KEY", emulator.DemoSecretKey)
	t.Setenv("JDCLOUD_LB_ENDPOINT", srv.URL)
	spec := jdcloud.CreateBackend.(*op.Spec[jdcloud.CreateBackendRequest, *jdcloud.Client])
	createBackend := &op.Spec[jdcloud.CreateBackendRequest, *jdcloud.Client]{FunctionName: spec.FunctionName,
		ProviderName: spec.ProviderName, Client: spec.Client, Validate: spec.Validate, Send: spec.Send}
	dry := op.Run(context.Background(), createBackend, patched(t, `{"dryRun":true}`), op.Meta{})
	if !dry.OK || dry.Status != op.StatusValidated || em.RequestCount("") != 0 {
		t.Fatalf("dry run %+v", dry)
	}
	res := op.Run(context.Background(), createBackend, []byte(baseRequest), op.Meta{})
	if !res.OK || res.Status != op.StatusCreated || res.Function != "jdcloud-create-backend" || res.Provider != "jdcloud" ||
		!strings.HasPrefix(res.ID, "backend-") {
		t.Fatalf("result %+v (error %+v)", res, res.Error)
	}
}

func TestSecretsNotPrinted(t *testing.T) {
	cfg := jdcloud.Config{AccessKey: "AK", SecretKey: redact.NewSecret("very-secret-key"), Endpoint: "https://lb.jdcloud-api.com"}
	c, err := jdcloud.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprint(c), fmt.Sprintf("%v", c)} {
		if strings.Contains(s, "very-secret-key") {
			t.Errorf("secret printed: %s", s)
		}
	}
}
