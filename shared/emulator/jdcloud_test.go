package emulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/auth/jdsign"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/redact"
)

const jdBody = `{"regionId":"cn-north-1","backendName":"web","loadBalancerId":"nlb-1","protocol":"Tcp","port":80,` +
	`"healthCheckSpec":{"protocol":"Tcp"}}`

// jdAnswer is JD's envelope as the emulator writes it.
type jdAnswer struct {
	RequestID string `json:"requestId"`
	Result    struct {
		BackendID  string           `json:"backendId"`
		Backends   []map[string]any `json:"backends"`
		TotalCount int              `json:"totalCount"`
	} `json:"result"`
	Error *struct {
		Code    int    `json:"code"`
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

type jdCall struct {
	method, path, body string
	signer             func(s *jdsign.Signer) // changes the client's signer
	tamper             func(r *http.Request)  // changes the request after signing
	sentBody           string                 // sent instead of body, after signing body
}

func jdServer(t *testing.T, opts emulator.Options) (*emulator.Emulator, *httptest.Server) {
	t.Helper()
	em := emulator.New(opts)
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	return em, srv
}

func jdDo(t *testing.T, srv *httptest.Server, c jdCall) (int, jdAnswer) {
	t.Helper()
	if c.method == "" {
		c.method = "POST"
	}
	if c.path == "" {
		c.path = "/v1/regions/cn-north-1/backends/"
	}
	sent := c.body
	if c.sentBody != "" {
		sent = c.sentBody
	}
	req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(sent))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	region := strings.Split(strings.TrimPrefix(c.path, "/v1/regions/"), "/")[0]
	s := &jdsign.Signer{Credentials: jdsign.Credentials{AccessKey: emulator.DemoAccessKey, SecretKey: redact.NewSecret(emulator.DemoSecretKey)},
		Service: "lb", Region: region}
	if c.signer != nil {
		c.signer(s)
	}
	if err := s.Sign(req, []byte(c.body)); err != nil {
		t.Fatal(err)
	}
	if c.tamper != nil {
		c.tamper(req)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a jdAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("answer %s is not JSON: %v", raw, err)
	}
	if a.RequestID == "" || resp.Header.Get("x-jdcloud-request-id") != a.RequestID {
		t.Errorf("request id %q in body, %q in x-jdcloud-request-id", a.RequestID, resp.Header.Get("x-jdcloud-request-id"))
	}
	if a.Error != nil && a.Error.Code != resp.StatusCode {
		t.Errorf("error.code %d, HTTP %d", a.Error.Code, resp.StatusCode)
	}
	return resp.StatusCode, a
}

func TestJDCloudSignature(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		call    jdCall
		status  int
		message string
	}{
		{"signed", jdCall{body: jdBody}, 200, ""},
		{"tampered body", jdCall{body: jdBody, sentBody: strings.Replace(jdBody, `"port":80`, `"port":81`, 1)},
			401, "sign result is not same [gw]"},
		{"wrong secret", jdCall{body: jdBody, signer: func(s *jdsign.Signer) { s.Credentials.SecretKey = redact.NewSecret("guess") }},
			401, "sign result is not same [gw]"},
		{"unknown access key", jdCall{body: jdBody, signer: func(s *jdsign.Signer) { s.Credentials.AccessKey = "OTHER" }},
			401, "sign result is not same [gw]"},
		{"region not the path's", jdCall{body: jdBody, signer: func(s *jdsign.Signer) { s.Region = "cn-east-2" }},
			401, "sign result is not same [gw]"},
		{"tampered nonce", jdCall{body: jdBody, tamper: func(r *http.Request) { r.Header.Set("x-jdcloud-nonce", "replayed") }},
			401, "sign result is not same [gw]"},
		{"unsigned", jdCall{body: jdBody, tamper: func(r *http.Request) { r.Header.Del("Authorization") }},
			401, "sign result is not same [gw]"},
		{"stale date", jdCall{body: jdBody, signer: func(s *jdsign.Signer) {
			s.Now = func() time.Time { return now.Add(-20 * time.Minute) }
		}}, 401, "request date expired [gw]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			em, srv := jdServer(t, emulator.Options{Now: func() time.Time { return now }})
			inner := tt.call.signer // signs at the emulator's time unless the case says otherwise
			tt.call.signer = func(s *jdsign.Signer) {
				s.Now = func() time.Time { return now }
				if inner != nil {
					inner(s)
				}
			}
			status, a := jdDo(t, srv, tt.call)
			if status != tt.status {
				t.Fatalf("HTTP %d, want %d (%+v)", status, tt.status, a.Error)
			}
			if tt.status == 200 {
				if !strings.HasPrefix(a.Result.BackendID, "backend-") || len(em.JDCloudBackends()) != 1 {
					t.Errorf("created %q, emulator holds %d", a.Result.BackendID, len(em.JDCloudBackends()))
				}
				return
			}
			if a.Error == nil || a.Error.Status != "ACCESS_ERROR" || a.Error.Message != tt.message {
				t.Errorf("error %+v, want ACCESS_ERROR %q", a.Error, tt.message)
			}
			if len(em.JDCloudBackends()) != 0 {
				t.Error("a refused request created a backend")
			}
		})
	}
}

func TestJDCloudCreate(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, em *emulator.Emulator, srv *httptest.Server)
		body    string
		status  int
		code    string
		message string
	}{
		{name: "created", body: jdBody, status: 200},
		{name: "regionId only in the path", body: strings.Replace(jdBody, `"regionId":"cn-north-1",`, "", 1), status: 200},
		{name: "regionId not the path's", body: strings.Replace(jdBody, `cn-north-1`, `cn-east-2`, 1), status: 400,
			code: "INVALID_ARGUMENT", message: "Request parameter regionId is 'cn-east-2', expected 'cn-north-1' as in the path"},
		{name: "enum", body: strings.Replace(jdBody, `"protocol":"Tcp",`, `"protocol":"HTTPS",`, 1), status: 400,
			code: "INVALID_ARGUMENT", message: "Request parameter protocol is 'HTTPS', expected one of [Http,Tcp,Udp]"},
		{name: "range", body: strings.Replace(jdBody, `"port":80`, `"port":0`, 1), status: 400,
			code: "INVALID_ARGUMENT", message: "Request parameter port must be between 1 and 65535, got 0"},
		{name: "unknown field", body: strings.Replace(jdBody, `"port":80`, `"port":80,"weight":1`, 1), status: 400,
			code: "INVALID_ARGUMENT", message: "Request parameter weight unknown field"},
		{name: "not an object", body: `[]`, status: 400, code: "INVALID_ARGUMENT"},
		{name: "duplicate name", setup: jdCreate(jdBody), body: strings.Replace(jdBody, `"port":80`, `"port":81`, 1),
			status: 409, code: "backend.inuse.name", message: "backend name 'web' is already exist"},
		{name: "same name on another load balancer", setup: jdCreate(jdBody),
			body: strings.Replace(jdBody, `nlb-1`, `nlb-2`, 1), status: 200},
		{name: "missing load balancer", setup: func(_ *testing.T, em *emulator.Emulator, _ *httptest.Server) { em.MarkJDCloudMissing("nlb-1") },
			body: jdBody, status: 404, code: "NOT_FOUND"},
		{name: "quota", setup: func(t *testing.T, em *emulator.Emulator, srv *httptest.Server) {
			em.SetJDCloudQuota(1)
			jdCreate(strings.Replace(jdBody, `"web"`, `"first"`, 1))(t, em, srv)
		}, body: jdBody, status: 429, code: "QUOTA_EXCEEDED", message: "Quota limit backend exceeded."},
		{name: "quota is per load balancer", setup: func(t *testing.T, em *emulator.Emulator, srv *httptest.Server) {
			em.SetJDCloudQuota(1)
			jdCreate(strings.Replace(jdBody, `nlb-1`, `nlb-2`, 1))(t, em, srv)
		}, body: jdBody, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			em, srv := jdServer(t, emulator.Options{})
			if tt.setup != nil {
				tt.setup(t, em, srv)
			}
			before := len(em.JDCloudBackends())
			status, a := jdDo(t, srv, jdCall{body: tt.body})
			if status != tt.status {
				t.Fatalf("HTTP %d, want %d (%+v)", status, tt.status, a.Error)
			}
			if status == 200 {
				held := em.JDCloudBackends()
				if len(held) != before+1 || held[len(held)-1].BackendID != a.Result.BackendID {
					t.Errorf("answered %q; emulator holds %+v", a.Result.BackendID, held)
				}
				return
			}
			if a.Error == nil || a.Error.Status != tt.code || (tt.message != "" && a.Error.Message != tt.message) {
				t.Errorf("error %+v, want %s %q", a.Error, tt.code, tt.message)
			}
			if len(em.JDCloudBackends()) != before {
				t.Error("a refused request created a backend")
			}
		})
	}
}

// jdCreate returns a setup step that creates the backend body describes.
func jdCreate(body string) func(*testing.T, *emulator.Emulator, *httptest.Server) {
	return func(t *testing.T, _ *emulator.Emulator, srv *httptest.Server) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/v1/regions/cn-north-1/backends/", bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		s := &jdsign.Signer{Credentials: jdsign.Credentials{AccessKey: emulator.DemoAccessKey,
			SecretKey: redact.NewSecret(emulator.DemoSecretKey)}, Service: "lb", Region: "cn-north-1"}
		if err := s.Sign(req, []byte(body)); err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("setup create: %v %v", resp, err)
		}
		resp.Body.Close()
	}
}

func TestJDCloudDescribeBackends(t *testing.T) {
	em, srv := jdServer(t, emulator.Options{})
	jdCreate(jdBody)(t, em, srv)
	jdCreate(strings.Replace(jdBody, `"web"`, `"api"`, 1))(t, em, srv)
	jdCreate(strings.Replace(jdBody, `nlb-1`, `lb-1`, 1))(t, em, srv) // an alb
	list := "/v1/regions/cn-north-1/backends/?"
	tests := []struct {
		name, query string
		status      int
		names       []string
	}{
		{"by name and load balancer", "filters.1.name=backendNames&filters.1.values.1=web&filters.2.name=loadBalancerId&filters.2.values.1=nlb-1&loadBalancerType=nlb", 200, []string{"web"}},
		{"all nlb", "loadBalancerType=nlb", 200, []string{"web", "api"}},
		{"default type is alb", "filters.1.name=backendNames&filters.1.values.1=web", 200, []string{"web"}},
		{"alb misses the nlb backend", "filters.1.name=loadBalancerId&filters.1.values.1=nlb-1", 200, nil},
		{"several values", "filters.1.name=backendNames&filters.1.values.1=web&filters.1.values.2=api&loadBalancerType=nlb", 200, []string{"web", "api"}},
		{"unknown filter", "filters.1.name=color&filters.1.values.1=red", 400, nil},
		{"bad type", "loadBalancerType=elb", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, a := jdDo(t, srv, jdCall{method: "GET", path: list + jdsign.CanonicalQuery(tt.query)})
			if status != tt.status {
				t.Fatalf("HTTP %d, want %d (%+v)", status, tt.status, a.Error)
			}
			var got []string
			for _, b := range a.Result.Backends {
				got = append(got, b["backendName"].(string))
				if b["backendId"] == "" || b["protocol"] != "Tcp" || b["port"] != float64(80) {
					t.Errorf("backend view %v", b)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.names, ",") || a.Result.TotalCount != len(tt.names) {
				t.Errorf("listed %v (total %d), want %v", got, a.Result.TotalCount, tt.names)
			}
		})
	}
}
