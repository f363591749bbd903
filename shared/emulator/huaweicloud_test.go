package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/auth/hwsign"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/redact"
)

const hwProject = emulator.DemoProjectID

var hwPaths = map[string]string{
	"v2":   "/v2/" + hwProject + "/elb/pools",
	"v2.0": "/v2.0/lbaas/pools",
	"v3":   "/v3/" + hwProject + "/elb/master-slave-pools",
}

var hwBodies = map[string]string{
	"v2":   `{"pool":{"protocol":"HTTP","lb_algorithm":"ROUND_ROBIN","loadbalancer_id":"lb-1","name":"web","session_persistence":{"type":"APP_COOKIE","cookie_name":"my_cookie","persistence_timeout":1}}}`,
	"v2.0": `{"pool":{"protocol":"HTTP","lb_algorithm":"ROUND_ROBIN","listener_id":"l-1","name":"web"}}`,
	"v3": `{"pool":{"lb_algorithm":"ROUND_ROBIN","protocol":"TCP","type":"ip","loadbalancer_id":"lb1","name":"web","members":[{"address":"10.0.0.1","protocol_port":80,"role":"master"},` +
		`{"address":"10.0.0.2","protocol_port":80,"role":"slave"}],"healthmonitor":{"delay":5,"max_retries":3,"timeout":3,"type":"TCP"}}}`,
}

type hwCall struct {
	method, path, body string
	project            string // X-Project-Id; "-" for none
	signer             hwsign.Signer
	tamper             func(*http.Request) // after signing
}

func hwDo(t *testing.T, srv *httptest.Server, c hwCall) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.project != "-" {
		p := c.project
		if p == "" {
			p = hwProject
		}
		req.Header.Set("X-Project-Id", p)
	}
	s := c.signer
	if s.AccessKey == "" {
		s = hwsign.Signer{AccessKey: emulator.DemoAccessKey, SecretKey: redact.NewSecret(emulator.DemoSecretKey)}
	}
	if c.project == "-" {
		s.SignedHeaders = []string{"host"}
	}
	if err := s.Sign(req, []byte(c.body)); err != nil {
		t.Fatal(err)
	}
	if c.tamper != nil {
		c.tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("answer %d is not JSON: %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header, body
}

func TestHuaweiCreateAnswers(t *testing.T) {
	srv := httptest.NewServer(emulator.New(emulator.Options{}))
	defer srv.Close()
	for api, path := range hwPaths {
		t.Run(api, func(t *testing.T) {
			status, h, body := hwDo(t, srv, hwCall{method: "POST", path: path, body: hwBodies[api]})
			if status != http.StatusCreated || h.Get("X-Request-Id") == "" {
				t.Fatalf("status %d, headers %v, body %v", status, h, body)
			}
			pool, _ := body["pool"].(map[string]any)
			if pool == nil || pool["id"] == "" || pool["name"] != "web" || pool["project_id"] != hwProject {
				t.Fatalf("pool %v", body)
			}
			_, hasRID := body["request_id"]
			if hasRID != (api == "v3") {
				t.Errorf("request_id present: %v", hasRID)
			}
			switch api {
			case "v2":
				sp := pool["session_persistence"].(map[string]any)
				if pool["protection_status"] != "nonProtection" || pool["tenant_id"] != hwProject || sp["cookie_name"] != "my_cookie" {
					t.Errorf("v2 pool %v", pool)
				}
			case "v2.0":
				if pool["session_persistence"] != nil || len(pool["listeners"].([]any)) != 1 {
					t.Errorf("v2.0 pool %v", pool)
				}
			case "v3":
				hm := pool["healthmonitor"].(map[string]any)
				members := pool["members"].([]any)
				if hm["id"] == "" || hm["max_retries_down"] != 3.0 || len(members) != 2 || members[1].(map[string]any)["role"] != "slave" {
					t.Errorf("v3 pool %v", pool)
				}
			}
			// Listing by name finds it, and only with the right name.
			status, _, list := hwDo(t, srv, hwCall{method: "GET", path: path + "?name=web"})
			if status != 200 || len(list["pools"].([]any)) != 1 {
				t.Errorf("list: %d %v", status, list)
			}
			_, _, none := hwDo(t, srv, hwCall{method: "GET", path: path + "?name=other"})
			if len(none["pools"].([]any)) != 0 {
				t.Errorf("list by another name: %v", none)
			}
		})
	}
}

func TestHuaweiRefusals(t *testing.T) {
	stale := hwsign.Signer{AccessKey: emulator.DemoAccessKey, SecretKey: redact.NewSecret(emulator.DemoSecretKey),
		Now: func() time.Time { return time.Now().Add(-16 * time.Minute) }}
	wrong := hwsign.Signer{AccessKey: emulator.DemoAccessKey, SecretKey: redact.NewSecret("wrong")}
	body := hwBodies["v3"]
	tests := []struct {
		name   string
		call   hwCall
		status int
		code   string
		msg    string
	}{
		{"tampered body", hwCall{method: "POST", path: hwPaths["v3"], body: body, tamper: func(r *http.Request) {
			b := strings.Replace(body, "10.0.0.2", "10.0.0.3", 1)
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(b)), int64(len(b))
		}}, 401, "APIGW.0301", "does not match"},
		{"wrong secret", hwCall{method: "POST", path: hwPaths["v3"], body: body, signer: wrong}, 401, "APIGW.0301", "does not match"},
		{"stale date", hwCall{method: "POST", path: hwPaths["v3"], body: body, signer: stale}, 401, "APIGW.0301", "signature expired"},
		{"no X-Project-Id", hwCall{method: "POST", path: hwPaths["v2.0"], body: hwBodies["v2.0"], project: "-"}, 401, "APIGW.0301", "X-Project-Id"},
		{"X-Project-Id differs from the path", hwCall{method: "POST", path: "/v3/" + strings.Repeat("b", 32) + "/elb/master-slave-pools", body: body},
			401, "APIGW.0301", "does not match the project"},
		{"not a project id", hwCall{method: "POST", path: "/v2.0/lbaas/pools", body: hwBodies["v2.0"], project: strings.Repeat("C", 32)},
			401, "APIGW.0301", "not a project id"},
		{"a project id too short", hwCall{method: "POST", path: "/v2/0123456789abcdef/elb/pools", body: hwBodies["v2"], project: "0123456789abcdef"},
			401, "APIGW.0301", "not a project id"},
		{"missing field", hwCall{method: "POST", path: hwPaths["v2"], body: `{"pool":{"lb_algorithm":"ROUND_ROBIN","loadbalancer_id":"lb-1"}}`},
			400, "ELB.9805", "pool.protocol: required"},
		{"invalid value", hwCall{method: "POST", path: hwPaths["v3"], body: strings.Replace(body, `"slave"`, `"master"`, 1)},
			400, "ELB.8902", "pool.members[1].role"},
		{"unknown field", hwCall{method: "POST", path: hwPaths["v2.0"], body: `{"pool":{"protocol":"HTTP","lb_algorithm":"ROUND_ROBIN","listener_id":"l","colour":"red"}}`},
			400, "ELB.8902", "pool.colour: unknown field"},
		{"not JSON", hwCall{method: "POST", path: hwPaths["v2"], body: `pool`}, 400, "ELB.8902", "not valid JSON"},
		{"missing listener", hwCall{method: "POST", path: hwPaths["v2.0"], body: strings.Replace(hwBodies["v2.0"], "l-1", "l-gone", 1)},
			404, "ELB.8904", "l-gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := emulator.New(emulator.Options{})
			e.SetHuaweiMissing("l-gone")
			srv := httptest.NewServer(e)
			defer srv.Close()
			status, h, answer := hwDo(t, srv, tt.call)
			if status != tt.status || answer["error_code"] != tt.code || !strings.Contains(answer["error_msg"].(string), tt.msg) {
				t.Fatalf("got %d %v, want %d %s containing %q", status, answer, tt.status, tt.code, tt.msg)
			}
			if answer["request_id"] == "" || answer["request_id"] != h.Get("X-Request-Id") {
				t.Errorf("request id: body %v, header %q", answer["request_id"], h.Get("X-Request-Id"))
			}
			if strings.Contains(answer["error_msg"].(string), emulator.DemoSecretKey) {
				t.Error("the secret leaked")
			}
			if e.HuaweiPoolCount() != 0 {
				t.Error("a pool was created")
			}
		})
	}
}

func TestHuaweiQuotaAndToken(t *testing.T) {
	e := emulator.New(emulator.Options{SecurityToken: redact.NewSecret("tok")})
	srv := httptest.NewServer(e)
	defer srv.Close()
	withToken := hwsign.Signer{AccessKey: emulator.DemoAccessKey, SecretKey: redact.NewSecret(emulator.DemoSecretKey), SecurityToken: redact.NewSecret("tok")}
	if status, _, a := hwDo(t, srv, hwCall{method: "POST", path: hwPaths["v2"], body: hwBodies["v2"]}); status != 401 {
		t.Fatalf("without the token: %d %v", status, a)
	}
	e.SetHuaweiQuota(2)
	for i, want := range []int{201, 201, 409} {
		status, _, a := hwDo(t, srv, hwCall{method: "POST", path: hwPaths["v2"], body: hwBodies["v2"], signer: withToken})
		if status != want || (want == 409 && a["error_code"] != "ELB.8905") {
			t.Errorf("create %d: %d %v, want %d", i, status, a, want)
		}
	}
	if n := e.HuaweiPoolCount(); n != 2 {
		t.Errorf("%d pools, want 2", n)
	}
	e.SetHuaweiQuota(-1)
	if status, _, _ := hwDo(t, srv, hwCall{method: "POST", path: hwPaths["v2"], body: hwBodies["v2"], signer: withToken}); status != 201 {
		t.Errorf("without a quota: %d", status)
	}
}

// TestHuaweiAnyProject: like LocalStack's accounts, the demo credentials own every well-formed
// project id (the providers' own examples carry theirs), and each project keeps its own pools;
// Options.HuaweiProjects binds them to the projects named.
func TestHuaweiAnyProject(t *testing.T) {
	const seedV2, seedV3 = "601240b9c5c94059b63d484c92cfe308", "99a3fff0d03c428eac3678da6a7d0f24"
	tests := []struct {
		name    string
		opts    emulator.Options
		project string
		want    int
	}{
		{"the default project", emulator.Options{}, emulator.DemoProjectID, 201},
		{"the v2 page's project", emulator.Options{}, seedV2, 201},
		{"the v3 page's project", emulator.Options{}, seedV3, 201},
		{"bound: its project", emulator.Options{HuaweiProjects: []string{seedV2}}, seedV2, 201},
		{"bound: another project", emulator.Options{HuaweiProjects: []string{seedV2}}, seedV3, 401},
		{"bound to the default: the old strict demo", emulator.Options{HuaweiProjects: []string{emulator.DemoProjectID}}, seedV2, 401},
		{"bound: not even the default", emulator.Options{HuaweiProjects: []string{seedV2}}, emulator.DemoProjectID, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(emulator.New(tt.opts))
			defer srv.Close()
			for api, path := range map[string]string{"v2": "/v2/" + tt.project + "/elb/pools",
				"v3": "/v3/" + tt.project + "/elb/master-slave-pools", "v2.0": "/v2.0/lbaas/pools"} {
				status, _, answer := hwDo(t, srv, hwCall{method: "POST", path: path, body: hwBodies[api], project: tt.project})
				if status != tt.want {
					t.Fatalf("%s in project %s: %d %v, want %d", api, tt.project, status, answer, tt.want)
				}
				if status != 201 {
					continue
				}
				if pool, _ := answer["pool"].(map[string]any); pool["project_id"] != tt.project {
					t.Errorf("%s: pool %v, want project_id %s", api, answer["pool"], tt.project)
				}
				// The pool is listed in its own project only.
				list := strings.Replace(path, tt.project, strings.Repeat("e", 32), 1)
				if api == "v2.0" {
					continue
				}
				if _, _, other := hwDo(t, srv, hwCall{method: "GET", path: list, project: strings.Repeat("e", 32)}); tt.opts.HuaweiProjects == nil &&
					len(other["pools"].([]any)) != 0 {
					t.Errorf("%s: another project lists %v", api, other["pools"])
				}
			}
		})
	}
}
