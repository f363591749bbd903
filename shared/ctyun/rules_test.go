package ctyun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/ctyun"
	"github.com/lbfn/lbfn/shared/op"
)

var update = flag.Bool("update", false, "rewrite RULES.md from the rule cases")

// validRequest uses every field of the body, so each rule case is one small edit of it.
const validRequest = `{
  "regionID": "bb9fdb42056f11eda1610242ac110002",
  "listenerID": "listener-3ba2dlfbec",
  "name": "policy01",
  "description": "forward /api",
  "conditions": [{"ruleType": "PATH", "matchType": "STARTS_WITH", "matchValue": "/api"}],
  "targetGroup": {
    "name": "tg01",
    "algorithm": "rr",
    "targets": [{"instanceID": "ss-0123456789", "protocolPort": 8080, "instanceType": "vm", "weight": 100, "address": "192.168.0.10"}],
    "healthCheck": {"protocol": "HTTP", "timeout": 2, "interval": 5, "maxRetry": 2,
      "httpMethod": "GET", "httpUrlPath": "/health", "httpExpectedCodes": "200"},
    "sessionSticky": {"sessionType": "APP_COOKIE", "cookieName": "sid", "persistenceTimeout": 10000}
  }
}`

// Where the rules come from.
const (
	srcBody    = "API page: body"
	srcTG      = "API page: targetGroup"
	srcTargets = "API page: targets"
	srcHC      = "API page: healthCheck"
	srcSticky  = "API page: sessionSticky"
	srcConds   = "API page: conditions"
	srcNote    = "CTyun's SDKs"
	srcAPINote = "API page + CTyun's SDKs"
	srcContr   = "README.md (Functions)"
)

// edit changes one field of validRequest: sets it to Value, or removes it.
type edit struct {
	Path   string
	Value  any
	Remove bool
}

func set(path string, v any) edit { return edit{Path: path, Value: v} }
func del(path string) edit        { return edit{Path: path, Remove: true} }

func (e edit) String() string {
	if e.Remove {
		return "without `" + e.Path + "`"
	}
	if s, ok := e.Value.(string); ok && len([]rune(s)) > 24 {
		return fmt.Sprintf("`%s` = %d characters", e.Path, len([]rune(s)))
	}
	b, _ := json.Marshal(e.Value)
	return fmt.Sprintf("`%s` = `%s`", e.Path, b)
}

type edits []edit

func (es edits) String() string {
	if len(es) == 0 {
		return "the full example request"
	}
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}

// ruleCase is one documented rule, a request that keeps it at its edge and one that breaks it.
type ruleCase struct {
	Field   string // the JSON path the violation names
	Rule    string
	Source  string
	Valid   edits
	Invalid edits
}

var ruleCases = []ruleCase{
	{"clientToken", "optional (derived from the idempotency key when empty); 1–64 characters", srcAPINote,
		edits{set("clientToken", strings.Repeat("t", 64))}, edits{set("clientToken", strings.Repeat("t", 65))}},
	{"regionID", "required", srcBody, edits{set("regionID", "200000001852")}, edits{del("regionID")}},
	{"listenerID", "required", srcBody, nil, edits{set("listenerID", "")}},
	{"name", "required", srcBody, nil, edits{del("name")}},
	{"name", "2–32 characters (a Chinese character counts as one)", srcBody,
		edits{set("name", "策略")}, edits{set("name", "p")}},
	{"name", "at most 32 characters", srcBody,
		edits{set("name", "p"+strings.Repeat("0", 31))}, edits{set("name", "p"+strings.Repeat("0", 32))}},
	{"name", "only Latin letters, Chinese characters, digits, `_` and `-`", srcBody,
		edits{set("name", "策略_policy-01")}, edits{set("name", "policy 01")}},
	{"name", "starts with a Latin letter or a Chinese character", srcBody,
		edits{set("name", "中01")}, edits{set("name", "1policy")}},
	{"name", "must not start with `http:` or `https:`", srcBody,
		edits{set("name", "httpd")}, edits{set("name", "https:policy")}},
	{"description", "optional; at most 128 characters", srcNote,
		edits{set("description", strings.Repeat("d", 128))}, edits{set("description", strings.Repeat("d", 129))}},
	{"description", "must not start with `http:` or `https:`", srcNote,
		edits{set("description", "see http://example.com")}, edits{set("description", "http://example.com")}},
	{"conditions", "required, at least one", srcBody, nil, edits{set("conditions", []any{})}},
	{"conditions[0].ruleType", "required", srcConds, nil, edits{del("conditions[0].ruleType")}},
	{"conditions[0].ruleType", "`HOST` or `PATH`", srcConds,
		edits{set("conditions[0].ruleType", "HOST"), set("conditions[0].matchValue", "example.com")},
		edits{set("conditions[0].ruleType", "URL")}},
	{"conditions[0].matchType", "required", srcConds, nil, edits{del("conditions[0].matchType")}},
	{"conditions[0].matchType", "`STARTS_WITH`, `EQUAL_TO` or `REGEX`", srcConds,
		edits{set("conditions[0].matchType", "EQUAL_TO")}, edits{set("conditions[0].matchType", "PREFIX")}},
	{"conditions[0].matchValue", "required", srcConds, nil, edits{set("conditions[0].matchValue", "")}},
	{"conditions[0].matchValue", "not `/` alone when ruleType is `PATH`", srcConds,
		edits{set("conditions[0].ruleType", "HOST"), set("conditions[0].matchValue", "/")},
		edits{set("conditions[0].matchValue", "/")}},
	{"targetGroup", "required", srcBody, nil, edits{del("targetGroup")}},
	{"targetGroup.name", "required", srcTG, nil, edits{del("targetGroup.name")}},
	{"targetGroup.algorithm", "required", srcTG, nil, edits{set("targetGroup.algorithm", "")}},
	{"targetGroup.algorithm", "`rr` or `lc`", srcTG,
		edits{set("targetGroup.algorithm", "lc")}, edits{set("targetGroup.algorithm", "wrr")}},
	{"targetGroup.targets", "optional", srcTG, edits{del("targetGroup.targets")}, edits{set("targetGroup.targets", "ss-1")}},
	{"targetGroup.targets[0].instanceID", "required", srcTargets, nil, edits{del("targetGroup.targets[0].instanceID")}},
	{"targetGroup.targets[0].protocolPort", "required", srcTargets, nil, edits{del("targetGroup.targets[0].protocolPort")}},
	{"targetGroup.targets[0].protocolPort", "1–65535", srcNote,
		edits{set("targetGroup.targets[0].protocolPort", 65535)}, edits{set("targetGroup.targets[0].protocolPort", 0)}},
	{"targetGroup.targets[0].instanceType", "required", srcTargets, nil, edits{del("targetGroup.targets[0].instanceType")}},
	{"targetGroup.targets[0].instanceType", "`vm`", srcTargets, nil, edits{set("targetGroup.targets[0].instanceType", "bm")}},
	{"targetGroup.targets[0].weight", "required", srcTargets, nil, edits{del("targetGroup.targets[0].weight")}},
	{"targetGroup.targets[0].weight", "1–256", srcTargets,
		edits{set("targetGroup.targets[0].weight", 256)}, edits{set("targetGroup.targets[0].weight", 257)}},
	{"targetGroup.targets[0].address", "required", srcTargets, nil, edits{del("targetGroup.targets[0].address")}},
	{"targetGroup.targets[0].address", "an IP address", srcTargets,
		edits{set("targetGroup.targets[0].address", "2001:db8::10")}, edits{set("targetGroup.targets[0].address", "192.168.0")}},
	{"targetGroup.healthCheck.protocol", "required", srcHC, nil, edits{del("targetGroup.healthCheck.protocol")}},
	{"targetGroup.healthCheck.protocol", "`TCP`, `UDP` or `HTTP`", srcHC,
		edits{set("targetGroup.healthCheck.protocol", "UDP"), del("targetGroup.healthCheck.httpMethod"),
			del("targetGroup.healthCheck.httpUrlPath"), del("targetGroup.healthCheck.httpExpectedCodes")},
		edits{set("targetGroup.healthCheck.protocol", "HTTPS")}},
	{"targetGroup.healthCheck.timeout", "required", srcHC, nil, edits{del("targetGroup.healthCheck.timeout")}},
	{"targetGroup.healthCheck.timeout", "2–60", srcHC,
		edits{set("targetGroup.healthCheck.timeout", 60)}, edits{set("targetGroup.healthCheck.timeout", 1)}},
	{"targetGroup.healthCheck.interval", "required", srcHC, nil, edits{del("targetGroup.healthCheck.interval")}},
	{"targetGroup.healthCheck.interval", "1–20940", srcHC,
		edits{set("targetGroup.healthCheck.interval", 20940)}, edits{set("targetGroup.healthCheck.interval", 20941)}},
	{"targetGroup.healthCheck.maxRetry", "required", srcHC, nil, edits{del("targetGroup.healthCheck.maxRetry")}},
	{"targetGroup.healthCheck.maxRetry", "1–10", srcHC,
		edits{set("targetGroup.healthCheck.maxRetry", 10)}, edits{set("targetGroup.healthCheck.maxRetry", 0)}},
	{"targetGroup.healthCheck.httpMethod", "required when protocol is `HTTP`", srcHC, nil, edits{del("targetGroup.healthCheck.httpMethod")}},
	{"targetGroup.healthCheck.httpMethod", "`GET` or `HEAD`", srcHC,
		edits{set("targetGroup.healthCheck.httpMethod", "HEAD")}, edits{set("targetGroup.healthCheck.httpMethod", "POST")}},
	{"targetGroup.healthCheck.httpUrlPath", "required when protocol is `HTTP`", srcHC, nil, edits{del("targetGroup.healthCheck.httpUrlPath")}},
	{"targetGroup.healthCheck.httpUrlPath", "at most 80 characters", srcHC,
		edits{set("targetGroup.healthCheck.httpUrlPath", "/"+strings.Repeat("h", 79))},
		edits{set("targetGroup.healthCheck.httpUrlPath", "/"+strings.Repeat("h", 80))}},
	{"targetGroup.healthCheck.httpExpectedCodes", "required when protocol is `HTTP`", srcHC,
		nil, edits{del("targetGroup.healthCheck.httpExpectedCodes")}},
	{"targetGroup.healthCheck.httpExpectedCodes", "three-digit codes, `,` lists and `-` ranges", srcHC,
		edits{set("targetGroup.healthCheck.httpExpectedCodes", "200,301-302")},
		edits{set("targetGroup.healthCheck.httpExpectedCodes", "2xx")}},
	{"targetGroup.healthCheck.httpExpectedCodes", "a range goes from the lower code to the higher", "lbfn (CTyun would refuse it)",
		edits{set("targetGroup.healthCheck.httpExpectedCodes", "200-200")},
		edits{set("targetGroup.healthCheck.httpExpectedCodes", "302-301")}},
	{"targetGroup.healthCheck.httpExpectedCodes", "at most 64 characters (63 is the longest well-formed list)", srcHC,
		edits{set("targetGroup.healthCheck.httpExpectedCodes", strings.Repeat("200,", 15)+"200")},
		edits{set("targetGroup.healthCheck.httpExpectedCodes", strings.Repeat("200,", 16)+"200")}},
	{"targetGroup.healthCheck.httpMethod", "only with protocol `HTTP` (\"required and effective only when HTTP\")", srcHC,
		edits{set("targetGroup.healthCheck.protocol", "TCP"), del("targetGroup.healthCheck.httpMethod"),
			del("targetGroup.healthCheck.httpUrlPath"), del("targetGroup.healthCheck.httpExpectedCodes")},
		edits{set("targetGroup.healthCheck.protocol", "TCP"),
			del("targetGroup.healthCheck.httpUrlPath"), del("targetGroup.healthCheck.httpExpectedCodes")}},
	{"targetGroup.healthCheck.httpUrlPath", "only with protocol `HTTP`", srcHC,
		edits{set("targetGroup.healthCheck.protocol", "UDP"), del("targetGroup.healthCheck.httpMethod"),
			del("targetGroup.healthCheck.httpUrlPath"), del("targetGroup.healthCheck.httpExpectedCodes")},
		edits{set("targetGroup.healthCheck.protocol", "UDP"),
			del("targetGroup.healthCheck.httpMethod"), del("targetGroup.healthCheck.httpExpectedCodes")}},
	{"targetGroup.healthCheck.httpExpectedCodes", "only with protocol `HTTP`", srcHC,
		edits{set("targetGroup.healthCheck.protocol", "TCP"), del("targetGroup.healthCheck.httpMethod"),
			del("targetGroup.healthCheck.httpUrlPath"), del("targetGroup.healthCheck.httpExpectedCodes")},
		edits{set("targetGroup.healthCheck.protocol", "TCP"),
			del("targetGroup.healthCheck.httpMethod"), del("targetGroup.healthCheck.httpUrlPath")}},
	{"targetGroup.sessionSticky.sessionType", "required", srcSticky, nil, edits{del("targetGroup.sessionSticky.sessionType")}},
	{"targetGroup.sessionSticky.sessionType", "`APP_COOKIE`, `HTTP_COOKIE` or `SOURCE_IP`", srcSticky,
		edits{set("targetGroup.sessionSticky.sessionType", "HTTP_COOKIE")}, edits{set("targetGroup.sessionSticky.sessionType", "COOKIE")}},
	{"targetGroup.sessionSticky.cookieName", "required when sessionType is `APP_COOKIE`", srcSticky,
		edits{set("targetGroup.sessionSticky.sessionType", "HTTP_COOKIE"), del("targetGroup.sessionSticky.cookieName"),
			del("targetGroup.sessionSticky.persistenceTimeout")},
		edits{del("targetGroup.sessionSticky.cookieName")}},
	{"targetGroup.sessionSticky.persistenceTimeout", "required when sessionType is `APP_COOKIE` or `SOURCE_IP`", srcSticky,
		edits{set("targetGroup.sessionSticky.sessionType", "SOURCE_IP"), del("targetGroup.sessionSticky.cookieName")},
		edits{set("targetGroup.sessionSticky.sessionType", "SOURCE_IP"), del("targetGroup.sessionSticky.persistenceTimeout")}},
	{"targetGroup.targets[0].port", "unknown fields are refused, at any depth", srcContr,
		nil, edits{set("targetGroup.targets[0].port", 80)}},
	{"targetGroup.targets[0].weight", "values of the wrong JSON type are refused", srcContr,
		nil, edits{set("targetGroup.targets[0].weight", "100")}},
}

// apply returns validRequest with es applied.
func apply(t testing.TB, es edits) []byte {
	t.Helper()
	var tree any
	if err := json.Unmarshal([]byte(validRequest), &tree); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		segs := splitPath(e.Path)
		parent := tree
		for _, s := range segs[:len(segs)-1] {
			parent = child(t, parent, s)
		}
		obj, last := parent.(map[string]any), segs[len(segs)-1]
		if e.Remove {
			delete(obj, last)
		} else {
			obj[last] = e.Value
		}
	}
	b, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// splitPath splits "a.b[0].c" into "a", "b", "[0]", "c".
func splitPath(p string) []string {
	var segs []string
	for _, part := range strings.Split(p, ".") {
		name, idx, ok := strings.Cut(part, "[")
		segs = append(segs, name)
		if ok {
			segs = append(segs, "["+idx)
		}
	}
	return segs
}

func child(t testing.TB, node any, seg string) any {
	if strings.HasPrefix(seg, "[") {
		i, _ := strconv.Atoi(strings.Trim(seg, "[]"))
		return node.([]any)[i]
	}
	c, ok := node.(map[string]any)[seg]
	if !ok {
		t.Fatalf("no %s in the example request", seg)
	}
	return c
}

func decode(raw []byte) error {
	_, err := ctyun.CreatePolicy.Decode(context.Background(), raw)
	return err
}

// TestRules runs every rule case and keeps RULES.md in step with them.
func TestRules(t *testing.T) {
	if err := decode([]byte(validRequest)); err != nil {
		t.Fatalf("the example request is invalid: %v", err)
	}
	var doc bytes.Buffer
	doc.WriteString(rulesHeader)
	for _, rc := range ruleCases {
		name := rc.Field + ": " + rc.Rule
		if err := decode(apply(t, rc.Valid)); err != nil {
			t.Errorf("%s: valid case (%s) refused: %v", name, rc.Valid, err)
		}
		err := decode(apply(t, rc.Invalid))
		var e *op.Error
		if !errors.As(err, &e) || e.Kind != op.KindValidation {
			t.Errorf("%s: invalid case (%s) accepted (err %v)", name, rc.Invalid, err)
			continue
		}
		if len(e.Violations) != 1 || e.Violations[0].Field != rc.Field {
			t.Errorf("%s: invalid case (%s) gave %v, want one violation of %s", name, rc.Invalid, e.Violations, rc.Field)
			continue
		}
		fmt.Fprintf(&doc, "| `%s` | %s | %s | %s | %s → %s |\n", rc.Field, rc.Rule, rc.Source, rc.Valid, rc.Invalid,
			strings.ReplaceAll(e.Violations[0].Message, "|", `\|`))
	}
	if t.Failed() {
		return
	}
	if *update {
		if err := os.WriteFile("RULES.md", doc.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile("RULES.md")
	if err != nil || !bytes.Equal(have, doc.Bytes()) {
		t.Errorf("RULES.md is stale: run go test ./shared/ctyun -run TestRules -update")
	}
}

const rulesHeader = `# ctyun-create-policy: the rules checked before any call

Generated by ` + "`go test ./shared/ctyun -run TestRules -update`" + ` from the cases in
rules_test.go; do not edit. Every rule is checked by ` + "`ctyun.CreatePolicy.Decode`" + ` before any
network call (all violations reported together, each with the field's JSON path), and again
server-side by the emulator, which refuses a broken body with statusCode 900 and errorCode
` + "`ELB.Policy.InvalidParameter`" + `. Each valid case must pass and each invalid case must give
exactly the one violation shown; both are edits of the full example request in rules_test.go.

Sources: "API page" is the page "创建转发规则" (` + "`POST /v4/elb/async-create-policy`" + `) of CTyun's ELB API,
"CTyun's SDKs" CTyun's official SDKs and Terraform provider for the same call, "README.md
(Functions)" lbfn's own request format.

| field | rule | source | valid case | invalid case → violation |
|---|---|---|---|---|
`

// TestRulesCoverTheCatalog: the rule cases here are ctyun-create-policy's, its provider's one operation in
// shared/catalog; another would have none until it has its own.
func TestRulesCoverTheCatalog(t *testing.T) {
	for _, o := range catalog.Operations {
		if o.Provider() == ctyun.CreatePolicy.Provider() && o != ctyun.CreatePolicy {
			t.Errorf("%s (shared/catalog) has no rule cases: rules_test.go covers ctyun-create-policy only; give %s a table of "+
				"its own rules run on its Decode, and a section in RULES.md (go test ./shared/ctyun -run TestRules -update)",
				o.Function(), o.Function())
		}
	}
}
