package command_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/chatops/command"
	"github.com/lbfn/lbfn/shared/op"
)

var ops = catalog.Operations

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("not JSON: %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("not JSON: %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func TestParseCreate(t *testing.T) {
	tests := []struct {
		name, text string
		function   string
		dryRun     bool
		request    string
	}{
		{"jdcloud: numbers, booleans, and strings that look like numbers",
			`create jdcloud-create-backend regionId=cn-north-1 backendName=123 loadBalancerId=lb-1 protocol=Tcp port=80 proxyProtocol=true sessionStickiness=false`,
			"jdcloud-create-backend", false,
			`{"regionId":"cn-north-1","backendName":"123","loadBalancerId":"lb-1","protocol":"Tcp","port":80,"proxyProtocol":true,"sessionStickiness":false}`},
		{"jdcloud: nested object and an array of strings by index",
			`create jdcloud-create-backend healthCheckSpec.protocol=Http healthCheckSpec.port=8080 healthCheckSpec.httpCode[0]=200 healthCheckSpec.httpCode[1]=2xx`,
			"jdcloud-create-backend", false,
			`{"healthCheckSpec":{"protocol":"Http","port":8080,"httpCode":["200","2xx"]}}`},
		{"jdcloud: arrays given whole, array of objects by index",
			`create jdcloud-create-backend targetGroupIds=["tg-1"] agInfoSpec[0].agId=ag-1 agInfoSpec[0].defaultWeight=10`,
			"jdcloud-create-backend", false,
			`{"targetGroupIds":["tg-1"],"agInfoSpec":[{"agId":"ag-1","defaultWeight":10}]}`},
		{"huawei-create-pool: --dry-run first, pool fields",
			`create huawei-create-pool --dry-run region=cn-north-4 pool.protocol=HTTP pool.lb_algorithm=ROUND_ROBIN pool.admin_state_up=false pool.session_persistence.type=APP_COOKIE pool.session_persistence.cookie_name=sid pool.session_persistence.persistence_timeout=30`,
			"huawei-create-pool", true,
			`{"region":"cn-north-4","pool":{"protocol":"HTTP","lb_algorithm":"ROUND_ROBIN","admin_state_up":false,"session_persistence":{"type":"APP_COOKIE","cookie_name":"sid","persistence_timeout":30}}}`},
		{"huawei-create-lbaas-pool: JSON object form, --dry-run after it",
			`create huawei-create-lbaas-pool {"region":"cn-north-4","pool":{"protocol":"TCP","lb_algorithm":"SOURCE_IP","listener_id":"l-1"}} --dry-run`,
			"huawei-create-lbaas-pool", true,
			`{"region":"cn-north-4","pool":{"protocol":"TCP","lb_algorithm":"SOURCE_IP","listener_id":"l-1"}}`},
		{"huawei-create-master-slave-pool: members by index, in any order",
			`create huawei-create-master-slave-pool region=cn-north-4 pool.members[1].role=slave pool.members[0].role=master pool.members[0].protocol_port=89 pool.members[1].address=172.16.0.211 pool.healthmonitor.delay=1`,
			"huawei-create-master-slave-pool", false,
			`{"region":"cn-north-4","pool":{"members":[{"role":"master","protocol_port":89},{"role":"slave","address":"172.16.0.211"}],"healthmonitor":{"delay":1}}}`},
		{"huawei-create-master-slave-pool: an array of objects given whole",
			`create huawei-create-master-slave-pool pool.members=[{"address":"172.16.0.210","role":"master"}, {"address":"172.16.0.211","role":"slave"}]`,
			"huawei-create-master-slave-pool", false,
			`{"pool":{"members":[{"address":"172.16.0.210","role":"master"},{"address":"172.16.0.211","role":"slave"}]}}`},
		{"ctyun: quoted values, an object given whole",
			`create ctyun-create-policy name="web policy" conditions[0].ruleType=PATH conditions[0].matchType=REGEX conditions[0].matchValue='^/api/\d+$' targetGroup={"name":"tg","algorithm":"rr"}`,
			"ctyun-create-policy", false,
			`{"name":"web policy","conditions":[{"ruleType":"PATH","matchType":"REGEX","matchValue":"^/api/\\d+$"}],"targetGroup":{"name":"tg","algorithm":"rr"}}`},
		{"ctyun: double quotes escape \" and \\ only",
			`create ctyun-create-policy description="say \"hi\" \d \\" targetGroup.targets[0].weight=10`,
			"ctyun-create-policy", false,
			`{"description":"say \"hi\" \\d \\","targetGroup":{"targets":[{"weight":10}]}}`},
		{"a number field quoted is still a number, a string field quoted stays a string",
			`create ctyun-create-policy targetGroup.targets[0].protocolPort="8080" name="true"`,
			"ctyun-create-policy", false,
			`{"targetGroup":{"targets":[{"protocolPort":8080}]},"name":"true"}`},
		{"empty value is an empty string",
			`create ctyun-create-policy clientToken= name=""`,
			"ctyun-create-policy", false,
			`{"clientToken":"","name":""}`},
		{"a value may hold '=' and JSON-looking text when the field is a string",
			`create ctyun-create-policy description=a=b name={x}`,
			"ctyun-create-policy", false,
			`{"description":"a=b","name":"{x}"}`},
		{"no fields: an empty request, for the rules to answer",
			`create ctyun-create-policy`, "ctyun-create-policy", false, `{}`},
		{"prefix /lb, capitals from a phone, extra spaces",
			`  /lb   Create   Jdcloud-Create-Backend   port=80  --DRY-RUN `,
			"jdcloud-create-backend", true, `{"port":80}`},
		{"prefix lb", `lb create jdcloud-create-backend port=80`, "jdcloud-create-backend", false, `{"port":80}`},
	}
	for _, tt := range tests {
		c, err := command.Parse(tt.text, ops)
		if err != nil {
			t.Errorf("%s: Parse(%q): %v", tt.name, tt.text, err)
			continue
		}
		if c.Kind != command.Create || c.Function != tt.function || c.DryRun != tt.dryRun {
			t.Errorf("%s: Parse(%q) = %v %q dryRun=%v, want create %q dryRun=%v", tt.name, tt.text, c.Kind, c.Function, c.DryRun, tt.function, tt.dryRun)
		}
		if !sameJSON(t, c.Request, []byte(tt.request)) {
			t.Errorf("%s: Parse(%q) request\n %s\nwant\n %s", tt.name, tt.text, c.Request, tt.request)
		}
	}
}

// TestParseChatClients feeds the same command as phones and input methods deliver it.
func TestParseChatClients(t *testing.T) {
	const want = `{"region":"cn-north-4","pool":{"protocol":"TCP","name":"my pool","members":[{"role":"master","protocol_port":80}]}}`
	texts := map[string]string{
		"ASCII":                        `create huawei-create-master-slave-pool --dry-run region=cn-north-4 pool.protocol=TCP pool.name="my pool" pool.members[0].role=master pool.members[0].protocol_port=80`,
		"iOS smart punctuation":        `Create huawei-create-master-slave-pool —dry-run region=cn-north-4 pool.protocol=TCP pool.name=“my pool” pool.members[0].role=master pool.members[0].protocol_port=80`,
		"iOS, closing quotes only":     `create huawei-create-master-slave-pool –dry-run region=cn-north-4 pool.protocol=TCP pool.name=”my pool” pool.members[0].role=master pool.members[0].protocol_port=80`,
		"Chinese IME, full-width":      "create\u3000huawei-create-master-slave-pool\u3000——dry-run\u3000region＝cn-north-4\u3000pool。protocol＝TCP\u3000pool。name＝“my pool”\u3000pool。members【0】。role＝master\u3000pool.members［0］.protocol_port＝80",
		"Japanese IME, full-width all": "ｃｒｅａｔｅ　ｈｕａｗｅｉ－ｃｒｅａｔｅ－ｍａｓｔｅｒ－ｓｌａｖｅ－ｐｏｏｌ　－－ｄｒｙ－ｒｕｎ　ｒｅｇｉｏｎ＝ｃｎ－ｎｏｒｔｈ－４　ｐｏｏｌ．ｐｒｏｔｏｃｏｌ＝ＴＣＰ　ｐｏｏｌ．ｎａｍｅ＝＂my pool＂　ｐｏｏｌ．ｍｅｍｂｅｒｓ［０］．ｒｏｌｅ＝ｍａｓｔｅｒ　ｐｏｏｌ．ｍｅｍｂｅｒｓ［０］．ｐｒｏｔｏｃｏｌ＿ｐｏｒｔ＝８０",
		"no-break spaces (pasted)":     "create\u00a0huawei-create-master-slave-pool --dry-run\u00a0region=cn-north-4 pool.protocol=TCP pool.name=\"my pool\" pool.members[0].role=master\u200b pool.members[0].protocol_port=80",
		"multi-line message":           "/lb create huawei-create-master-slave-pool --dry-run\nregion=cn-north-4\npool.protocol=TCP\npool.name=\"my pool\"\npool.members[0].role=master\npool.members[0].protocol_port=80\n",
		"JSON, Chinese IME":            "create huawei-create-master-slave-pool —dry-run ｛“region”：“cn-north-4”，“pool”：｛“protocol”：“TCP”，“name”：“my pool”，“members”：［｛“role”：“master”，“protocol_port”：80｝］｝｝",
		"JSON, iOS quotes":             `create huawei-create-master-slave-pool {”region”: ”cn-north-4”, ”pool”: {”protocol”: ”TCP”, ”name”: ”my pool”, ”members”: [{”role”: ”master”, ”protocol_port”: 80}]}} —dry-run`,
		"JSON over lines":              "create huawei-create-master-slave-pool --dry-run {\n  \"region\": \"cn-north-4\",\n  \"pool\": {\"protocol\": \"TCP\", \"name\": \"my pool\",\n    \"members\": [{\"role\": \"master\", \"protocol_port\": 80}]}\n}",
	}
	for name, text := range texts {
		c, err := command.Parse(text, ops)
		if err != nil {
			t.Errorf("%s: Parse(%q): %v", name, text, err)
			continue
		}
		if c.Kind != command.Create || c.Function != "huawei-create-master-slave-pool" || !c.DryRun || !sameJSON(t, c.Request, []byte(want)) {
			t.Errorf("%s: Parse(%q) = %+v %s", name, text, c, c.Request)
		}
	}
}

func TestParseHelp(t *testing.T) {
	tests := []struct {
		text     string
		kind     command.Kind
		function string
	}{
		{"help", command.Help, ""},
		{"", command.Help, ""},
		{"/lb", command.Help, ""},
		{"  lb  HELP ", command.Help, ""},
		{"Help ctyun-create-policy", command.HelpFunction, "ctyun-create-policy"},
		{"/lb help HUAWEI-CREATE-POOL", command.HelpFunction, "huawei-create-pool"},
		{"ｈｅｌｐ　jdcloud-create-backend", command.HelpFunction, "jdcloud-create-backend"},
	}
	for _, tt := range tests {
		c, err := command.Parse(tt.text, ops)
		if err != nil || c.Kind != tt.kind || c.Function != tt.function || c.Request != nil {
			t.Errorf("Parse(%q) = %+v, %v; want %v %q", tt.text, c, err, tt.kind, tt.function)
		}
	}
}

// violation is one expected problem: its path, and a piece of its message.
type violation struct{ field, says string }

func TestParseErrors(t *testing.T) {
	tests := []struct {
		text  string
		want  []violation
		usage string // a piece of the usage text the message ends with
	}{
		{"frobnicate now", []violation{{"", `unknown command "frobnicate"`}}, "help <function>"},
		{"lbx help", []violation{{"", `unknown command "lbx"`}}, "Functions"},
		{"help nosuch-function", []violation{{"", `unknown function "nosuch-function"`}}, "functions: jdcloud-create-backend"},
		{"help huawei-create-pol", []violation{{"", "did you mean huawei-create-pool?"}}, "functions:"},
		{"help huawei-create-pool more", []violation{{"", "help takes one function"}}, "usage: help <function>"},
		{"create", []violation{{"", "create needs a function"}}, "functions:"},
		{"create --dry-run", []violation{{"", "create needs a function"}}, "functions:"},
		{"create nosuch x=1", []violation{{"", `unknown function "nosuch"`}}, "functions:"},
		{"create huawei-create-pool pool.protocl=TCP",
			[]violation{{"pool.protocl", "unknown field (did you mean pool.protocol?)"}}, "help huawei-create-pool lists the fields"},
		{"create huawei-create-pool Region=x", []violation{{"Region", "did you mean region?"}}, ""},
		{"create huawei-create-pool pool.members[0].role=master",
			[]violation{{"pool.members", "unknown field"}}, ""},
		{"create huawei-create-master-slave-pool pool.members[0].rol=master",
			[]violation{{"pool.members[0].rol", "did you mean pool.members[0].role?"}}, ""},
		{"create huawei-create-master-slave-pool pool.members.role=master",
			[]violation{{"pool.members", "is an array: give an index, as pool.members[0].role"}}, ""},
		{"create huawei-create-master-slave-pool pool.protocol[0]=TCP",
			[]violation{{"pool.protocol", "is a string, not an array"}}, ""},
		{"create huawei-create-master-slave-pool pool.protocol.x=TCP",
			[]violation{{"pool.protocol", `is a string: it has no field "x"`}}, ""},
		{"create huawei-create-master-slave-pool pool.members[x].role=a", []violation{{"pool.members[x].role", "want a number"}}, ""},
		{"create huawei-create-master-slave-pool pool.members[01].role=a", []violation{{"pool.members[01].role", "want a number"}}, ""},
		{"create huawei-create-master-slave-pool pool.members[-1].role=a", []violation{{"pool.members[-1].role", "want a number"}}, ""},
		{"create huawei-create-master-slave-pool pool.members[1000].role=a", []violation{{"pool.members[1000].role", "at most 999"}}, ""},
		{"create huawei-create-master-slave-pool pool.members[0.role=a", []violation{{"pool.members[0.role", "without its ']'"}}, ""},
		{"create huawei-create-master-slave-pool pool..name=a", []violation{{"pool..name", "empty field name"}}, ""},
		{"create huawei-create-master-slave-pool pool.members[0]x=a", []violation{{"pool.members[0]x", "not .name or [index]"}}, ""},
		{"create huawei-create-master-slave-pool [0]=a", []violation{{"[0]", "must start with a field name"}}, ""},
		{"create huawei-create-master-slave-pool =a", []violation{{"", "path is missing"}}, ""},
		// Indexes numbered from 0 without gaps.
		{"create huawei-create-master-slave-pool pool.members[1].role=slave",
			[]violation{{"pool.members[0]", "number the items from 0 without gaps (pool.members[1] is set)"}}, ""},
		{"create huawei-create-master-slave-pool pool.members[0].role=master pool.members[2].role=slave",
			[]violation{{"pool.members[1]", "pool.members[2] is set"}}, ""},
		{"create jdcloud-create-backend healthCheckSpec.httpCode[3]=200",
			[]violation{{"healthCheckSpec.httpCode[0]", "healthCheckSpec.httpCode[3] is set"}}, ""},
		// A path set twice, or set both whole and member by member.
		{"create jdcloud-create-backend port=80 port=81", []violation{{"port", "set more than once"}}, ""},
		{"create jdcloud-create-backend healthCheckSpec={} healthCheckSpec.protocol=Tcp",
			[]violation{{"healthCheckSpec.protocol", "healthCheckSpec is already given as a whole"}}, ""},
		{"create jdcloud-create-backend healthCheckSpec.protocol=Tcp healthCheckSpec={}",
			[]violation{{"healthCheckSpec", "its fields are already set one by one"}}, ""},
		{`create jdcloud-create-backend targetGroupIds=["a"] targetGroupIds[0]=b`,
			[]violation{{"targetGroupIds[0]", "targetGroupIds is already given as a whole"}}, ""},
		// Values of the wrong type.
		{"create jdcloud-create-backend port=80x", []violation{{"port", `must be an integer, got "80x"`}}, ""},
		{"create jdcloud-create-backend port=8.5", []violation{{"port", "must be an integer"}}, ""},
		{"create jdcloud-create-backend port=", []violation{{"port", `must be an integer, got ""`}}, ""},
		{"create jdcloud-create-backend port=99999999999999999999", []violation{{"port", "out of range"}}, ""},
		{"create jdcloud-create-backend proxyProtocol=yes", []violation{{"proxyProtocol", `must be true or false, got "yes"`}}, ""},
		{"create jdcloud-create-backend healthCheckSpec=Tcp", []violation{{"healthCheckSpec", "must be a JSON object"}}, ""},
		{"create jdcloud-create-backend targetGroupIds=tg-1", []violation{{"targetGroupIds", "or set items one by one"}}, ""},
		{`create jdcloud-create-backend targetGroupIds={"a":1}`, []violation{{"targetGroupIds", "must be a JSON array"}}, ""},
		{`create jdcloud-create-backend healthCheckSpec={"protocol":}`, []violation{{"healthCheckSpec", "is not valid JSON"}}, ""},
		{`create jdcloud-create-backend healthCheckSpec={"protocol":"Tcp"`, []violation{{"healthCheckSpec", "is not valid JSON"}}, ""},
		{`create jdcloud-create-backend description="abc`, []violation{{"description", `unterminated " quote`}}, ""},
		{`create jdcloud-create-backend description='abc`, []violation{{"description", `unterminated ' quote`}}, ""},
		{`create jdcloud-create-backend description="abc"def`, []violation{{"description", `unexpected "def" after the value`}}, ""},
		{`create jdcloud-create-backend healthCheckSpec={}x`, []violation{{"healthCheckSpec", `unexpected "x"`}}, ""},
		// A value with spaces, unquoted; a word without '='.
		{"create jdcloud-create-backend description=two words",
			[]violation{{"", `expected <path>=<value>, got "words" (write <path>=<value>; quote a value that has spaces)`}}, ""},
		{"create jdcloud-create-backend port", []violation{{"", `expected <path>=<value>, got "port"`}}, ""},
		{"create jdcloud-create-backend --force", []violation{{"", `unknown option "--force"`}}, ""},
		// The common fields are chatops's own.
		{"create jdcloud-create-backend dryRun=true", []violation{{"dryRun", "use --dry-run"}}, ""},
		{"create jdcloud-create-backend idempotencyKey=k", []violation{{"idempotencyKey", "chatops sets it"}}, ""},
		{"create jdcloud-create-backend replyTo=https://example.com/", []violation{{"replyTo", "chatops sets it"}}, ""},
		{`create jdcloud-create-backend {"port":80,"replyTo":"https://example.com/","dryRun":true}`,
			[]violation{{"dryRun", "use --dry-run"}, {"replyTo", "chatops sets it"}}, ""},
		// JSON form problems.
		{`create jdcloud-create-backend {"port":80`, []violation{{"", "not valid JSON"}}, ""},
		{`create jdcloud-create-backend {"port":80,}`, []violation{{"", "not valid JSON"}}, ""},
		{`create jdcloud-create-backend {"port":80} {"port":81}`, []violation{{"", "not both"}}, ""},
		{`create jdcloud-create-backend port=80 {"port":81}`, []violation{{"", "not both"}}, ""},
		{`create jdcloud-create-backend {"port":81} port=80`, []violation{{"", "not both"}}, ""},
		// Every problem at once, in the order written.
		{"create huawei-create-pool pool.protocl=TCP region=a region=b pool.admin_state_up=1",
			[]violation{{"pool.protocl", "unknown field"}, {"region", "more than once"}, {"pool.admin_state_up", "true or false"}}, ""},
	}
	for _, tt := range tests {
		c, err := command.Parse(tt.text, ops)
		var e *op.Error
		if !errors.As(err, &e) || e.Kind != op.KindValidation || e.Retryable {
			t.Errorf("Parse(%q) = %+v, %v; want a validation *op.Error", tt.text, c, err)
			continue
		}
		if len(e.Violations) != len(tt.want) {
			t.Errorf("Parse(%q) violations %v, want %v", tt.text, e.Violations, tt.want)
			continue
		}
		for i, w := range tt.want {
			if v := e.Violations[i]; v.Field != w.field || !strings.Contains(v.Message, w.says) {
				t.Errorf("Parse(%q) violation %d = %q: %q, want %q: …%s…", tt.text, i, v.Field, v.Message, w.field, w.says)
			}
			if !strings.Contains(e.Message, w.says) {
				t.Errorf("Parse(%q) message %q does not say %q", tt.text, e.Message, w.says)
			}
		}
		if !strings.Contains(e.Message, tt.usage) {
			t.Errorf("Parse(%q) message %q has no usage text %q", tt.text, e.Message, tt.usage)
		}
	}
}

func TestParseTooLong(t *testing.T) {
	text := "create jdcloud-create-backend description=" + strings.Repeat("x", command.MaxText)
	_, err := command.Parse(text, ops)
	var e *op.Error
	if !errors.As(err, &e) || e.Kind != op.KindValidation || !strings.Contains(e.Message, "bytes long") {
		t.Errorf("Parse of %d bytes: %v", len(text), err)
	}
}

func TestParseBoundsTheAnswer(t *testing.T) {
	// Thousands of bad pairs: the answer lists a few, the error a bounded number.
	text := "create jdcloud-create-backend" + strings.Repeat(" nosuch=1", 1500)
	_, err := command.Parse(text, ops)
	var e *op.Error
	if !errors.As(err, &e) {
		t.Fatalf("Parse: %v", err)
	}
	if len(e.Violations) > 60 || len(e.Message) > 1500 {
		t.Errorf("%d violations, message of %d bytes", len(e.Violations), len(e.Message))
	}
	if !strings.Contains(e.Message, "more") {
		t.Errorf("message %q does not say there are more", e.Message)
	}
}
