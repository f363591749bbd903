package catalog_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/trigger"
)

// What README.md promises of requests that never reach a provider ("Functions" and "The
// result"), checked on every real operation through the HTTP trigger. None of
// these requests connects or sends anything, so no credentials or emulator are needed.

// serve POSTs body to function's HTTP trigger and returns the status and the result.
func serve(t *testing.T, function, body string) (int, map[string]any) {
	t.Helper()
	o, ok := catalog.Lookup(function)
	if !ok {
		t.Fatalf("no function %s", function)
	}
	w := httptest.NewRecorder()
	trigger.NewHTTPHandler(o, trigger.Options{}).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/"+function, strings.NewReader(body)))
	var res map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatalf("%s: the answer is not a JSON object: %s", function, w.Body)
	}
	return w.Code, res
}

// fields returns the violation fields of a failure result.
func fields(t *testing.T, res map[string]any) []string {
	t.Helper()
	e, _ := res["error"].(map[string]any)
	vs, ok := e["violations"].([]any)
	if !ok {
		t.Fatalf("result has no violations array: %v", res)
	}
	var out []string
	for _, v := range vs {
		out = append(out, v.(map[string]any)["field"].(string))
	}
	return out
}

// TestContractFailureExample checks the failure example of README.md ("The result"), byte for
// byte in meaning.
func TestContractFailureExample(t *testing.T) {
	const request = `{"region":"cn-north-4","projectId":"0123456789abcdef0123456789abcdef",
		"pool":{"protocol":"HTTP","lb_algorithm":"ROUND_ROBIN","listener_id":"0b11747a-b139-492f-9692-2df0b1c87193",
		"session_persistence":{"type":"APP_COOKIE"}}}`
	const want = `{"ok": false, "function": "huawei-create-pool", "provider": "huaweicloud",
 "error": {"kind": "validation", "message": "pool.session_persistence.cookie_name: required when type is APP_COOKIE",
           "retryable": false,
           "violations": [{"field": "pool.session_persistence.cookie_name", "message": "required when type is APP_COOKIE"}],
           "providerCode": "", "providerMessage": "", "httpStatus": 0, "requestId": ""}}`
	status, got := serve(t, "huawei-create-pool", request)
	var wantRes map[string]any
	if err := json.Unmarshal([]byte(want), &wantRes); err != nil {
		t.Fatal(err)
	}
	if status != http.StatusBadRequest || !reflect.DeepEqual(got, wantRes) {
		t.Errorf("status %d, result\n%v\nwant 400 and the README's example\n%v", status, got, wantRes)
	}
}

// TestContractRequestRules checks, for every function, the request rules every function shares.
func TestContractRequestRules(t *testing.T) {
	// The Huawei functions nest the provider's body under one key ("pool"); {{body}} in a
	// check's request and wanted fields stands for it.
	bodyKey := map[string]string{}
	var huawei []string
	for _, o := range catalog.Operations {
		if o.Provider() == "huaweicloud" {
			huawei = append(huawei, o.Function())
			bodyKey[o.Function()] = nestedBody(t, o.RequestType())
		}
	}
	type check struct {
		functions []string
		body      string
		want      []string // violation fields that must all be reported
	}
	all := catalog.Names()
	checks := map[string]check{
		"not an object: field \"\"": {all, `["a"]`, []string{""}},
		"null: field \"\"":          {all, `null`, []string{""}},
		"not JSON: field \"\"":      {all, `{"region"`, []string{""}},
		"unknown top-level field":   {all, `{"regoin":"x"}`, []string{"regoin"}},
		"common fields wrong type":  {all, `{"dryRun":"yes","idempotencyKey":1,"replyTo":true}`, []string{"dryRun", "idempotencyKey", "replyTo"}},
		"common fields not inside the body": {huawei, `{"region":"cn-north-4","{{body}}":{"dryRun":true,"idempotencyKey":"k","replyTo":"https://a.example/"}}`,
			[]string{"{{body}}.dryRun", "{{body}}.idempotencyKey", "{{body}}.replyTo"}},
		"projectId format":               {huawei, `{"region":"cn-north-4","projectId":"0123456789ABCDEF0123456789abcdef","{{body}}":{}}`, []string{"projectId"}},
		"at least one of: the first one": {[]string{"huawei-create-pool", "huawei-create-lbaas-pool"}, `{"region":"cn-north-4","pool":{"lb_algorithm":"ROUND_ROBIN","protocol":"TCP"}}`, []string{"pool.listener_id"}},
		"master-slave member index": {[]string{"huawei-create-master-slave-pool"}, `{"region":"cn-north-4","pool":{"lb_algorithm":"ROUND_ROBIN","protocol":"TCP","listener_id":"0b11747a-b139-492f-9692-2df0b1c87193",
			"members":[{"address":"172.16.0.210","protocol_port":80,"role":"master"},{"address":"172.16.0.211","protocol_port":80,"role":"backup"}],
			"healthmonitor":{"delay":1,"max_retries":3,"timeout":3,"type":"TCP"}}}`, []string{"pool.members[1].role"}},
		"jd httpCode index": {[]string{"jdcloud-create-backend"}, `{"regionId":"cn-north-1","backendName":"b","loadBalancerId":"alb-example","protocol":"Http","port":80,
			"healthCheckSpec":{"protocol":"Http","httpCode":["2xx","9xx"]}}`, []string{"healthCheckSpec.httpCode[1]"}},
		"common fields not inside a JD body":    {[]string{"jdcloud-create-backend"}, `{"healthCheckSpec":{"protocol":"Tcp","dryRun":true}}`, []string{"healthCheckSpec.dryRun"}},
		"common fields not inside a CTyun body": {[]string{"ctyun-create-policy"}, `{"targetGroup":{"name":"t","algorithm":"rr","idempotencyKey":"k"}}`, []string{"targetGroup.idempotencyKey"}},
	}
	for name, c := range checks {
		for _, fn := range c.functions {
			t.Run(name+"/"+fn, func(t *testing.T) {
				status, res := serve(t, fn, strings.ReplaceAll(c.body, "{{body}}", bodyKey[fn]))
				if status != http.StatusBadRequest || res["ok"] != false || res["function"] != fn {
					t.Fatalf("status %d, result %v; want 400 and a failure of %s", status, res, fn)
				}
				e := res["error"].(map[string]any)
				if e["kind"] != "validation" || e["retryable"] != false {
					t.Errorf("error %v, want a validation failure that is not retryable", e)
				}
				got := fields(t, res)
				for _, f := range c.want {
					if f = strings.ReplaceAll(f, "{{body}}", bodyKey[fn]); !slices.Contains(got, f) {
						t.Errorf("violations %v lack %q", got, f)
					}
				}
			})
		}
	}
}

// nestedBody returns the JSON name of the one field of a request type that holds the
// provider's body as an object (Huawei's "pool").
func nestedBody(t *testing.T, typ reflect.Type) string {
	t.Helper()
	var names []string
	for f := range typ.Fields() {
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); !f.Anonymous && ft.Kind() == reflect.Struct && name != "" {
			names = append(names, name)
		}
	}
	if len(names) != 1 {
		t.Fatalf("%v: want one field holding the body as an object, found %v", typ, names)
	}
	return names[0]
}

// TestContractDryRun checks that a dry run of every function's sample answers 200 validated
// with the result's fields, without credentials (nothing is sent).
func TestContractDryRun(t *testing.T) {
	for _, o := range catalog.Operations {
		fn := o.Function()
		t.Run(fn, func(t *testing.T) {
			sample := read(t, "events/"+fn+"/dry-run.json")
			status, res := serve(t, fn, sample)
			if status != http.StatusOK || res["ok"] != true || res["status"] != "validated" ||
				res["function"] != fn || res["provider"] != o.Provider() {
				t.Errorf("status %d, result %v; want 200 validated", status, res)
			}
		})
	}
}
