package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/auth/hwsign"
	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/validate"
)

// testWidget is a made-up object (ELB has none) of a second kind beside the pools, in the
// same API version: what a listener or member collection would be.
type testWidget struct {
	Name string `json:"name"`
	Size *int   `json:"size"`
}

func (w *testWidget) Validate(v *validate.Report, path string) {
	if v.Required(validate.Join(path, "size"), w.Size != nil) {
		v.Range(validate.Join(path, "size"), w.Size, 1, 9)
	}
}

var testWidgets = huaweiCollection{
	path: "/v2/{project_id}/elb/widgets", key: "widget", listKey: "widgets",
	decode: func(ctx context.Context, key string, body []byte) (huaweiDecoded, []validate.Violation) {
		w, vs := huaweiDecodeBody[testWidget](ctx, key, body)
		if vs != nil {
			return huaweiDecoded{}, vs
		}
		return huaweiDecoded{name: w.Name, answer: func(id, project string, _ time.Time) map[string]any {
			return map[string]any{"id": id, "name": w.Name, "size": *w.Size, "project_id": project}
		}}, nil
	},
}

// TestHuaweiKinds: a second kind of object in the v2 API is decoded at its own body key,
// listed apart from the v2 pools though both are "v2" and share a name, and counted apart
// by the quota.
func TestHuaweiKinds(t *testing.T) {
	e := New(Options{})
	e.huaweiServe(testWidgets)
	srv := httptest.NewServer(e)
	defer srv.Close()
	const pools, widgets = "/v2/" + DemoProjectID + "/elb/pools", "/v2/" + DemoProjectID + "/elb/widgets"
	do := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Project-Id", DemoProjectID)
		s := hwsign.Signer{AccessKey: DemoAccessKey, SecretKey: redact.NewSecret(DemoSecretKey)}
		if err := s.Sign(req, []byte(body)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		var answer map[string]any
		if err := json.Unmarshal(b.Bytes(), &answer); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b.Bytes())
		}
		return resp.StatusCode, answer
	}
	e.SetHuaweiQuota(1)
	for _, c := range []struct {
		name, path, body string
		status           int
		want             string // in the answer
	}{
		{"a pool", pools, `{"pool":{"protocol":"HTTP","lb_algorithm":"ROUND_ROBIN","loadbalancer_id":"lb-1","name":"web"}}`, 201, `"pool":`},
		{"a widget of the same name, under a quota of one per kind", widgets, `{"widget":{"name":"web","size":3}}`, 201, `"widget":`},
		{"a second widget is over the quota", widgets, `{"widget":{"name":"other","size":3}}`, 409, `ELB.8905`},
		{"its rules are the widget's", widgets, `{"widget":{"name":"web","size":10}}`, 400, `widget.size`},
		{"the body key is the collection's", widgets, `{"pool":{"name":"web","size":3}}`, 400, `pool: unknown field`},
		{"and required", widgets, `{}`, 400, `widget: required`},
		{"the pools list only the pool", pools + "?name=web", ``, 200, `"lb_algorithm":"ROUND_ROBIN"`},
		{"the widgets list only the widget", widgets + "?name=web", ``, 200, `"size":3`},
	} {
		method := http.MethodPost
		if c.body == "" {
			method = http.MethodGet
		}
		status, answer := do(method, c.path, c.body)
		raw, _ := json.Marshal(answer)
		if status != c.status || !strings.Contains(string(raw), c.want) {
			t.Errorf("%s: %d %s, want %d with %s", c.name, status, raw, c.status, c.want)
		}
		if method == http.MethodGet {
			var list []any
			for _, k := range []string{"pools", "widgets"} {
				if l, ok := answer[k].([]any); ok {
					list = l
				}
			}
			if len(list) != 1 {
				t.Errorf("%s: %d listed, want 1: %s", c.name, len(list), raw)
			}
		}
	}
	if n := e.HuaweiPoolCount(); n != 1 {
		t.Errorf("HuaweiPoolCount %d, want 1 (widgets are not pools)", n)
	}
}
