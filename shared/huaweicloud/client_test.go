package huaweicloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/auth/hwsign"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/huaweicloud"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// fastHTTP retries like production but with millisecond backoffs.
func fastHTTP(rt http.RoundTripper) *httpx.Client {
	return &httpx.Client{
		HTTP:   &http.Client{Transport: rt, Timeout: 5 * time.Second},
		Policy: httpx.Policy{MaxAttempts: 4, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond, MaxRetryAfter: 5 * time.Second},
	}
}

func demoConfig(endpoint string) huaweicloud.Config {
	return huaweicloud.Config{
		AccessKey: emulator.DemoAccessKey, SecretKey: redact.NewSecret(emulator.DemoSecretKey), ProjectID: emulator.DemoProjectID,
		Endpoint: endpoint, HTTP: fastHTTP(nil),
	}
}

// startEmulator serves an emulator on loopback.
func startEmulator(t testing.TB, opts emulator.Options) (*emulator.Emulator, *httptest.Server) {
	t.Helper()
	e := emulator.New(opts)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv
}

func mustClient(t testing.TB, cfg huaweicloud.Config) *huaweicloud.Client {
	t.Helper()
	c, err := huaweicloud.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// operations returns the three operations connected to c.
func operations(c *huaweicloud.Client) map[string]op.Operation {
	connect := func() (*huaweicloud.Client, error) { return c, nil }
	return map[string]op.Operation{
		v2:    huaweicloud.NewCreatePool(connect),
		lbaas: huaweicloud.NewCreateLbaasPool(connect),
		v3:    huaweicloud.NewCreateMasterSlavePool(connect),
	}
}

var apiPaths = map[string]string{
	v2:    "/v2/" + demoProject + "/elb/pools",
	lbaas: "/v2.0/lbaas/pools",
	v3:    "/v3/" + demoProject + "/elb/master-slave-pools",
}

// run runs raw as a delivery known to be the first, so that a named pool is created without
// a lookup first (TestRepeatLooksUpFirst covers the others).
func run(t testing.TB, o op.Operation, raw []byte) *op.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return op.Run(ctx, o, raw, firstDelivery)
}

var firstDelivery = op.Meta{Trigger: "sqs", Delivery: 1}

func TestCreateSuccess(t *testing.T) {
	e, srv := startEmulator(t, emulator.Options{})
	opsByAPI := operations(mustClient(t, demoConfig(srv.URL)))
	for _, api := range all {
		t.Run(api, func(t *testing.T) {
			before := e.RequestCount("huaweicloud")
			raw := apply(t, bases[api], edits(set("pool.name", "web-"+api)))
			res := run(t, opsByAPI[api], raw)
			if !res.OK {
				t.Fatalf("failed: %+v", res.Error)
			}
			if res.Status != op.StatusCreated || res.ID == "" || res.Attempts != 1 || res.RequestID == "" {
				t.Errorf("result %+v", res)
			}
			var answer struct {
				Pool struct {
					ID, Name string
				} `json:"pool"`
				RequestID *string `json:"request_id"`
			}
			if err := json.Unmarshal(res.Response, &answer); err != nil || answer.Pool.ID != res.ID || answer.Pool.Name != "web-"+api {
				t.Errorf("response %s (%v) does not carry pool %s", res.Response, err, res.ID)
			}
			if (answer.RequestID != nil) != (api == v3) {
				t.Errorf("request_id in the body: %v, want only on v3", answer.RequestID)
			}
			if api == v3 && *answer.RequestID != res.RequestID {
				t.Errorf("requestId %q, want the body's %q", res.RequestID, *answer.RequestID)
			}
			reqs := e.Requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != apiPaths[api] {
				t.Errorf("sent %s %s, want POST %s", r.Method, r.Path, apiPaths[api])
			}
			if r.Header.Get("X-Project-Id") != demoProject || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", r.Header)
			}
			// The wire body is {"pool": ...} only, with unset optional fields omitted.
			var wire map[string]map[string]any
			if err := json.Unmarshal(r.Body, &wire); err != nil || len(wire) != 1 || wire["pool"] == nil {
				t.Fatalf("wire body %s", r.Body)
			}
			for _, absent := range []string{"session_persistence", "listener_id", "description", "admin_state_up", "protection_status", "vpc_id", "connection_drain"} {
				if _, ok := wire["pool"][absent]; ok {
					t.Errorf("unset %s was sent: %s", absent, r.Body)
				}
			}
			if strings.Contains(string(r.Body), "null") {
				t.Errorf("null sent: %s", r.Body)
			}
			b, _ := json.Marshal(res)
			if strings.Contains(string(b), emulator.DemoSecretKey) {
				t.Error("the secret key leaked into the result")
			}
		})
	}
	if n := e.HuaweiPoolCount(); n != 3 {
		t.Errorf("emulator holds %d pools, want 3", n)
	}
}

func TestZeroValuesAreSent(t *testing.T) {
	e, srv := startEmulator(t, emulator.Options{})
	o := operations(mustClient(t, demoConfig(srv.URL)))[v3]
	raw := apply(t, bases[v3], edits(set("pool.any_port_enable", false), set("pool.connection_drain", obj{"enable": false})))
	if res := run(t, o, raw); !res.OK {
		t.Fatalf("failed: %+v", res.Error)
	}
	body := string(e.Requests()[0].Body)
	if !strings.Contains(body, `"any_port_enable":false`) || !strings.Contains(body, `"connection_drain":{"enable":false}`) {
		t.Errorf("a zero the user wrote was dropped: %s", body)
	}
}

// scripted answers each request with the next of answers (the last one repeats) and counts.
type scripted struct {
	answers []answer
	n       atomic.Int32
}

type answer struct {
	status int
	header map[string]string
	body   string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(s.n.Add(1)) - 1
	a := s.answers[min(i, len(s.answers)-1)]
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

const createdBody = `{"pool":{"id":"p-1","name":"","protocol":"HTTP","lb_algorithm":"ROUND_ROBIN"}}`

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name      string
		answers   []answer
		kind      op.Kind
		code      string
		msg       string
		requestID string
		retryable bool
		requests  int
	}{
		{"400 invalid input", []answer{{400, nil, `{"error_msg":"Invalid input for operation","error_code":"ELB.8902","request_id":"r-400"}`}},
			op.KindProvider, "ELB.8902", "Invalid input for operation", "r-400", false, 1},
		{"400 missing field", []answer{{400, nil, `{"error_msg":"field missing","error_code":"ELB.9805","request_id":"r-1"}`}},
			op.KindProvider, "ELB.9805", "field missing", "r-1", false, 1},
		{"401 bad signature", []answer{{401, nil, `{"error_msg":"Incorrect IAM authentication information","error_code":"APIGW.0301","request_id":"r-401"}`}},
			op.KindAuth, "APIGW.0301", "Incorrect IAM authentication information", "r-401", false, 1},
		{"403 error object form", []answer{{403, map[string]string{"X-Request-Id": "h-403"}, `{"error":{"code":"IAM.0002","message":"forbidden"}}`}},
			op.KindAuth, "IAM.0002", "forbidden", "h-403", false, 1},
		{"404 neutron form", []answer{{404, map[string]string{"X-Request-Id": "h-404"}, `{"NeutronError":{"type":"LoadBalancerNotFound","message":"lb-1 could not be found","detail":""}}`}},
			op.KindNotFound, "LoadBalancerNotFound", "lb-1 could not be found", "h-404", false, 1},
		{"404 ELB.8904", []answer{{404, nil, `{"error_msg":"listener l-1 could not be found","error_code":"ELB.8904","request_id":"r-2"}`}},
			op.KindNotFound, "ELB.8904", "could not be found", "r-2", false, 1},
		{"409 quota", []answer{{409, nil, `{"error_msg":"Quota exceeded for resources: ['pool']","error_code":"ELB.8905","request_id":"r-409"}`}},
			op.KindQuota, "ELB.8905", "Quota exceeded", "r-409", false, 1},
		{"409 busy retried then fails", []answer{{409, nil, `{"error_msg":"Invalid status PENDING_UPDATE of loadbalancer lb-1","error_code":"ELB.8907","request_id":"r-b"}`}},
			op.KindConflict, "ELB.8907", "PENDING_UPDATE", "r-b", true, 4},
		{"409 busy then created", []answer{{409, nil, `{"error_msg":"load balancer is busy","error_code":"ELB.8907"}`}, {201, nil, createdBody}},
			"", "", "", "", false, 2},
		{"409 other conflict", []answer{{409, nil, `{"error_msg":"pool name exists","error_code":"ELB.1000"}`}},
			op.KindConflict, "ELB.1000", "pool name exists", "", false, 1},
		{"429 throttled", []answer{{429, map[string]string{"Retry-After": "0"}, `{"error_msg":"Too Many Requests","error_code":"APIGW.0308","request_id":"r-429"}`}},
			op.KindThrottled, "APIGW.0308", "Too Many Requests", "r-429", true, 4},
		{"APIGW.0308 on another status", []answer{{403, nil, `{"error_msg":"throttled","error_code":"APIGW.0308"}`}, {201, nil, createdBody}},
			"", "", "", "", false, 2},
		{"429 Retry-After beyond the policy", []answer{{429, map[string]string{"Retry-After": "120"}, `{"error_msg":"slow down","error_code":"APIGW.0308"}`}},
			op.KindThrottled, "APIGW.0308", "slow down", "", true, 1},
		{"500 ELB.8906 retried", []answer{{500, nil, `{"error_msg":"internal error","error_code":"ELB.8906"}`}},
			op.KindUnavailable, "ELB.8906", "internal error", "", true, 4},
		{"503 non-JSON", []answer{{503, map[string]string{"Content-Type": "text/html"}, "<html><body>Service Unavailable</body></html>"}},
			op.KindUnavailable, "", "Service Unavailable", "", true, 4},
		{"502 then created", []answer{{502, nil, "bad gateway"}, {201, map[string]string{"X-Request-Id": "h-ok"}, createdBody}},
			"", "", "", "", false, 2},
		{"201 without a pool id", []answer{{201, nil, `{}`}},
			op.KindProvider, "", "", "", false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scripted{answers: tt.answers}
			srv := httptest.NewServer(s)
			defer srv.Close()
			o := operations(mustClient(t, demoConfig(srv.URL)))[v2]
			res := run(t, o, []byte(bases[v2]))
			if got := int(s.n.Load()); got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
			if tt.kind == "" {
				if !res.OK || res.ID != "p-1" || res.Attempts != tt.requests {
					t.Fatalf("want created p-1 after %d attempts, got %+v %+v", tt.requests, res, res.Error)
				}
				return
			}
			e := res.Error
			if res.OK || e == nil {
				t.Fatalf("want %s, got %+v", tt.kind, res)
			}
			if e.Kind != tt.kind || e.ProviderCode != tt.code || !strings.Contains(e.ProviderMessage, tt.msg) ||
				e.RequestID != tt.requestID || e.Retryable != tt.retryable || e.HTTPStatus != tt.answers[len(tt.answers)-1].status {
				t.Errorf("error %+v", e)
			}
			if res.Attempts != tt.requests {
				t.Errorf("attempts %d, want %d", res.Attempts, tt.requests)
			}
		})
	}
}

func TestEmulatorRefusalsAreNotRetried(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(*emulator.Emulator, *huaweicloud.Config)
		raw    []byte
		kind   op.Kind
		code   string
		status int
	}{
		{"401 wrong secret", func(_ *emulator.Emulator, c *huaweicloud.Config) { c.SecretKey = redact.NewSecret("not-the-secret") },
			[]byte(bases[v3]), op.KindAuth, "APIGW.0301", 401},
		{"404 missing load balancer", func(e *emulator.Emulator, _ *huaweicloud.Config) { e.SetHuaweiMissing("lb-gone") },
			apply(t, bases[v3], edits(set("pool.loadbalancer_id", "lb-gone"))), op.KindNotFound, "ELB.8904", 404},
		{"409 quota", func(e *emulator.Emulator, _ *huaweicloud.Config) { e.SetHuaweiQuota(0) },
			[]byte(bases[v3]), op.KindQuota, "ELB.8905", 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, srv := startEmulator(t, emulator.Options{})
			cfg := demoConfig(srv.URL)
			tt.setup(e, &cfg)
			res := run(t, operations(mustClient(t, cfg))[v3], tt.raw)
			if res.OK || res.Error.Kind != tt.kind || res.Error.ProviderCode != tt.code || res.Error.HTTPStatus != tt.status {
				t.Fatalf("got %+v", res.Error)
			}
			if n := e.RequestCount("huaweicloud"); n != 1 {
				t.Errorf("%d requests recorded, want exactly 1", n)
			}
			if e.HuaweiPoolCount() != 0 {
				t.Error("a pool was created")
			}
		})
	}
}

func TestQuotaAfterN(t *testing.T) {
	e, srv := startEmulator(t, emulator.Options{})
	e.SetHuaweiQuota(1)
	o := operations(mustClient(t, demoConfig(srv.URL)))[lbaas]
	if res := run(t, o, []byte(bases[lbaas])); !res.OK {
		t.Fatalf("first create: %+v", res.Error)
	}
	res := run(t, o, []byte(bases[lbaas]))
	if res.OK || res.Error.Kind != op.KindQuota {
		t.Fatalf("second create: %+v", res)
	}
	if n := e.RequestCount("huaweicloud"); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestEmulator400IsNotRetried(t *testing.T) {
	// The client checks every rule first; skipping the check shows the emulator enforces them too.
	e, srv := startEmulator(t, emulator.Options{})
	c := mustClient(t, demoConfig(srv.URL))
	req := &huaweicloud.CreatePoolRequest{Region: "cn-north-4", Pool: &huaweicloud.Pool{}}
	req.Pool.Protocol = "QUIC"
	req.Pool.LbAlgorithm = "ROUND_ROBIN"
	_, err := c.CreatePool(context.Background(), req, op.Call{})
	var oe *op.Error
	if !errors.As(err, &oe) || oe.Kind != op.KindProvider || oe.HTTPStatus != 400 || oe.ProviderCode != "ELB.8902" ||
		!strings.Contains(oe.ProviderMessage, "pool.protocol") {
		t.Fatalf("got %v", err)
	}
	if n := e.RequestCount("huaweicloud"); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name   string
		faults []emulator.Fault
		want   int // requests, all ending in one created pool
	}{
		{"503 retried", []emulator.Fault{{Status: 503}}, 2},
		{"504 and 500 retried", []emulator.Fault{{Status: 504}, {Status: 500}}, 3},
		{"429 with Retry-After honoured", []emulator.Fault{{Status: 429, RetryAfter: "1"}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, srv := startEmulator(t, emulator.Options{})
			e.Inject(tt.faults...)
			res := run(t, operations(mustClient(t, demoConfig(srv.URL)))[v2], []byte(bases[v2]))
			if !res.OK || res.Attempts != tt.want {
				t.Fatalf("got %+v %+v, want created after %d attempts", res, res.Error, tt.want)
			}
			if n := e.RequestCount("huaweicloud"); n != tt.want {
				t.Errorf("%d requests, want %d", n, tt.want)
			}
			if e.HuaweiPoolCount() != 1 {
				t.Errorf("%d pools, want 1", e.HuaweiPoolCount())
			}
			// Each attempt is signed afresh and carries the same body.
			reqs := e.Requests()
			for _, r := range reqs[1:] {
				if string(r.Body) != string(reqs[0].Body) {
					t.Error("the body changed between attempts")
				}
			}
		})
	}
}

func TestDeadlineRespected(t *testing.T) {
	e, srv := startEmulator(t, emulator.Options{})
	e.Inject(emulator.Fault{Latency: 10 * time.Second})
	o := operations(mustClient(t, demoConfig(srv.URL)))[v2]
	// A second is far longer than writing the request takes on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	res := op.Run(ctx, o, []byte(bases[v2]), op.Meta{})
	// The request was written before the deadline came: the pool may exist, so the timeout
	// says so and is not to be retried blindly.
	if res.OK || res.Error.Kind != op.KindTimeout || res.Error.Retryable || !strings.Contains(res.Error.Message, "may have been created") {
		t.Fatalf("got %+v %+v, want a timeout saying a pool may have been created", res, res.Error)
	}
	if n := e.RequestCount("huaweicloud"); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}

	// Retries stop at the deadline too: an endless 503 whose Retry-After (within the
	// policy's 5s) would cross the deadline ends in an error, not a hang.
	e.Inject(emulator.Fault{Status: 503, RetryAfter: "4"}, emulator.Fault{Status: 503, RetryAfter: "4"}, emulator.Fault{Status: 503, RetryAfter: "4"})
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	res = op.Run(ctx2, o, []byte(bases[v2]), op.Meta{})
	if res.OK || !res.Error.Retryable {
		t.Fatalf("got %+v %+v", res, res.Error)
	}
}

// tamper changes the body after it was signed.
type tamper struct{}

func (tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	b = []byte(strings.Replace(string(b), "ROUND_ROBIN", "SOURCE_IP", 1))
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(strings.NewReader(string(b)))
	r2.ContentLength = int64(len(b))
	return http.DefaultTransport.RoundTrip(r2)
}

func TestEmulatorRejectsBadSignatures(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*huaweicloud.Config)
		want string
	}{
		{"tampered body", func(c *huaweicloud.Config) { c.HTTP = fastHTTP(tamper{}) }, "does not match"},
		{"wrong secret", func(c *huaweicloud.Config) { c.SecretKey = redact.NewSecret("LBFNWRONGSK") }, "does not match"},
		{"stale date", func(c *huaweicloud.Config) { c.Now = func() time.Time { return time.Now().Add(-20 * time.Minute) } }, "signature expired"},
		{"unknown access key", func(c *huaweicloud.Config) { c.AccessKey = "SOMEONEELSE" }, "unknown access key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, srv := startEmulator(t, emulator.Options{})
			cfg := demoConfig(srv.URL)
			tt.cfg(&cfg)
			res := run(t, operations(mustClient(t, cfg))[v2], []byte(bases[v2]))
			if res.OK || res.Error.Kind != op.KindAuth || res.Error.HTTPStatus != 401 || res.Error.ProviderCode != "APIGW.0301" ||
				!strings.Contains(res.Error.ProviderMessage, tt.want) || res.Error.Retryable {
				t.Fatalf("got %+v", res.Error)
			}
			if n := e.RequestCount("huaweicloud"); n != 1 {
				t.Errorf("%d requests, want 1 (401 is never retried)", n)
			}
			b, _ := json.Marshal(res)
			if strings.Contains(string(b), emulator.DemoSecretKey) || strings.Contains(string(b), "LBFNWRONGSK") {
				t.Error("a secret leaked into the result")
			}
		})
	}
}

func TestProjectChecks(t *testing.T) {
	// Credentials bound to their own project, as a real account's are.
	e, srv := startEmulator(t, emulator.Options{HuaweiProjects: []string{emulator.DemoProjectID}})
	o := operations(mustClient(t, demoConfig(srv.URL)))[v3]
	other := strings.Repeat("a", 32)
	res := run(t, o, apply(t, bases[v3], edits(set("projectId", other))))
	if res.OK || res.Error.Kind != op.KindAuth {
		t.Fatalf("another project: %+v", res.Error)
	}
	if got := e.Requests()[0].Path; !strings.Contains(got, other) {
		t.Errorf("path %s does not use the request's projectId", got)
	}
}

func TestAmbiguousFailure(t *testing.T) {
	t.Run("named pool is adopted", func(t *testing.T) {
		for _, api := range all {
			e, srv := startEmulator(t, emulator.Options{})
			e.Inject(emulator.Fault{Provider: "huaweicloud", DropAfterHandling: true})
			res := run(t, operations(mustClient(t, demoConfig(srv.URL)))[api], apply(t, bases[api], edits(set("pool.name", "web"))))
			if !res.OK || res.Status != op.StatusCreated || res.ID == "" {
				t.Fatalf("%s: got %+v %+v", api, res, res.Error)
			}
			if n := e.HuaweiPoolCount(); n != 1 {
				t.Errorf("%s: %d pools, want exactly 1", api, n)
			}
			reqs := e.Requests()
			if len(reqs) != 2 || reqs[0].Method != "POST" || reqs[1].Method != "GET" || !strings.HasSuffix(reqs[1].Path, "?name=web") {
				t.Errorf("%s: requests %v", api, reqs)
			}
			var answer struct{ Pool struct{ ID string } }
			if json.Unmarshal(res.Response, &answer); answer.Pool.ID != res.ID || res.Attempts != 2 {
				t.Errorf("%s: response %s attempts %d", api, res.Response, res.Attempts)
			}
		}
	})
	t.Run("named pool not created is sent once more", func(t *testing.T) {
		e, srv := startEmulator(t, emulator.Options{})
		// A pool of the same name on another load balancer is not the one this call made.
		o := operations(mustClient(t, demoConfig(srv.URL)))[v2]
		if res := run(t, o, apply(t, bases[v2], edits(set("pool.name", "web"), set("pool.loadbalancer_id", "lb-other")))); !res.OK {
			t.Fatal(res.Error)
		}
		e.Inject(emulator.Fault{Provider: "huaweicloud", Drop: true})
		res := run(t, o, apply(t, bases[v2], edits(set("pool.name", "web"))))
		if !res.OK {
			t.Fatalf("got %+v", res.Error)
		}
		if n := e.HuaweiPoolCount(); n != 2 {
			t.Errorf("%d pools, want 2", n)
		}
		if n := e.RequestCount("huaweicloud"); n != 4 { // first create; dropped POST, GET, POST
			t.Errorf("%d requests, want 4", n)
		}
	})
	t.Run("several matching pools are not guessed between", func(t *testing.T) {
		e, srv := startEmulator(t, emulator.Options{})
		o := operations(mustClient(t, demoConfig(srv.URL)))[v2]
		raw := apply(t, bases[v2], edits(set("pool.name", "web")))
		if res := run(t, o, raw); !res.OK {
			t.Fatal(res.Error)
		}
		e.Inject(emulator.Fault{Provider: "huaweicloud", DropAfterHandling: true})
		res := run(t, o, raw)
		if res.OK || res.Error.Kind != op.KindConflict || res.Error.Retryable || !strings.Contains(res.Error.Message, "may have been created") {
			t.Fatalf("got %+v", res.Error)
		}
		if n := e.HuaweiPoolCount(); n != 2 {
			t.Errorf("%d pools, want 2 (no third create)", n)
		}
	})
	t.Run("unnamed pool is not retried", func(t *testing.T) {
		e, srv := startEmulator(t, emulator.Options{})
		e.Inject(emulator.Fault{Provider: "huaweicloud", DropAfterHandling: true})
		res := run(t, operations(mustClient(t, demoConfig(srv.URL)))[v3], []byte(bases[v3]))
		if res.OK || res.Error.Kind != op.KindUnavailable || res.Error.Retryable || !strings.Contains(res.Error.Message, "may have been created") {
			t.Fatalf("got %+v", res.Error)
		}
		if n := e.RequestCount("huaweicloud"); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
}

func TestSecurityToken(t *testing.T) {
	e, srv := startEmulator(t, emulator.Options{SecurityToken: redact.NewSecret("temp-token")})
	cfg := demoConfig(srv.URL)
	res := run(t, operations(mustClient(t, cfg))[lbaas], []byte(bases[lbaas]))
	if res.OK || res.Error.Kind != op.KindAuth {
		t.Fatalf("without the token: %+v", res)
	}
	cfg.SecurityToken = redact.NewSecret("temp-token")
	res = run(t, operations(mustClient(t, cfg))[lbaas], []byte(bases[lbaas]))
	if !res.OK {
		t.Fatalf("with the token: %+v", res.Error)
	}
	r := e.Requests()[1]
	a, ok := hwsign.ParseAuthorization(r.Header.Get("Authorization"))
	if r.Header.Get("X-Security-Token") != "temp-token" || !ok || !strings.Contains(strings.Join(a.SignedHeaders, ";"), "x-security-token") {
		t.Errorf("token not sent and signed: %v", r.Header)
	}
	b, _ := json.Marshal(res)
	if strings.Contains(string(b), "temp-token") {
		t.Error("the token leaked into the result")
	}
}

// record answers 201 and remembers the URL of each request, for host checks.
type record struct{ urls []string }

func (rec *record) RoundTrip(r *http.Request) (*http.Response, error) {
	rec.urls = append(rec.urls, r.URL.String())
	return &http.Response{StatusCode: 201, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(createdBody)), Request: r}, nil
}

func TestConfig(t *testing.T) {
	t.Run("credentials required", func(t *testing.T) {
		t.Setenv("HUAWEICLOUD_SDK_AK", "")
		t.Setenv("HUAWEICLOUD_SDK_SK", "sk")
		if _, err := huaweicloud.LoadConfig(); !isConfig(err, "HUAWEICLOUD_SDK_AK") {
			t.Errorf("got %v", err)
		}
		t.Setenv("HUAWEICLOUD_SDK_AK", "ak")
		t.Setenv("HUAWEICLOUD_SDK_SK", "")
		if _, err := huaweicloud.LoadConfig(); !isConfig(err, "HUAWEICLOUD_SDK_SK") {
			t.Errorf("got %v", err)
		}
		_, err := huaweicloud.NewCreatePool(huaweicloud.FromEnv).Execute(context.Background(), mustDecode(t, v2, bases[v2]), op.Call{IdempotencyKey: "k"})
		if !isConfig(err, "HUAWEICLOUD_SDK_SK") {
			t.Errorf("Execute: got %v", err)
		}
	})
	t.Run("endpoint must be https or loopback", func(t *testing.T) {
		t.Setenv("HUAWEICLOUD_SDK_AK", "ak")
		t.Setenv("HUAWEICLOUD_SDK_SK", "sk")
		t.Setenv("HUAWEICLOUD_ELB_ENDPOINT", "http://elb.example.com")
		if _, err := huaweicloud.FromEnv(); !isConfig(err, "HUAWEICLOUD_ELB_ENDPOINT") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("bad default project", func(t *testing.T) {
		t.Setenv("HUAWEICLOUD_SDK_AK", "ak")
		t.Setenv("HUAWEICLOUD_SDK_SK", "sk")
		t.Setenv("HUAWEICLOUD_SDK_PROJECT_ID", "Project")
		if _, err := huaweicloud.FromEnv(); !isConfig(err, "HUAWEICLOUD_SDK_PROJECT_ID") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("project required unless dry run", func(t *testing.T) {
		cfg := demoConfig("")
		cfg.ProjectID = ""
		rec := &record{}
		cfg.HTTP = fastHTTP(rec)
		o := operations(mustClient(t, cfg))[v2]
		raw := apply(t, bases[v2], edits(del("projectId")))
		res := run(t, o, raw)
		if res.OK || !isConfig(res.Error, "HUAWEICLOUD_SDK_PROJECT_ID") {
			t.Errorf("got %+v", res.Error)
		}
		dry := run(t, o, apply(t, string(raw), edits(set("dryRun", true))))
		if !dry.OK || dry.Status != op.StatusValidated || len(rec.urls) != 0 {
			t.Errorf("dry run: %+v, %d requests", dry, len(rec.urls))
		}
	})
	t.Run("per-region host and domain", func(t *testing.T) {
		for _, tt := range []struct{ domain, region, want string }{
			{"", "cn-north-4", "https://elb.cn-north-4.myhuaweicloud.com/v3/" + demoProject + "/elb/master-slave-pools"},
			{"myhuaweicloud.eu", "eu-west-101", "https://elb.eu-west-101.myhuaweicloud.eu/v2.0/lbaas/pools"},
		} {
			t.Setenv("HUAWEICLOUD_SDK_AK", "ak")
			t.Setenv("HUAWEICLOUD_SDK_SK", "sk")
			t.Setenv("HUAWEICLOUD_SDK_PROJECT_ID", demoProject)
			t.Setenv("HUAWEICLOUD_ELB_ENDPOINT", "")
			t.Setenv("LBFN_HUAWEICLOUD_DOMAIN", tt.domain)
			if tt.domain == "" {
				// Unset rather than empty: the default applies.
				t.Setenv("LBFN_HUAWEICLOUD_DOMAIN", "myhuaweicloud.com")
			}
			cfg, err := huaweicloud.LoadConfig()
			if err != nil {
				t.Fatal(err)
			}
			rec := &record{}
			cfg.HTTP = fastHTTP(rec)
			api := v3
			if strings.Contains(tt.want, "lbaas") {
				api = lbaas
			}
			res := run(t, operations(mustClient(t, cfg))[api], apply(t, bases[api], edits(set("region", tt.region), del("projectId"))))
			if !res.OK || len(rec.urls) != 1 || rec.urls[0] != tt.want {
				t.Errorf("got %v %+v, want %s", rec.urls, res.Error, tt.want)
			}
		}
	})
}

func mustDecode(t *testing.T, api, raw string) op.Request {
	t.Helper()
	r, err := ops[api].Decode(context.Background(), []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func isConfig(err error, variable string) bool {
	var e *op.Error
	return errors.As(err, &e) && e.Kind == op.KindConfig && strings.Contains(e.Message, variable)
}

// TestSecurityTokenNotInRefusals: the gateway's 401 quotes its canonical request, which holds
// the signed X-Security-Token; the token must not reach the result through it.
func TestSecurityTokenNotInRefusals(t *testing.T) {
	const token = "temp-token-SECRET"
	_, srv := startEmulator(t, emulator.Options{SecurityToken: redact.NewSecret(token)})
	cfg := demoConfig(srv.URL)
	cfg.SecurityToken = redact.NewSecret(token)
	cfg.SecretKey = redact.NewSecret("LBFNWRONGSK")
	res := run(t, operations(mustClient(t, cfg))[v2], []byte(bases[v2]))
	if res.OK || res.Error.Kind != op.KindAuth || !strings.Contains(res.Error.ProviderMessage, "canonical request") {
		t.Fatalf("got %+v", res.Error)
	}
	b, _ := json.Marshal(res)
	if strings.Contains(string(b), token) || strings.Contains(res.Error.Error(), token) {
		t.Errorf("the security token leaked into the result: %s", b)
	}
}

func TestSecretsNotPrinted(t *testing.T) {
	cfg := huaweicloud.Config{AccessKey: "AK", SecretKey: redact.NewSecret("very-secret-key"), SecurityToken: redact.NewSecret("very-secret-token"), ProjectID: demoProject}
	c := mustClient(t, cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", &cfg), fmt.Sprint(c), fmt.Sprintf("%+v", c)} {
		if strings.Contains(s, "very-secret") {
			t.Errorf("secret printed: %s", s)
		}
	}
}

// TestEachAttemptSignedAfresh: a retry is signed again with the time of that attempt (a
// replayed signature ages, and the gateway refuses it after 15 minutes), over the same body.
func TestEachAttemptSignedAfresh(t *testing.T) {
	e, srv := startEmulator(t, emulator.Options{})
	e.Inject(emulator.Fault{Status: 503}, emulator.Fault{Status: 429, RetryAfter: "0"})
	var tick atomic.Int64
	start := time.Now()
	cfg := demoConfig(srv.URL)
	cfg.Now = func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Second) }
	res := run(t, operations(mustClient(t, cfg))[v3], []byte(bases[v3]))
	if !res.OK || res.Attempts != 3 {
		t.Fatalf("got %+v %+v, want created after 3 attempts", res, res.Error)
	}
	dates, sigs := map[string]bool{}, map[string]bool{}
	reqs := e.Requests()
	for _, r := range reqs {
		dates[r.Header.Get("X-Sdk-Date")] = true
		sigs[r.Header.Get("Authorization")] = true
		if string(r.Body) != string(reqs[0].Body) {
			t.Error("the body changed between attempts")
		}
	}
	if len(dates) != 3 || len(sigs) != 3 {
		t.Errorf("%d dates and %d signatures over 3 attempts, want one each", len(dates), len(sigs))
	}
}

// methods lists the method of each request the emulator received.
func methods(reqs []emulator.Recorded) string {
	var b []string
	for _, r := range reqs {
		b = append(b, r.Method)
	}
	return strings.Join(b, " ")
}

// A redelivered create (an earlier delivery may have created the pool and lost the answer)
// that reaches a process knowing nothing of it looks the pool up before creating: a pool made
// by the earlier delivery is adopted, and only an absent one is created. A first delivery, or
// one whose event source does not count deliveries, sends the create alone (resource_test.go
// has that case).
func TestRepeatLooksUpFirst(t *testing.T) {
	tests := []struct {
		name        string
		delivery    int
		existing    bool
		wantMethods string
	}{
		{"first delivery", 1, false, "POST"},
		{"repeat, pool made earlier", 2, true, "GET"},
		{"repeat, pool absent", 2, false, "GET POST"},
		{"not counted, pool absent", 0, false, "POST"},
	}
	for _, api := range all {
		for _, tt := range tests {
			t.Run(api+"/"+tt.name, func(t *testing.T) {
				e, srv := startEmulator(t, emulator.Options{})
				raw := apply(t, bases[api], edits(set("pool.name", "web-"+api)))
				if tt.existing {
					// The earlier delivery, in another process that died before its answer
					// reached the queue.
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					earlier := op.Run(ctx, operations(mustClient(t, demoConfig(srv.URL)))[api], raw, op.Meta{Trigger: "sqs", MessageID: "m-1"})
					cancel()
					if !earlier.OK || e.HuaweiPoolCount() != 1 {
						t.Fatalf("the earlier delivery: %+v, %d pools", earlier.Error, e.HuaweiPoolCount())
					}
				}
				before := len(e.Requests())
				// A fresh process: a new client, no memory of the earlier delivery.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				res := op.Run(ctx, operations(mustClient(t, demoConfig(srv.URL)))[api], raw,
					op.Meta{Trigger: "sqs", MessageID: "m-1", Delivery: tt.delivery})
				if !res.OK || res.Status != op.StatusCreated || res.ID == "" {
					t.Fatalf("result %+v (error %v)", res, res.Error)
				}
				if n := e.HuaweiPoolCount(); n != 1 {
					t.Errorf("%d pools, want 1", n)
				}
				if got := methods(e.Requests()[before:]); got != tt.wantMethods {
					t.Errorf("requests %q, want %q", got, tt.wantMethods)
				}
				if res.Attempts != len(strings.Fields(tt.wantMethods)) {
					t.Errorf("attempts %d", res.Attempts)
				}
			})
		}
	}
}

// After an unanswered create, reconciliation goes on while the deadline allows: it looks the
// pool up (asking again when a lookup's answer is lost, a read being safe to re-send) and
// creates it again only when absent, so a pool is made exactly once however many answers are
// lost on the way.
func TestReconcileUntilSettled(t *testing.T) {
	drop := emulator.Fault{Provider: "huaweicloud", Drop: true}
	lost := emulator.Fault{Provider: "huaweicloud", DropAfterHandling: true}
	pass := emulator.Fault{Provider: "huaweicloud"}
	tests := []struct {
		name        string
		faults      []emulator.Fault
		wantMethods string
	}{
		{"three creates unanswered, none made", []emulator.Fault{drop, pass, drop, pass, drop}, "POST GET POST GET POST GET POST"},
		{"made, then lookups' answers lost", []emulator.Fault{lost, drop, lost}, "POST GET GET GET"},
		{"unanswered, then made and lost", []emulator.Fault{drop, pass, lost, drop}, "POST GET POST GET GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, srv := startEmulator(t, emulator.Options{})
			e.Inject(tt.faults...)
			res := run(t, operations(mustClient(t, demoConfig(srv.URL)))[v2], apply(t, bases[v2], edits(set("pool.name", "web"))))
			if !res.OK || res.Status != op.StatusCreated || res.ID == "" {
				t.Fatalf("result %+v (error %v)", res, res.Error)
			}
			if n := e.HuaweiPoolCount(); n != 1 {
				t.Errorf("%d pools, want 1", n)
			}
			reqs := e.Requests()
			if got := methods(reqs); got != tt.wantMethods || res.Attempts != len(reqs) {
				t.Errorf("requests %q (attempts %d), want %q", got, res.Attempts, tt.wantMethods)
			}
		})
	}
	t.Run("never settled: stops at the deadline, saying a pool may exist", func(t *testing.T) {
		e, srv := startEmulator(t, emulator.Options{})
		faults := make([]emulator.Fault, 10000)
		for i := range faults {
			faults[i] = drop
		}
		e.Inject(faults...)
		// Long enough for the create and a lookup however loaded the machine.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		res := op.Run(ctx, operations(mustClient(t, demoConfig(srv.URL)))[v2], apply(t, bases[v2], edits(set("pool.name", "web"))), firstDelivery)
		if res.OK || res.Error.Retryable || !strings.Contains(res.Error.Message, "may have been created") {
			t.Fatalf("result %+v (error %v)", res, res.Error)
		}
		if got := methods(e.Requests()); !strings.HasPrefix(got, "POST GET") {
			t.Errorf("requests %q: no reconciliation", got)
		}
	})
}
