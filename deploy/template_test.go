package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/lbfn/lbfn/shared/catalog"
)

// repoRoot is the repository root, seen from this package's directory.
const repoRoot = ".."

// functionNames are the create functions every deployment must carry: the catalog's.
var functionNames = catalog.Names()

// logicalID is the template's name for a function: "ctyun-create-policy" is
// "CtyunCreatePolicyFunction". The Makefile's build-<LogicalId> rule follows it too.
func logicalID(name string) string { return catalog.LogicalName(name) + "Function" }

// A template is template.yaml as generic JSON values, with the short-form intrinsic tags
// (!Ref, !GetAtt, !Sub...) turned into their long forms ({"Ref": ...}, {"Fn::GetAtt": [...]}).
type template map[string]any

func loadTemplate(t testing.TB, path string) template {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := parseTemplate(src)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tpl
}

func parseTemplate(src []byte) (template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 {
		return nil, fmt.Errorf("want one YAML document")
	}
	v, err := fromYAML(doc.Content[0])
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the template is not a mapping")
	}
	// A JSON round trip gives the plain types (float64, []any, map[string]any) every checker
	// and the schema validator expect.
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out template
	return out, json.Unmarshal(b, &out)
}

// intrinsicTags maps CloudFormation's short-form tags to their long-form keys.
var intrinsicTags = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition",
	"!Base64": "Fn::Base64", "!Cidr": "Fn::Cidr", "!FindInMap": "Fn::FindInMap",
	"!GetAtt": "Fn::GetAtt", "!GetAZs": "Fn::GetAZs", "!ImportValue": "Fn::ImportValue",
	"!Join": "Fn::Join", "!Select": "Fn::Select", "!Split": "Fn::Split", "!Sub": "Fn::Sub",
	"!Transform": "Fn::Transform", "!And": "Fn::And", "!Equals": "Fn::Equals",
	"!If": "Fn::If", "!Not": "Fn::Not", "!Or": "Fn::Or", "!Length": "Fn::Length",
	"!ToJsonString": "Fn::ToJsonString",
}

func fromYAML(n *yaml.Node) (any, error) {
	if n.Kind == yaml.AliasNode {
		return fromYAML(n.Alias)
	}
	if key, ok := intrinsicTags[n.Tag]; ok {
		plain := *n
		plain.Tag = ""
		if n.Kind == yaml.ScalarNode {
			plain.Tag = "!!str"
		}
		v, err := fromYAML(&plain)
		if err != nil {
			return nil, err
		}
		if s, isStr := v.(string); isStr && key == "Fn::GetAtt" {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, s)
			}
			v = []any{res, attr}
		}
		return map[string]any{key: v}, nil
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := fromYAML(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := fromYAML(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	}
}

// clone deep-copies a template, for mutations.
func (tpl template) clone() template {
	b, _ := json.Marshal(tpl)
	var out template
	_ = json.Unmarshal(b, &out)
	return out
}

func (tpl template) resources() map[string]any { return obj(tpl["Resources"]) }

func (tpl template) resource(id string) map[string]any { return obj(tpl.resources()[id]) }

// props returns a resource's Properties.
func (tpl template) props(id string) map[string]any { return obj(tpl.resource(id)["Properties"]) }

// functionProp returns a function property, falling back to Globals.Function.
func (tpl template) functionProp(id, name string) any {
	if v, ok := tpl.props(id)[name]; ok {
		return v
	}
	return obj(obj(tpl["Globals"])["Function"])[name]
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// at walks v along keys (map keys, or decimal indexes into lists).
func at(v any, keys ...string) any {
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// refTo returns the logical id v references with {"Ref": id}, or "".
func refTo(v any) string {
	s, _ := obj(v)["Ref"].(string)
	return s
}

// getAttOf returns the logical id and attribute of {"Fn::GetAtt": [id, attr]}.
func getAttOf(v any) (id, attr string) {
	l, _ := obj(v)["Fn::GetAtt"].([]any)
	if len(l) != 2 {
		return "", ""
	}
	id, _ = l[0].(string)
	attr, _ = l[1].(string)
	return id, attr
}

func number(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok
}

// credentialVariables must never appear in the template: their values come from Secrets
// Manager at start.
var credentialVariables = []string{
	"JDCLOUD_ACCESS_KEY", "JDCLOUD_SECRET_KEY", "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK",
	"HUAWEICLOUD_SDK_SECURITY_TOKEN", "CTYUN_AK", "CTYUN_SK", "LBFN_WEBHOOK_SECRET",
}

// checklist returns every way tpl breaks the deployment checklist (deploy/README.md, "What is
// deployed, per function"), one line each.
// dir is where relative paths (the state machine definition) are resolved.
func checklist(tpl template, dir string) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	res := tpl.resources()
	outputs := obj(tpl["Outputs"])
	outputRefs := map[string]bool{}
	for _, o := range outputs {
		if id := refTo(obj(o)["Value"]); id != "" {
			outputRefs[id] = true
		}
	}
	isQueue := func(id string) bool { return obj(res[id])["Type"] == "AWS::SQS::Queue" }
	idempotencyTables := map[string]bool{}

	for _, name := range functionNames {
		id := logicalID(name)
		fn := obj(res[id])
		if fn == nil || fn["Type"] != "AWS::Serverless::Function" {
			fail("%s: function %s is missing from the template", name, id)
			continue
		}
		meta := obj(fn["Metadata"])
		if meta["BuildMethod"] != "makefile" || meta["Function"] != name {
			fail("%s: Metadata must be {BuildMethod: makefile, Function: %s}", id, name)
		}
		for prop, want := range map[string]any{"Runtime": "provided.al2023", "Handler": "bootstrap", "Tracing": "Active"} {
			if got := tpl.functionProp(id, prop); got != want {
				fail("%s: %s is %v, want %v", id, prop, got, want)
			}
		}
		if a, _ := tpl.functionProp(id, "Architectures").([]any); len(a) != 1 || a[0] != "arm64" {
			fail("%s: Architectures must be [arm64]", id)
		}
		if at(tpl.functionProp(id, "LoggingConfig"), "LogFormat") != "JSON" {
			fail("%s: LoggingConfig.LogFormat must be JSON", id)
		}
		if _, ok := number(tpl.functionProp(id, "MemorySize")); !ok {
			fail("%s: MemorySize is not set", id)
		}
		timeout, ok := number(tpl.props(id)["Timeout"])
		if !ok {
			fail("%s: Timeout must be set on the function (never the 3 s default)", id)
		}

		env := obj(at(tpl.props(id), "Environment", "Variables"))
		if env["LBFN_SECRET_ARN"] == nil {
			fail("%s: LBFN_SECRET_ARN is not set: the credentials have no source", id)
		}
		for _, v := range credentialVariables {
			if _, set := env[v]; set {
				fail("%s: %s is in the template; secrets come from Secrets Manager", id, v)
			}
		}
		failureQueue := refTo(env["LBFN_FAILURE_QUEUE_URL"])
		if !isQueue(failureQueue) {
			fail("%s: LBFN_FAILURE_QUEUE_URL must be !Ref to an SQS queue", id)
		}
		policies, _ := tpl.props(id)["Policies"].([]any)
		canSend, canRead := false, false
		for _, p := range policies {
			if q, _ := getAttOf(at(p, "SQSSendMessagePolicy", "QueueName")); q != "" && q == failureQueue {
				canSend = true
			}
			for _, st := range asList(at(p, "Statement")) {
				if slices.Contains(asList(obj(st)["Action"]), any("secretsmanager:GetSecretValue")) {
					canRead = obj(st)["Resource"] != "*"
				}
			}
		}
		if !canSend {
			fail("%s: no SQSSendMessagePolicy on its failure queue", id)
		}
		if !canRead {
			fail("%s: no secretsmanager:GetSecretValue scoped to the secret", id)
		}
		table := refTo(env["LBFN_IDEMPOTENCY_TABLE"])
		if obj(res[table])["Type"] != "AWS::DynamoDB::Table" {
			fail("%s: LBFN_IDEMPOTENCY_TABLE must be !Ref to a DynamoDB table", id)
		} else {
			idempotencyTables[table] = true
			problems = append(problems, checkTableAccess(id, table, policies)...)
		}

		var sqsEvents int
		for evName, ev := range obj(tpl.props(id)["Events"]) {
			ev := obj(ev)
			p := obj(ev["Properties"])
			switch ev["Type"] {
			case "HttpApi":
				fail("%s: HttpApi event %s: the create routes are ApiGatewayV2 routes whose authorization follows HttpAuth", id, evName)
			case "SQS":
				sqsEvents++
				q, _ := getAttOf(p["Queue"])
				if !isQueue(q) {
					fail("%s: SQS event %s must use !GetAtt <queue>.Arn of its own queue", id, evName)
					continue
				}
				if q == failureQueue {
					fail("%s: the failure queue must not feed the function", id)
				}
				if !slices.Contains(asList(p["FunctionResponseTypes"]), any("ReportBatchItemFailures")) {
					fail("%s: SQS event %s lacks FunctionResponseTypes [ReportBatchItemFailures]", id, evName)
				}
				if at(p, "ScalingConfig", "MaximumConcurrency") == nil {
					fail("%s: SQS event %s lacks ScalingConfig.MaximumConcurrency", id, evName)
				}
				problems = append(problems, checkQueue(tpl, q, id, timeout)...)
				if !outputRefs[q] {
					fail("%s: no Output gives the URL of %s", id, q)
				}
			}
		}
		if sqsEvents != 1 {
			fail("%s: want exactly one SQS event, found %d", id, sqsEvents)
		}
		problems = append(problems, checkRoute(tpl, name, id)...)
	}
	problems = append(problems, checkHTTPAuth(tpl)...)
	problems = append(problems, samEventProblems(tpl)...)

	// Outputs: the HTTP API URL and the state machine ARN.
	var apiURL bool
	for _, o := range outputs {
		if s, _ := obj(obj(o)["Value"])["Fn::Sub"].(string); strings.Contains(s, "execute-api") {
			apiURL = true
		}
	}
	if !apiURL {
		fail("Outputs: no HTTP API URL")
	}
	for table := range idempotencyTables {
		problems = append(problems, checkIdempotencyTable(tpl, table)...)
	}
	problems = append(problems, checkStateMachine(tpl, dir, outputRefs)...)
	return problems
}

// samEventAPIs are the SAM event types that attach a route to an API, the property naming
// that API, and the type the API must have: SAM transforms a route only onto an API of its
// own, and refuses the template otherwise ("ApiId must be a valid reference to an
// 'AWS::Serverless::HttpApi' resource in same template").
var samEventAPIs = map[string]struct{ property, apiType string }{
	"HttpApi": {"ApiId", "AWS::Serverless::HttpApi"},
	"Api":     {"RestApiId", "AWS::Serverless::Api"},
}

// samEventProblems checks every SAM function's API events (create functions, chatops and any
// other): one that names an API must name a SAM API of the matching type.
func samEventProblems(tpl template) []string {
	var problems []string
	for id, r := range tpl.resources() {
		if obj(r)["Type"] != "AWS::Serverless::Function" {
			continue
		}
		for evName, ev := range obj(tpl.props(id)["Events"]) {
			ev := obj(ev)
			typ, _ := ev["Type"].(string)
			want, ok := samEventAPIs[typ]
			api, named := obj(ev["Properties"])[want.property]
			if !ok || !named {
				continue
			}
			if got := tpl.resource(refTo(api))["Type"]; got != want.apiType {
				problems = append(problems, fmt.Sprintf("%s: %s event %s: %s must be !Ref to an %s, not %v (%v): SAM refuses it",
					id, typ, evName, want.property, want.apiType, api, got))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// idempotencyActions are the item calls shared/idempotency makes: all a function may do on
// its idempotency table, and nowhere else.
var idempotencyActions = []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"}

// checkTableAccess checks a function's DynamoDB permissions: exactly the idempotency calls,
// scoped to its idempotency table.
func checkTableAccess(fn, table string, policies []any) []string {
	var problems []string
	granted := map[string]bool{}
	for _, p := range policies {
		for _, st := range asList(at(p, "Statement")) {
			for _, a := range asList(obj(st)["Action"]) {
				action, _ := a.(string)
				if !strings.HasPrefix(action, "dynamodb:") {
					continue
				}
				res := asList(obj(st)["Resource"])
				if r, attr := getAttOf(at(res, "0")); len(res) != 1 || r != table || attr != "Arn" {
					problems = append(problems, fmt.Sprintf("%s: %s must be scoped to !GetAtt %s.Arn only", fn, action, table))
				}
				if !slices.Contains(idempotencyActions, action) {
					problems = append(problems, fmt.Sprintf("%s: %s is more than the idempotency store needs", fn, action))
				}
				granted[action] = true
			}
		}
	}
	for _, a := range idempotencyActions {
		if !granted[a] {
			problems = append(problems, fmt.Sprintf("%s: no %s on %s", fn, a, table))
		}
	}
	return problems
}

// checkIdempotencyTable checks the table's layout against shared/idempotency's records: key
// "id" (a string), TTL on "expiration", on-demand capacity, and encryption.
func checkIdempotencyTable(tpl template, table string) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	p := tpl.props(table)
	if at(p, "KeySchema", "0", "AttributeName") != "id" || at(p, "KeySchema", "0", "KeyType") != "HASH" || len(asList(p["KeySchema"])) != 1 {
		fail("%s: KeySchema must be the one HASH key id", table)
	}
	if at(p, "AttributeDefinitions", "0", "AttributeName") != "id" || at(p, "AttributeDefinitions", "0", "AttributeType") != "S" {
		fail("%s: AttributeDefinitions must define id as S", table)
	}
	if at(p, "TimeToLiveSpecification", "AttributeName") != "expiration" || at(p, "TimeToLiveSpecification", "Enabled") != true {
		fail("%s: TimeToLiveSpecification must enable TTL on expiration", table)
	}
	if p["BillingMode"] != "PAY_PER_REQUEST" {
		fail("%s: BillingMode must be PAY_PER_REQUEST", table)
	}
	if at(p, "SSESpecification", "SSEEnabled") != true {
		fail("%s: server-side encryption is off (SSESpecification.SSEEnabled)", table)
	}
	return problems
}

// checkQueue checks a function's event queue: encrypted, a dead-letter queue through its
// RedrivePolicy, and a visibility timeout of at least 6 x the function timeout.
func checkQueue(tpl template, q, fn string, timeout float64) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	p := tpl.props(q)
	if p["SqsManagedSseEnabled"] != true && p["KmsMasterKeyId"] == nil {
		fail("%s: server-side encryption is off", q)
	}
	vis, ok := number(p["VisibilityTimeout"])
	switch {
	case !ok:
		fail("%s: VisibilityTimeout is not set (default 30 s)", q)
	case vis < 6*timeout:
		fail("%s: VisibilityTimeout %v s is shorter than 6 x %s's timeout %v s", q, vis, fn, timeout)
	}
	rp := obj(p["RedrivePolicy"])
	dlq, attr := getAttOf(rp["deadLetterTargetArn"])
	switch {
	case rp == nil:
		fail("%s: no RedrivePolicy: the queue has no dead-letter queue", q)
	case dlq == "" || attr != "Arn" || tpl.resource(dlq)["Type"] != "AWS::SQS::Queue":
		fail("%s: RedrivePolicy.deadLetterTargetArn must be !GetAtt <queue>.Arn", q)
	case dlq == q:
		fail("%s: is its own dead-letter queue", q)
	case rp["maxReceiveCount"] == nil:
		fail("%s: RedrivePolicy.maxReceiveCount is not set", q)
	}
	if dlq != "" {
		if dp := tpl.props(dlq); dp["SqsManagedSseEnabled"] != true && dp["KmsMasterKeyId"] == nil {
			fail("%s: server-side encryption is off", dlq)
		}
	}
	return problems
}

// placeholder matches a DefinitionSubstitutions placeholder in a definition.
var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// checkStateMachine checks the CTyun job-poller's resource: its definition file, complete
// substitutions, tracing, logging, and an Output with its ARN.
func checkStateMachine(tpl template, dir string, outputRefs map[string]bool) []string {
	const id = "CtyunCreatePolicyStateMachine"
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	sm := tpl.resource(id)
	if sm["Type"] != "AWS::Serverless::StateMachine" {
		return []string{id + ": the CTyun state machine is missing"}
	}
	p := tpl.props(id)
	if at(p, "Tracing", "Enabled") != true {
		fail("%s: tracing is off", id)
	}
	if lvl, _ := at(p, "Logging", "Level").(string); lvl == "" || lvl == "OFF" {
		fail("%s: logging is off", id)
	}
	if !outputRefs[id] {
		fail("%s: no Output gives its ARN", id)
	}
	def, err := stateMachineDefinition(tpl, dir)
	if err != nil {
		return append(problems, fmt.Sprintf("%s: %v", id, err))
	}
	subs := obj(p["DefinitionSubstitutions"])
	for _, m := range placeholder.FindAllStringSubmatch(string(def), -1) {
		if subs[m[1]] == nil {
			fail("%s: DefinitionSubstitutions lacks %s", id, m[1])
		}
	}
	if fn, attr := getAttOf(subs["CtyunCreatePolicyFunctionArn"]); fn != logicalID("ctyun-create-policy") || attr != "Arn" {
		fail("%s: CtyunCreatePolicyFunctionArn must be !GetAtt %s.Arn", id, logicalID("ctyun-create-policy"))
	}
	return problems
}

// stateMachineDefinition reads the definition file the state machine's DefinitionUri names.
func stateMachineDefinition(tpl template, dir string) ([]byte, error) {
	uri, _ := tpl.props("CtyunCreatePolicyStateMachine")["DefinitionUri"].(string)
	if uri == "" {
		return nil, fmt.Errorf("DefinitionUri must name the definition file")
	}
	if !filepath.IsAbs(uri) {
		uri = filepath.Join(dir, uri)
	}
	return os.ReadFile(uri)
}

func asList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	default:
		return []any{x}
	}
}

func TestTemplateChecklist(t *testing.T) {
	tpl := loadTemplate(t, filepath.Join(repoRoot, "template.yaml"))
	for _, p := range checklist(tpl, repoRoot) {
		t.Error(p)
	}
}

func TestParseTemplateShortForms(t *testing.T) {
	tests := []struct {
		yaml string
		want string
	}{
		{"a: !Ref X", `{"a":{"Ref":"X"}}`},
		{"a: !GetAtt Q.Arn", `{"a":{"Fn::GetAtt":["Q","Arn"]}}`},
		{"a: !GetAtt [Q, Arn]", `{"a":{"Fn::GetAtt":["Q","Arn"]}}`},
		{"a: !Sub 'x-${AWS::Region}'", `{"a":{"Fn::Sub":"x-${AWS::Region}"}}`},
		{"a: !If [C, !Ref A, !Ref AWS::NoValue]", `{"a":{"Fn::If":["C",{"Ref":"A"},{"Ref":"AWS::NoValue"}]}}`},
		{"a: !Not [!Equals [!Ref P, '']]", `{"a":{"Fn::Not":[{"Fn::Equals":[{"Ref":"P"},""]}]}}`},
		{"a: !Join [',', [x, y]]", `{"a":{"Fn::Join":[",",["x","y"]]}}`},
		{"a: 360\nb: true\nc: '360'", `{"a":360,"b":true,"c":"360"}`},
	}
	for _, tt := range tests {
		tpl, err := parseTemplate([]byte(tt.yaml))
		if err != nil {
			t.Errorf("%q: %v", tt.yaml, err)
			continue
		}
		got, _ := json.Marshal(tpl)
		if string(got) != tt.want {
			t.Errorf("%q\n got %s\nwant %s", tt.yaml, got, tt.want)
		}
	}
	for _, bad := range []string{"a: !GetAtt NoDot", "a: !Bogus x"} {
		if _, err := parseTemplate([]byte(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}
