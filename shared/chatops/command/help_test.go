package command_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lbfn/lbfn/shared/chatops/command"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// helpPaths returns the field paths Describe lists, with their lines.
func helpPaths(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n")[3:] {
		path, _, _ := strings.Cut(line, " ")
		out[strings.TrimSuffix(path, "*")] = line
	}
	return out
}

// filled returns a value of t with every field set, so that encoding/json writes every member
// the type has: the oracle of which paths a request type has, independent of the command
// package's own reading of types.
func filled(t reflect.Type, depth int) reflect.Value {
	v := reflect.New(t).Elem()
	if depth > 8 {
		return v
	}
	switch t.Kind() {
	case reflect.Pointer:
		v.Set(filled(t.Elem(), depth+1).Addr())
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				v.Field(i).Set(filled(t.Field(i).Type, depth+1))
			}
		}
	case reflect.Slice:
		v.Set(reflect.Append(v, filled(t.Elem(), depth+1)))
	case reflect.Map:
		v.Set(reflect.MakeMap(t))
		v.SetMapIndex(reflect.ValueOf("k"), filled(t.Elem(), depth+1))
	case reflect.String:
		v.SetString("s")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	}
	return v
}

// jsonPaths lists the paths of a JSON value, array items as [n].
func jsonPaths(v any, path string, out map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			p := validate.Join(path, k)
			out[p] = true
			jsonPaths(x, p, out)
		}
	case []any:
		for _, x := range v {
			jsonPaths(x, path+"[n]", out)
		}
	}
}

func TestDescribeListsEveryField(t *testing.T) {
	for _, o := range ops {
		b, err := json.Marshal(filled(o.RequestType(), 0).Interface())
		if err != nil {
			t.Fatal(err)
		}
		var v any
		_ = json.Unmarshal(b, &v)
		want := map[string]bool{}
		jsonPaths(v, "", want)
		for _, common := range []string{"idempotencyKey", "dryRun", "replyTo"} {
			delete(want, common)
		}
		got := helpPaths(command.Describe(o))
		for path := range want {
			if _, ok := got[path]; !ok {
				t.Errorf("%s: help has no %s", o.Function(), path)
			}
		}
		for path := range got {
			if !want[path] {
				t.Errorf("%s: help lists %s, which the request type does not have", o.Function(), path)
			}
		}
	}
}

func TestDescribeRequiredAndEnums(t *testing.T) {
	want := map[string][]string{
		"jdcloud-create-backend": {
			"regionId* string", "backendName* string", "port* int", "protocol* Http|Tcp|Udp",
			"healthCheckSpec* object", "healthCheckSpec.protocol* Http|Tcp|Icmp", "healthCheckSpec.httpCode []string",
			"algorithm IpHash|RoundRobin|LeastConn|QuintupleHash", "agInfoSpec[n].agId* string", "proxyProtocol bool",
			"description string",
		},
		"huawei-create-pool": {
			"region* string", "projectId string", "pool* object", "pool.protocol* TCP|UDP|HTTP",
			"pool.lb_algorithm* ROUND_ROBIN|LEAST_CONNECTIONS|SOURCE_IP",
			"pool.listener_id string (at least one of pool.listener_id, pool.loadbalancer_id is required)",
			"pool.session_persistence.type* SOURCE_IP|HTTP_COOKIE|APP_COOKIE",
			"pool.session_persistence.cookie_name string (required when type is APP_COOKIE)",
			"pool.protection_status nonProtection|consoleProtection",
		},
		"huawei-create-lbaas-pool": {"pool.project_id string", "pool.protocol* TCP|UDP|HTTP"},
		"huawei-create-master-slave-pool": {
			"pool.protocol* TCP|UDP|QUIC|TLS", "pool.members[n].role* master|slave", "pool.members[n].protocol_port* int",
			"pool.healthmonitor* object", "pool.healthmonitor.type* TCP|UDP_CONNECT|HTTP|HTTPS",
			"pool.vpc_id string (required when type is instance)",
			"pool.session_persistence object (required when protocol is QUIC)",
			"pool.members []object (must have exactly 2 members (one master, one slave))",
		},
		"ctyun-create-policy": {
			"clientToken string", "conditions* []object", "conditions[n].matchType* STARTS_WITH|EQUAL_TO|REGEX",
			"targetGroup.targets[n].instanceType* vm",
			// An enum that applies only beside another field's value (protocol HTTP).
			"targetGroup.healthCheck.httpMethod GET|HEAD (required when protocol is HTTP)",
			"targetGroup.sessionSticky.persistenceTimeout int (required when sessionType is APP_COOKIE or SOURCE_IP)",
		},
	}
	for _, o := range ops {
		lines := strings.Split(command.Describe(o), "\n")
		for _, w := range want[o.Function()] {
			found := false
			for _, l := range lines {
				found = found || l == w
			}
			if !found {
				t.Errorf("%s: help has no line %q", o.Function(), w)
			}
		}
	}
}

// TestHelpFitsAChatMessage: Slack shows 3,000 characters in a section, WeCom markdown 4,096
// bytes.
func TestHelpFitsAChatMessage(t *testing.T) {
	texts := map[string]string{"help": command.Usage(ops)}
	for _, o := range ops {
		texts["help "+o.Function()] = command.Describe(o)
	}
	for name, text := range texts {
		if n := utf8.RuneCountInString(text); n > 3000 || len(text) > 4096 {
			t.Errorf("%s is %d characters (%d bytes)", name, n, len(text))
		}
	}
}

func TestUsage(t *testing.T) {
	u := command.Usage(ops)
	for _, want := range []string{
		"help <function>", "create <function> [--dry-run] <path>=<value>", "create <function> [--dry-run] {…}",
		"jdcloud-create-backend (jdcloud): regionId, backendName, loadBalancerId, protocol, port, healthCheckSpec.protocol",
		"huawei-create-pool (huaweicloud): region, pool.protocol, pool.lb_algorithm",
		"huawei-create-master-slave-pool (huaweicloud): region, pool.lb_algorithm, pool.protocol, pool.healthmonitor.delay",
		"ctyun-create-policy (ctyun): regionID, listenerID, name, conditions, targetGroup.name, targetGroup.algorithm",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("help has no %q:\n%s", want, u)
		}
	}
	for _, o := range ops {
		if !strings.Contains(u, "\n"+o.Function()+" (") {
			t.Errorf("help does not list %s", o.Function())
		}
	}
}

// Test operations whose types and rules change, to show help follows them.
type thingInner struct {
	Size  *int   `json:"size,omitempty"`
	Color string `json:"color"`
}

type thingV1 struct {
	op.Common
	Name   string      `json:"name"`
	Mode   *string     `json:"mode,omitempty"`
	Hidden string      `json:"-"`
	secret string      //nolint:unused // unexported: not a field
	Inner  *thingInner `json:"inner,omitempty"`
}

type thingV2 struct {
	thingV1
	Extra []bool `json:"extra"`
}

func thingOp[R any](name string, rules func(r *R, v *validate.Report)) op.Operation {
	return &op.Spec[R, struct{}]{
		FunctionName: name,
		ProviderName: "testcloud",
		Client:       func() (struct{}, error) { return struct{}{}, nil },
		Validate:     rules,
		Send: func(context.Context, struct{}, *R, op.Call) (op.Result, error) {
			return op.Result{}, errors.New("not called")
		},
	}
}

func TestDescribeFollowsTypesAndRules(t *testing.T) {
	strict := func(r *thingV1, v *validate.Report) {
		v.RequiredString("name", &r.Name)
		v.Enum("mode", r.Mode, "fast", "slow")
		if r.Inner != nil {
			v.RequiredString("inner.color", &r.Inner.Color)
			v.Enum("inner.color", &r.Inner.Color, "red", "blue")
		}
	}
	v1 := command.Describe(thingOp("test-thing", strict))
	v1loose := command.Describe(thingOp("test-thing-loose", func(*thingV1, *validate.Report) {}))
	v2 := command.Describe(thingOp("test-thing-v2", func(r *thingV2, v *validate.Report) { strict(&r.thingV1, v) }))

	has := func(text, line string) bool { return strings.Contains("\n"+text+"\n", "\n"+line+"\n") }
	for _, line := range []string{"name* string", "mode fast|slow", "inner object", "inner.size int", "inner.color* red|blue"} {
		if !has(v1, line) || !has(v2, line) {
			t.Errorf("help of the strict rules has no %q:\n%s\n%s", line, v1, v2)
		}
	}
	for _, line := range []string{"name string", "mode string", "inner.color string"} {
		if !has(v1loose, line) {
			t.Errorf("help without rules has no %q:\n%s", line, v1loose)
		}
	}
	if !has(v2, "extra []bool") || strings.Contains(v1, "extra") {
		t.Errorf("a field added to the type shows only in its help:\n%s\n%s", v1, v2)
	}
	for _, text := range []string{v1, v2} {
		if strings.Contains(text, "Hidden") || strings.Contains(text, "secret") || strings.Contains(text, "dryRun") ||
			strings.Contains(text, "idempotencyKey") || strings.Contains(text, "replyTo") {
			t.Errorf("help lists a field chat cannot set:\n%s", text)
		}
	}
	// The field added is also one Parse knows, typed.
	c, err := command.Parse("create test-thing-v2 extra[0]=true name=n", []op.Operation{thingOp("test-thing-v2", func(*thingV2, *validate.Report) {})})
	if err != nil || string(c.Request) != `{"extra":[true],"name":"n"}` {
		t.Errorf("Parse = %s, %v", c.Request, err)
	}
}
