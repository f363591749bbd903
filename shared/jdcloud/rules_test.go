package jdcloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/jdcloud"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

var update = flag.Bool("update", false, "rewrite RULES.md from the rules table")

// baseRequest is a valid request every rule case patches: the body of the createBackend
// signing vector (shared/auth/jdsign/jdsign_test.go), without its algorithm.
const baseRequest = `{"regionId":"cn-north-1","backendName":"demo-backend","loadBalancerId":"nlb-example",` +
	`"protocol":"Tcp","port":80,"healthCheckSpec":{"protocol":"Tcp"}}`

// Sources of the rules.
const (
	seed    = "createBackend page"
	sdk     = "SDK model"
	derived = "derived (Http backends are alb only; QuintupleHash is dnlb only)"
	readme  = "README.md (Functions)"
)

// rule is one documented rule with a valid and an invalid request, each a JSON merge patch
// (RFC 7396: null removes a member) of baseRequest, and the one field the invalid request
// must be reported at.
type rule struct {
	id, text, source string
	valid, invalid   string
	field            string
}

var rules = []rule{
	{"regionId-required", "regionId is required", seed, `{}`, `{"regionId":null}`, "regionId"},
	{"regionId-format", "regionId looks like cn-north-1 (^cn-[a-z]+-[0-9]+$)", "JD Cloud's regions", `{"regionId":"cn-east-2"}`, `{"regionId":"north-1"}`, "regionId"},
	{"backendName-required", "backendName is required, not empty", seed, `{}`, `{"backendName":""}`, "backendName"},
	{"backendName-length", "backendName is at most 32 characters", seed, `{"backendName":"` + strings.Repeat("后", 32) + `"}`, `{"backendName":"` + strings.Repeat("a", 33) + `"}`, "backendName"},
	{"backendName-chars", "backendName: Chinese, letters, digits, _ and - only", seed, `{"backendName":"后端_web-01"}`, `{"backendName":"web 01"}`, "backendName"},
	{"loadBalancerId-required", "loadBalancerId is required", seed, `{}`, `{"loadBalancerId":null}`, "loadBalancerId"},
	{"protocol-required", "protocol is required", seed, `{}`, `{"protocol":null}`, "protocol"},
	{"protocol-enum", "protocol is Http, Tcp or Udp", seed, `{"protocol":"Udp"}`, `{"protocol":"HTTP"}`, "protocol"},
	{"port-required", "port is required", seed, `{}`, `{"port":null}`, "port"},
	{"port-range", "port is 1-65535", seed, `{"port":65535}`, `{"port":0}`, "port"},
	{"port-type", "port is an integer", readme, `{"port":1}`, `{"port":"80"}`, "port"},
	{"healthCheckSpec-required", "healthCheckSpec is required", seed, `{}`, `{"healthCheckSpec":null}`, "healthCheckSpec"},
	{"algorithm-enum", "algorithm is IpHash, RoundRobin, LeastConn (alb, nlb) or QuintupleHash (dnlb)", seed, `{"algorithm":"LeastConn"}`, `{"algorithm":"Random"}`, "algorithm"},
	{"algorithm-quintuple-not-http", "QuintupleHash (dnlb) is not for Http backends", derived, `{"algorithm":"QuintupleHash"}`, `{"protocol":"Http","algorithm":"QuintupleHash"}`, "algorithm"},
	{"targetGroupIds-one", "targetGroupIds holds one id (目前只支持一个)", seed, `{"targetGroupIds":["tg-1"]}`, `{"targetGroupIds":["tg-1","tg-2"]}`, "targetGroupIds"},
	{"targetGroupIds-item", "targetGroupIds items are not empty", seed, `{"targetGroupIds":["tg-1"]}`, `{"targetGroupIds":[""]}`, "targetGroupIds[0]"},
	{"agIds-one", "agIds holds one id (目前只支持一个)", seed, `{"agIds":["ag-1"]}`, `{"agIds":["ag-1","ag-2"]}`, "agIds"},
	{"agIds-item", "agIds items are not empty", seed, `{"agIds":["ag-1"]}`, `{"agIds":[""]}`, "agIds[0]"},
	{"agIds-xor-targetGroupIds", "agIds and targetGroupIds are not both given", seed, `{"agIds":["ag-1"]}`, `{"targetGroupIds":["tg-1"],"agIds":["ag-1"]}`, "agIds"},
	{"agInfoSpec-agId", "agInfoSpec[].agId is required", sdk, `{"agInfoSpec":[{"agId":"ag-1","defaultWeight":10}]}`, `{"agInfoSpec":[{"defaultWeight":10}]}`, "agInfoSpec[0].agId"},
	{"agInfoSpec-one", "agInfoSpec holds one group (it stands for agIds)", sdk, `{"agInfoSpec":[{"agId":"ag-1"}]}`, `{"agInfoSpec":[{"agId":"ag-1"},{"agId":"ag-2"}]}`, "agInfoSpec"},
	{"agInfoSpec-xor-targetGroupIds", "agInfoSpec and targetGroupIds are not both given", sdk, `{"agInfoSpec":[{"agId":"ag-1"}],"agIds":["ag-1"]}`, `{"agInfoSpec":[{"agId":"ag-1"}],"targetGroupIds":["tg-1"]}`, "agInfoSpec"},
	{"proxyProtocol-not-http", "proxyProtocol only with Tcp or Udp", seed, `{"proxyProtocol":true}`, `{"protocol":"Http","proxyProtocol":true}`, "proxyProtocol"},
	{"description-length", "description is at most 256 characters", seed, `{"description":"` + strings.Repeat("描", 256) + `"}`, `{"description":"` + strings.Repeat("d", 257) + `"}`, "description"},
	{"sessionStickyTimeout-range", "sessionStickyTimeout is 1-3600", seed, `{"sessionStickiness":true,"sessionStickyTimeout":3600}`, `{"sessionStickyTimeout":0}`, "sessionStickyTimeout"},
	{"connectionDrainingSeconds-range", "connectionDrainingSeconds is 0-3600", seed, `{"connectionDrainingSeconds":0}`, `{"connectionDrainingSeconds":3601}`, "connectionDrainingSeconds"},
	{"sessionStickiness-http-roundrobin", "cookie stickiness of Http backends needs RoundRobin", seed, `{"protocol":"Http","sessionStickiness":true,"algorithm":"RoundRobin"}`, `{"protocol":"Http","sessionStickiness":true,"algorithm":"IpHash"}`, "sessionStickiness"},
	{"httpCookieExpireSeconds-range", "httpCookieExpireSeconds is 0-86400", seed, `{"protocol":"Http","httpCookieExpireSeconds":86400}`, `{"protocol":"Http","httpCookieExpireSeconds":86401}`, "httpCookieExpireSeconds"},
	{"httpCookieExpireSeconds-http", "httpCookieExpireSeconds only with protocol Http", seed, `{"protocol":"Http","httpCookieExpireSeconds":0}`, `{"httpCookieExpireSeconds":0}`, "httpCookieExpireSeconds"},
	{"httpForwardedProtocol-http", "httpForwardedProtocol only with protocol Http", seed, `{"protocol":"Http","httpForwardedProtocol":true}`, `{"httpForwardedProtocol":true}`, "httpForwardedProtocol"},
	{"httpForwardedPort-http", "httpForwardedPort only with protocol Http", seed, `{"protocol":"Http","httpForwardedPort":true}`, `{"httpForwardedPort":false}`, "httpForwardedPort"},
	{"httpForwardedHost-http", "httpForwardedHost only with protocol Http", seed, `{"protocol":"Http","httpForwardedHost":true}`, `{"httpForwardedHost":true}`, "httpForwardedHost"},
	{"httpForwardedVip-http", "httpForwardedVip only with protocol Http", seed, `{"protocol":"Http","httpForwardedVip":true}`, `{"httpForwardedVip":true}`, "httpForwardedVip"},
	{"httpForwardedClientPort-http", "httpForwardedClientPort only with protocol Http", seed, `{"protocol":"Http","httpForwardedClientPort":true}`, `{"httpForwardedClientPort":true}`, "httpForwardedClientPort"},
	{"hc-protocol-required", "healthCheckSpec.protocol is required", sdk, `{}`, `{"healthCheckSpec":{"protocol":null}}`, "healthCheckSpec.protocol"},
	{"hc-protocol-enum", "healthCheckSpec.protocol is Http, Tcp or Icmp", sdk, `{"healthCheckSpec":{"protocol":"Http"}}`, `{"healthCheckSpec":{"protocol":"Udp"}}`, "healthCheckSpec.protocol"},
	{"hc-icmp-udp-only", "Icmp health checks only for Udp backends", sdk, `{"protocol":"Udp","healthCheckSpec":{"protocol":"Icmp"}}`, `{"healthCheckSpec":{"protocol":"Icmp"}}`, "healthCheckSpec.protocol"},
	{"hc-dnlb-no-http", "dnlb (QuintupleHash) health checks are Tcp or Icmp", sdk, `{"algorithm":"QuintupleHash","healthCheckSpec":{"protocol":"Tcp"}}`, `{"algorithm":"QuintupleHash","healthCheckSpec":{"protocol":"Http"}}`, "healthCheckSpec.protocol"},
	{"hc-port-range", "healthCheckSpec.port is 0-65535", sdk, `{"healthCheckSpec":{"port":0}}`, `{"healthCheckSpec":{"port":65536}}`, "healthCheckSpec.port"},
	{"hc-port-not-icmp", "healthCheckSpec.port not with Icmp", sdk, `{"protocol":"Udp","healthCheckSpec":{"protocol":"Icmp"}}`, `{"protocol":"Udp","healthCheckSpec":{"protocol":"Icmp","port":53}}`, "healthCheckSpec.port"},
	{"hc-healthyThresholdCount", "healthCheckSpec.healthyThresholdCount is 1-5", sdk, `{"healthCheckSpec":{"healthyThresholdCount":5}}`, `{"healthCheckSpec":{"healthyThresholdCount":6}}`, "healthCheckSpec.healthyThresholdCount"},
	{"hc-unhealthyThresholdCount", "healthCheckSpec.unhealthyThresholdCount is 1-5", sdk, `{"healthCheckSpec":{"unhealthyThresholdCount":1}}`, `{"healthCheckSpec":{"unhealthyThresholdCount":0}}`, "healthCheckSpec.unhealthyThresholdCount"},
	{"hc-checkTimeoutSeconds", "healthCheckSpec.checkTimeoutSeconds is 2-60", sdk, `{"healthCheckSpec":{"checkTimeoutSeconds":60}}`, `{"healthCheckSpec":{"checkTimeoutSeconds":1}}`, "healthCheckSpec.checkTimeoutSeconds"},
	{"hc-intervalSeconds", "healthCheckSpec.intervalSeconds is 5-300", sdk, `{"healthCheckSpec":{"intervalSeconds":300}}`, `{"healthCheckSpec":{"intervalSeconds":4}}`, "healthCheckSpec.intervalSeconds"},
	{"hc-httpVersion", "healthCheckSpec.httpVersion is HTTP1.0 or HTTP1.1", sdk, `{"healthCheckSpec":{"protocol":"Http","httpVersion":"HTTP1.1"}}`, `{"healthCheckSpec":{"protocol":"Http","httpVersion":"HTTP2"}}`, "healthCheckSpec.httpVersion"},
	{"hc-httpDomain-http", "healthCheckSpec.httpDomain only with Http health checks", sdk, `{"healthCheckSpec":{"protocol":"Http","httpDomain":"www.example.com"}}`, `{"healthCheckSpec":{"httpDomain":"www.example.com"}}`, "healthCheckSpec.httpDomain"},
	{"hc-httpDomain-format", "healthCheckSpec.httpDomain: letters, digits, - and .", sdk, `{"healthCheckSpec":{"protocol":"Http","httpDomain":"a-1.example.com"}}`, `{"healthCheckSpec":{"protocol":"Http","httpDomain":"example.com/x"}}`, "healthCheckSpec.httpDomain"},
	{"hc-httpDomain-length", "healthCheckSpec.httpDomain is at most 255 characters", sdk, `{"healthCheckSpec":{"protocol":"Http","httpDomain":"` + strings.Repeat("a", 255) + `"}}`, `{"healthCheckSpec":{"protocol":"Http","httpDomain":"` + strings.Repeat("a", 256) + `"}}`, "healthCheckSpec.httpDomain"},
	{"hc-httpPath-http", "healthCheckSpec.httpPath only with Http health checks", sdk, `{"healthCheckSpec":{"protocol":"Http","httpPath":"/health"}}`, `{"healthCheckSpec":{"httpPath":"/health"}}`, "healthCheckSpec.httpPath"},
	{"hc-httpPath-slash", "healthCheckSpec.httpPath starts with /", sdk, `{"healthCheckSpec":{"protocol":"Http","httpPath":"/"}}`, `{"healthCheckSpec":{"protocol":"Http","httpPath":"health"}}`, "healthCheckSpec.httpPath"},
	{"hc-httpPath-length", "healthCheckSpec.httpPath is at most 1000 characters", sdk, `{"healthCheckSpec":{"protocol":"Http","httpPath":"/` + strings.Repeat("p", 999) + `"}}`, `{"healthCheckSpec":{"protocol":"Http","httpPath":"/` + strings.Repeat("p", 1000) + `"}}`, "healthCheckSpec.httpPath"},
	{"hc-httpCode-http", "healthCheckSpec.httpCode only with Http health checks", sdk, `{"healthCheckSpec":{"protocol":"Http","httpCode":["2xx"]}}`, `{"healthCheckSpec":{"httpCode":["2xx"]}}`, "healthCheckSpec.httpCode"},
	{"hc-httpCode-item", "healthCheckSpec.httpCode items are 200-499, a range like 201-205, or 2xx/3xx/4xx", sdk, `{"healthCheckSpec":{"protocol":"Http","httpCode":["200","201-205","3xx","499"]}}`, `{"healthCheckSpec":{"protocol":"Http","httpCode":["200","500"]}}`, "healthCheckSpec.httpCode[1]"},
	{"hc-httpCode-range", "healthCheckSpec.httpCode ranges rise within 200-499", sdk, `{"healthCheckSpec":{"protocol":"Http","httpCode":["400-499"]}}`, `{"healthCheckSpec":{"protocol":"Http","httpCode":["205-201"]}}`, "healthCheckSpec.httpCode[0]"},
	{"unknown-field", "unknown fields are refused", readme, `{"idempotencyKey":"k"}`, `{"backendname":"x"}`, "backendname"},
	{"unknown-nested-field", "unknown fields inside healthCheckSpec are refused", readme, `{"healthCheckSpec":{"intervalSeconds":5}}`, `{"healthCheckSpec":{"path":"/"}}`, "healthCheckSpec.path"},
}

// patched applies the JSON merge patch to baseRequest.
func patched(t testing.TB, patch string) []byte {
	t.Helper()
	var base, p map[string]any
	if err := json.Unmarshal([]byte(baseRequest), &base); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(patch), &p); err != nil {
		t.Fatalf("patch %s: %v", patch, err)
	}
	out, err := json.Marshal(mergePatch(base, p))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mergePatch(target, patch map[string]any) map[string]any {
	for k, v := range patch {
		switch v := v.(type) {
		case nil:
			delete(target, k)
		case map[string]any:
			sub, _ := target[k].(map[string]any)
			if sub == nil {
				sub = map[string]any{}
			}
			target[k] = mergePatch(sub, v)
		default:
			target[k] = v
		}
	}
	return target
}

func violationsOf(t testing.TB, err error) []validate.Violation {
	t.Helper()
	var e *op.Error
	if !errors.As(err, &e) || e.Kind != op.KindValidation {
		t.Fatalf("error = %v, want a validation *op.Error", err)
	}
	return e.Violations
}

func fields(vs []validate.Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Field)
	}
	return out
}

func TestRules(t *testing.T) {
	for _, r := range rules {
		t.Run(r.id, func(t *testing.T) {
			if _, err := jdcloud.CreateBackend.Decode(context.Background(), patched(t, r.valid)); err != nil {
				t.Errorf("valid %s refused: %v", r.valid, err)
			}
			_, err := jdcloud.CreateBackend.Decode(context.Background(), patched(t, r.invalid))
			if err == nil {
				t.Fatalf("invalid %s accepted", r.invalid)
			}
			if got := fields(violationsOf(t, err)); !slices.Equal(got, []string{r.field}) {
				t.Errorf("invalid %s: violations at %q, want exactly [%s]; %v", r.invalid, got, r.field, err)
			}
		})
	}
}

func TestRulesAllReportedTogether(t *testing.T) {
	raw := patched(t, `{"regionId":"x","backendName":"a b","port":70000,"algorithm":"Random",`+
		`"targetGroupIds":["tg-1"],"agIds":["ag-1"],"httpForwardedHost":true,`+
		`"healthCheckSpec":{"protocol":"Icmp","intervalSeconds":1,"httpCode":["600"]}}`)
	_, err := jdcloud.CreateBackend.Decode(context.Background(), raw)
	got := fields(violationsOf(t, err))
	want := []string{"regionId", "backendName", "port", "algorithm", "agIds", "httpForwardedHost",
		"healthCheckSpec.protocol", "healthCheckSpec.intervalSeconds", "healthCheckSpec.httpCode",
		"healthCheckSpec.httpCode[0]"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("violations at\n%q\nwant\n%q", got, want)
	}
}

func TestDecodeNotAnObject(t *testing.T) {
	for _, raw := range []string{`[]`, `"backend"`, `42`, `null`, `{`, ``, `{} {}`} {
		_, err := jdcloud.CreateBackend.Decode(context.Background(), []byte(raw))
		vs := violationsOf(t, err)
		if len(vs) != 1 || vs[0].Field != "" {
			t.Errorf("Decode(%q) violations %v, want one at field \"\"", raw, vs)
		}
	}
}

// TestWireBody checks what is sent: the createBackend body with regionId, the common fields
// left out, optional fields omitted when unset and kept when the user wrote a zero or false.
func TestWireBody(t *testing.T) {
	raw := patched(t, `{"idempotencyKey":"k","dryRun":true,"proxyProtocol":false,"connectionDrainingSeconds":0,`+
		`"healthCheckSpec":{"port":0}}`)
	req, err := jdcloud.CreateBackend.Decode(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(&req.(*jdcloud.CreateBackendRequest).CreateBackendBody)
	want := `{"regionId":"cn-north-1","backendName":"demo-backend","loadBalancerId":"nlb-example","protocol":"Tcp",` +
		`"port":80,"healthCheckSpec":{"protocol":"Tcp","port":0},"proxyProtocol":false,"connectionDrainingSeconds":0}`
	if string(got) != want {
		t.Errorf("wire body\n%s\nwant\n%s", got, want)
	}
}

// TestRulesDoc keeps RULES.md in step with the rules table: run with -update to rewrite it.
func TestRulesDoc(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("# jdcloud-create-backend: rules\n\n")
	b.WriteString("Generated by `go test ./shared/jdcloud -run TestRulesDoc -update` from the table in\n")
	b.WriteString("`rules_test.go`; do not edit. Every rule is checked before any network call (and again by the\n")
	b.WriteString("emulator). Each case patches this valid request (JSON merge patch, `null` removes a member):\n\n")
	b.WriteString("```json\n" + baseRequest + "\n```\n\n")
	b.WriteString("Sources: `createBackend page` is the createBackend page of JD Cloud's Load Balancer (LB) API\n")
	b.WriteString("reference; `SDK model` is the same API's model in JD Cloud's SDKs (`HealthCheckSpec`, `agInfoSpec`),\n")
	b.WriteString("which that page does not show; `JD Cloud's regions` are its documented region ids (cn-north-1,\n")
	b.WriteString("cn-east-1, cn-east-2, cn-south-1); `README.md (Functions)` is lbfn's own request format.\n\n")
	b.WriteString("| rule | source | test case | reported at | valid patch | invalid patch |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	cell := func(s string) string {
		if len([]rune(s)) > 60 {
			s = string([]rune(s)[:57]) + "..."
		}
		return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
	}
	for _, r := range rules {
		fmt.Fprintf(&b, "| %s | %s | `TestRules/%s` | `%s` | %s | %s |\n",
			r.text, r.source, r.id, r.field, cell(r.valid), cell(r.invalid))
	}
	const path = "RULES.md"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(have, b.Bytes()) {
		t.Fatalf("RULES.md is stale or missing (%v): run go test ./shared/jdcloud -run TestRulesDoc -update", err)
	}
}

// isJSONObject reports whether raw is exactly one JSON object (numbers of any size).
func isJSONObject(raw []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return false
	}
	_, ok := v.(map[string]any)
	return ok
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(baseRequest))
	for _, r := range rules {
		f.Add(patched(f, r.invalid))
	}
	for _, s := range []string{`[]`, `null`, `"x"`, `{"port":1e400}`, `{"port":-0}`, `{"healthCheckSpec":[]}`,
		`{"agInfoSpec":[null]}`, `{"backendName":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := jdcloud.CreateBackend.Decode(context.Background(), raw)
		isObject := isJSONObject(raw)
		if err != nil {
			var e *op.Error
			if !errors.As(err, &e) || e.Kind != op.KindValidation || len(e.Violations) == 0 {
				t.Fatalf("Decode error %v is not a validation error with violations", err)
			}
			if !isObject && (len(e.Violations) != 1 || e.Violations[0].Field != "") {
				t.Fatalf("non-object %q reported as %v, want one violation at field \"\"", raw, e.Violations)
			}
			return
		}
		if !isObject {
			t.Fatalf("non-object %q accepted", raw)
		}
		// What is accepted encodes to a body the emulator's check accepts too.
		wire, err := json.Marshal(&req.(*jdcloud.CreateBackendRequest).CreateBackendBody)
		if err != nil {
			t.Fatal(err)
		}
		var back jdcloud.CreateBackendBody
		if vs := validate.Decode(context.Background(), wire, &back); vs != nil {
			t.Fatalf("wire body %s does not decode: %v", wire, vs)
		}
		var rep validate.Report
		jdcloud.ValidateBody(&back, &rep)
		if !rep.OK() {
			t.Fatalf("wire body %s breaks rules: %v", wire, rep.Violations())
		}
	})
}

// TestRulesCoverTheCatalog: the rule cases here are jdcloud-create-backend's, its provider's one operation in
// shared/catalog; another would have none until it has its own.
func TestRulesCoverTheCatalog(t *testing.T) {
	for _, o := range catalog.Operations {
		if o.Provider() == jdcloud.CreateBackend.Provider() && o != jdcloud.CreateBackend {
			t.Errorf("%s (shared/catalog) has no rule cases: rules_test.go covers jdcloud-create-backend only; give %s a table of "+
				"its own rules run on its Decode, and a section in RULES.md (go test ./shared/jdcloud -run TestRulesDoc -update)",
				o.Function(), o.Function())
		}
	}
}
