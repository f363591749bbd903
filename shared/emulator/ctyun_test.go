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

	"github.com/lbfn/lbfn/shared/auth/eopsign"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/redact"
)

const ctyunPath = "/v4/elb/async-create-policy"

func ctyunBody(token string) string {
	return `{"clientToken":"` + token + `","regionID":"81f7728662dd11ec810800155d307d5b","listenerID":"lb-ai7x5ulq4t",` +
		`"name":"yacos-test-tmp","description":"yacos-test-tmp","targetGroup":{"name":"test","algorithm":"rr"},` +
		`"conditions":[{"ruleType":"PATH","matchType":"STARTS_WITH","matchValue":"/foo"}]}`
}

// ctyunPost sends body signed by signer (nil: unsigned) and returns the status and body.
func ctyunPost(t *testing.T, url string, body string, signer *eopsign.Signer, edit func(*http.Request)) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+ctyunPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "test")
	if signer != nil {
		if err := signer.Sign(req, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func demoSigner() *eopsign.Signer {
	return &eopsign.Signer{AccessKey: emulator.DemoAccessKey, SecretKey: redact.NewSecret(emulator.DemoSecretKey)}
}

func ctyunServer(t *testing.T, opts emulator.Options) (*emulator.Emulator, string) {
	emu := emulator.New(opts)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, srv.URL
}

// The walk: in_progress for CTyunPolls calls, then done with one stable policyID, in the
// documented envelope exactly.
func TestCTyunWalk(t *testing.T) {
	emu, url := ctyunServer(t, emulator.Options{CTyunPolls: 2})
	inProgress := `{"statusCode":800,"message":"success","description":"成功","errorCode":"SUCCESS",` +
		`"returnObj":{"status":"in_progress","message":"请使用相同请求,进行重试","policyID":null}}`
	for i := range 2 {
		status, body := ctyunPost(t, url, ctyunBody("tok-1"), demoSigner(), nil)
		if status != 200 || body != inProgress {
			t.Fatalf("call %d: %d %s\nwant %s", i+1, status, body, inProgress)
		}
	}
	var ids []string
	for range 2 {
		status, body := ctyunPost(t, url, ctyunBody("tok-1"), demoSigner(), nil)
		var env struct {
			StatusCode int
			ReturnObj  struct{ Status, PolicyID string }
		}
		if err := json.Unmarshal([]byte(body), &env); err != nil || status != 200 || env.StatusCode != 800 || env.ReturnObj.Status != "done" || env.ReturnObj.PolicyID == "" {
			t.Fatalf("after the walk: %d %s", status, body)
		}
		ids = append(ids, env.ReturnObj.PolicyID)
	}
	if id, ok := emu.CTyunPolicy("tok-1"); ids[0] != ids[1] || !ok || id != ids[0] {
		t.Errorf("policy ids %v, emulator %q", ids, id)
	}
	// Another token walks on its own.
	if _, body := ctyunPost(t, url, ctyunBody("tok-2"), demoSigner(), nil); !strings.Contains(body, "in_progress") {
		t.Errorf("new token: %s", body)
	}
}

func TestCTyunDoneAfter(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	_, url := ctyunServer(t, emulator.Options{CTyunDoneAfter: 10 * time.Second, Now: clock})
	signer := demoSigner()
	signer.Now = clock
	for _, step := range []struct {
		advance time.Duration
		want    string
	}{{0, "in_progress"}, {9 * time.Second, "in_progress"}, {time.Second, `"status":"done"`}} {
		now = now.Add(step.advance)
		if _, body := ctyunPost(t, url, ctyunBody("tok"), signer, nil); !strings.Contains(body, step.want) {
			t.Errorf("after %v: %s, want %s", step.advance, body, step.want)
		}
	}
}

func TestCTyunRefusals(t *testing.T) {
	signedAt := time.Now()
	stale := demoSigner()
	stale.Now = func() time.Time { return signedAt.Add(-16 * time.Minute) }
	utc := demoSigner() // a signer that forgot Beijing time
	tests := []struct {
		name     string
		body     string
		signer   *eopsign.Signer
		edit     func(*http.Request)
		status   int
		wantBody string
	}{
		{"unsigned", ctyunBody("t"), nil, nil, 401, `"errorCode":"Openapi.Signature.Invalid"`},
		{"wrong secret", ctyunBody("t"), &eopsign.Signer{AccessKey: emulator.DemoAccessKey, SecretKey: redact.NewSecret("nope")}, nil, 401, "signature verification failed"},
		{"unknown key", ctyunBody("t"), &eopsign.Signer{AccessKey: "AK2", SecretKey: redact.NewSecret(emulator.DemoSecretKey)}, nil, 401, "unknown access key"},
		{"stale date", ctyunBody("t"), stale, nil, 401, "15 minutes"},
		{"UTC date", ctyunBody("t"), utc, func(r *http.Request) {
			// re-sign by hand with a UTC date: the signature matches, the date is 8 hours off
			date := time.Now().UTC().Format(eopsign.DateFormat)
			id := r.Header.Get(eopsign.HeaderRequestID)
			r.Header.Set(eopsign.HeaderDate, date)
			r.Header.Set(eopsign.HeaderAuthorization, eopsign.Authorization(emulator.DemoAccessKey,
				eopsign.Signature(emulator.DemoAccessKey, emulator.DemoSecretKey, id, date, "", []byte(ctyunBody("t")))))
		}, 401, "Beijing time"},
		{"tampered body", ctyunBody("t"), demoSigner(), func(r *http.Request) {
			b := []byte(strings.Replace(ctyunBody("t"), "rr", "lc", 1))
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}, 401, "signature verification failed"},
		{"no User-Agent", ctyunBody("t"), demoSigner(), func(r *http.Request) { r.Header.Set("User-Agent", "") }, 403, "User-Agent"},
		{"broken rules", strings.Replace(ctyunBody("t"), `"algorithm":"rr"`, `"algorithm":"wrr"`, 1), demoSigner(), nil, 200,
			`"statusCode":900,"message":"invalid parameter: targetGroup.algorithm: must be one of rr, lc, got \"wrr\""`},
		{"no clientToken", strings.Replace(ctyunBody(""), `"clientToken":"",`, "", 1), demoSigner(), nil, 200, `"errorCode":"ELB.Policy.InvalidParameter"`},
		{"unknown field", strings.Replace(ctyunBody("t"), `"name":"test"`, `"name":"test","dryRun":true`, 1), demoSigner(), nil, 200, "targetGroup.dryRun: unknown field"},
		{"not JSON", "{", demoSigner(), nil, 200, `"statusCode":900`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, url := ctyunServer(t, emulator.Options{})
			status, body := ctyunPost(t, url, tt.body, tt.signer, tt.edit)
			if status != tt.status || !strings.Contains(body, tt.wantBody) {
				t.Errorf("%d %s\nwant %d with %s", status, body, tt.status, tt.wantBody)
			}
			if strings.Contains(body, emulator.DemoSecretKey) {
				t.Error("the answer shows the secret key")
			}
			if _, ok := emu.CTyunPolicy("t"); ok {
				t.Error("a refused request created a policy")
			}
		})
	}
}

// A clientToken names one creation: the same token with another body is refused.
func TestCTyunTokenReuse(t *testing.T) {
	_, url := ctyunServer(t, emulator.Options{})
	ctyunPost(t, url, ctyunBody("tok"), demoSigner(), nil)
	// The same request re-encoded (other key order, spacing) is the same request.
	var m map[string]any
	_ = json.Unmarshal([]byte(ctyunBody("tok")), &m)
	same, _ := json.MarshalIndent(m, "", "  ")
	if _, body := ctyunPost(t, url, string(same), demoSigner(), nil); !strings.Contains(body, "in_progress") {
		t.Errorf("same request re-encoded: %s", body)
	}
	other := strings.Replace(ctyunBody("tok"), "yacos-test-tmp", "other-name", 1)
	if status, body := ctyunPost(t, url, other, demoSigner(), nil); status != 200 || !strings.Contains(body, `"statusCode":900`) ||
		!strings.Contains(body, emulator.CTyunCodeTokenMismatch) {
		t.Errorf("other body, same token: %d %s", status, body)
	}
}

func TestCTyunScript(t *testing.T) {
	emu, url := ctyunServer(t, emulator.Options{CTyunPolls: -1})
	emu.ScriptCTyun("tok", emulator.CTyunAnswer{}, emulator.CTyunAnswer{Status: "done", NoPolicyID: true},
		emulator.CTyunAnswer{Status: "paused"}, emulator.CTyunAnswer{ErrorCode: "ELB.X.Y", Message: "m", Description: "d"})
	for _, want := range []string{`"status":"in_progress"`, `"status":"done","message":"创建完成","policyID":null`,
		`"status":"paused"`, `{"statusCode":900,"message":"m","description":"d","errorCode":"ELB.X.Y","error":"ELB.X.Y"}`,
		`"status":"done"`} {
		if _, body := ctyunPost(t, url, ctyunBody("tok"), demoSigner(), nil); !strings.Contains(body, want) {
			t.Errorf("%s, want %s", body, want)
		}
	}
}
