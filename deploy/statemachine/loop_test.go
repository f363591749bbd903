package statemachine_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbfn/lbfn/deploy/statemachine"
	"github.com/lbfn/lbfn/shared/ctyun"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/op"
)

// This test walks the CTyun job-poller as Step Functions would: it interprets the states of
// the real definition (the subset it uses: Pass, Task, Choice, Wait, Succeed, Fail, with
// Parameters, ResultSelector, ResultPath, OutputPath, Retry and Catch), and runs each Task by
// invoking the function the way a direct Lambda invoke does: op.Run with Trigger "direct".
// Waits are recorded, not slept.

const request = `{"regionID":"bb9fdb42056f11eda1610242ac110002","listenerID":"listener-3ba2dlfbec","name":"policy01",` +
	`"conditions":[{"ruleType":"PATH","matchType":"STARTS_WITH","matchValue":"/api"}],` +
	`"targetGroup":{"name":"tg01","algorithm":"rr","targets":[{"instanceID":"ss-0123456789","protocolPort":8080,"instanceType":"vm","weight":100,"address":"192.168.0.10"}]}}`

// cloud is the emulator the function talks to; tests swap it, because ctyun.CreatePolicy reads
// CTYUN_ELB_ENDPOINT once per process.
var cloud atomic.Pointer[emulator.Emulator]

func setup(t *testing.T, opts emulator.Options) *emulator.Emulator {
	t.Helper()
	emu := emulator.New(opts)
	cloud.Store(emu)
	return emu
}

func TestMain(m *testing.M) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cloud.Load().ServeHTTP(w, r)
	}))
	for k, v := range map[string]string{
		"CTYUN_AK": emulator.DemoAccessKey, "CTYUN_SK": emulator.DemoSecretKey, "CTYUN_ELB_ENDPOINT": srv.URL,
		// One request per invocation: every poll goes through the state machine's loop.
		"LBFN_CTYUN_POLL_FIRST": "1ms", "LBFN_CTYUN_POLL_MAX": "2ms", "LBFN_CTYUN_MAX_POLLS": "1",
		"LBFN_MAX_ATTEMPTS": "1",
	} {
		if err := os.Setenv(k, v); err != nil {
			panic(err)
		}
	}
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

func TestJobPollerLoop(t *testing.T) {
	tests := []struct {
		name      string
		opts      emulator.Options
		faults    []emulator.Fault
		input     string
		wantEnd   string // the final state
		wantError string // the Fail state's error
		wantPolls int    // Wait states passed through
		wantRetry int    // Task retries taken
		// busy is how many invocations find the creation's idempotency key held by a
		// duplicate execution running at the same time.
		busy int
		// refuse, when set, is what every invocation fails with before calling CTyun.
		refuse *op.Error
	}{
		{name: "in_progress twice, then created", opts: emulator.Options{CTyunPolls: 3}, input: request,
			wantEnd: "Done", wantPolls: 3},
		{name: "done at once", opts: emulator.Options{CTyunPolls: -1}, input: request, wantEnd: "Done"},
		{name: "dry run is done", opts: emulator.Options{CTyunPolls: 3},
			input: strings.Replace(request, "{", `{"dryRun":true,`, 1), wantEnd: "Done"},
		{name: "validation failure keeps its error", opts: emulator.Options{CTyunPolls: 3},
			input:   strings.Replace(request, `"algorithm":"rr"`, `"algorithm":"wrr"`, 1),
			wantEnd: "CreationFailed", wantError: "ValidationError"},
		{name: "unavailable is retried by the task's retrier", opts: emulator.Options{CTyunPolls: 1},
			faults: []emulator.Fault{{Provider: "ctyun", Status: http.StatusServiceUnavailable}},
			input:  request, wantEnd: "Done", wantPolls: 1, wantRetry: 1},
		{name: "iteration cap", opts: emulator.Options{CTyunPolls: 1000}, input: request,
			wantEnd: "TooManyPolls", wantError: "TooManyPolls", wantPolls: 119},
		{name: "a duplicate in progress elsewhere is waited for", opts: emulator.Options{CTyunPolls: 1}, busy: 2,
			input: request, wantEnd: "Done", wantPolls: 1, wantRetry: 2},
		{name: "a duplicate that never lets go fails as InProgressError", opts: emulator.Options{CTyunPolls: 1}, busy: 1000,
			input: request, wantEnd: "CreationFailed", wantError: "InProgressError", wantRetry: 5},
		{name: "a real conflict is not retried", opts: emulator.Options{CTyunPolls: 1},
			refuse: op.Errorf(op.KindConflict, "the policy exists"),
			input:  request, wantEnd: "CreationFailed", wantError: "ConflictError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu := setup(t, tt.opts)
			emu.Inject(tt.faults...)
			store := &busyStore{busy: tt.busy, refuse: tt.refuse}
			run := execute(t, statemachine.CtyunCreatePolicy, tt.input, store)
			if run.end != tt.wantEnd {
				t.Fatalf("ended in %s, want %s (path %v, output %s)", run.end, tt.wantEnd, run.path, run.output)
			}
			if run.error != tt.wantError {
				t.Errorf("error %q, want %q (cause %s)", run.error, tt.wantError, run.cause)
			}
			if len(run.waits) != tt.wantPolls {
				t.Errorf("waited %d times, want %d", len(run.waits), tt.wantPolls)
			}
			if run.retries != tt.wantRetry {
				t.Errorf("%d retries, want %d", run.retries, tt.wantRetry)
			}
			if tt.wantPolls > 0 {
				loop := "CreatePolicy CheckStatus CountPoll CheckPolls WaitBeforePoll CreatePolicy"
				if !strings.Contains(strings.Join(run.path, " "), loop) {
					t.Errorf("path %v does not go round the loop %s", run.path, loop)
				}
			}
			for _, w := range run.waits {
				if w < 1 {
					t.Errorf("waited %d s: retryAfterSeconds must be at least 1", w)
				}
			}
			switch tt.wantEnd {
			case "Done":
				var res op.Result
				if err := json.Unmarshal(run.output, &res); err != nil {
					t.Fatalf("output %s: %v", run.output, err)
				}
				if !res.OK || (res.Status != op.StatusCreated && res.Status != op.StatusValidated) {
					t.Errorf("output %s, want a created or validated result", run.output)
				}
				if res.Status == op.StatusCreated && res.ID == "" {
					t.Errorf("created without a policy id: %s", run.output)
				}
			case "CreationFailed":
				var cause struct{ ErrorMessage, ErrorType string }
				_ = json.Unmarshal([]byte(run.cause), &cause)
				var res op.Result
				if err := json.Unmarshal([]byte(cause.ErrorMessage), &res); err != nil || res.Error == nil ||
					res.Error.Kind.TypeName() != tt.wantError ||
					(res.Error.Kind == op.KindValidation && len(res.Error.Violations) == 0) {
					t.Errorf("cause %s does not keep the failure result", run.cause)
				}
			}
			// Every request of the creation carried the same body, hence the same clientToken.
			sent := emu.Requests()
			for _, r := range sent {
				if r.Status == http.StatusOK && string(r.Body) != string(firstOK(sent)) {
					t.Errorf("a poll sent a different body:\n%s\nfirst:\n%s", r.Body, firstOK(sent))
				}
			}
		})
	}
}

// busyStore is the idempotency store as a duplicate execution of the same creation leaves it:
// its first busy claims find the key held elsewhere; after that it remembers nothing. With
// refuse set, every claim fails with it instead.
type busyStore struct {
	busy   int
	refuse *op.Error
}

func (s *busyStore) Claim(context.Context, string, string, time.Time) (*op.Result, error) {
	if s.refuse != nil {
		return nil, s.refuse
	}
	if s.busy > 0 {
		s.busy--
		return nil, op.ErrInProgress
	}
	return nil, nil
}
func (s *busyStore) Complete(context.Context, string, string, *op.Result) error { return nil }
func (s *busyStore) Release(context.Context, string) error                      { return nil }

func firstOK(rs []emulator.Recorded) []byte {
	for _, r := range rs {
		if r.Status == http.StatusOK {
			return r.Body
		}
	}
	return nil
}

// run is what an execution did.
type run struct {
	path    []string
	waits   []int
	retries int
	end     string
	output  json.RawMessage
	error   string
	cause   string
}

// stateDef is the part of an ASL state the interpreter reads.
type stateDef struct {
	Type           string            `json:"Type"`
	Next           string            `json:"Next"`
	End            bool              `json:"End"`
	Parameters     map[string]any    `json:"Parameters"`
	ResultSelector map[string]any    `json:"ResultSelector"`
	ResultPath     *string           `json:"ResultPath"`
	OutputPath     string            `json:"OutputPath"`
	Resource       string            `json:"Resource"`
	Choices        []json.RawMessage `json:"Choices"`
	Default        string            `json:"Default"`
	SecondsPath    string            `json:"SecondsPath"`
	Seconds        *int              `json:"Seconds"`
	Error          string            `json:"Error"`
	Cause          string            `json:"Cause"`
	ErrorPath      string            `json:"ErrorPath"`
	CausePath      string            `json:"CausePath"`
	Retry          []struct {
		ErrorEquals []string `json:"ErrorEquals"`
		MaxAttempts *int     `json:"MaxAttempts"`
	} `json:"Retry"`
	Catch []struct {
		ErrorEquals []string `json:"ErrorEquals"`
		ResultPath  *string  `json:"ResultPath"`
		Next        string   `json:"Next"`
	} `json:"Catch"`
}

// execute interprets the definition on input. The function ARN placeholder is never
// resolved: every Task invokes ctyun-create-policy.
func execute(t *testing.T, definition []byte, input string, store op.Store) run {
	t.Helper()
	var def struct {
		StartAt string              `json:"StartAt"`
		States  map[string]stateDef `json:"States"`
	}
	if err := json.Unmarshal(definition, &def); err != nil {
		t.Fatal(err)
	}
	var data any
	if err := json.Unmarshal([]byte(input), &data); err != nil {
		t.Fatal(err)
	}
	var r run
	name := def.StartAt
	for steps := 0; ; steps++ {
		if steps > 5000 {
			t.Fatalf("no end after %d states: %v", steps, r.path[len(r.path)-10:])
		}
		st, ok := def.States[name]
		if !ok {
			t.Fatalf("no state %q", name)
		}
		r.path = append(r.path, name)
		switch st.Type {
		case "Pass":
			if st.Parameters != nil {
				data = evalTemplate(t, st.Parameters, data)
			}
		case "Task":
			if st.Resource != "arn:aws:states:::lambda:invoke" {
				t.Fatalf("%s: resource %s is not the Lambda invoke integration", name, st.Resource)
			}
			params := evalTemplate(t, st.Parameters, data).(map[string]any)
			if fn, _ := params["FunctionName"].(string); fn != "${CtyunCreatePolicyFunctionArn}" {
				t.Fatalf("%s: invokes %q", name, fn)
			}
			result, errName, cause := invoke(t, params["Payload"], st, store, &r)
			if errName != "" {
				next, resultPath := "", ""
				for _, c := range st.Catch {
					if matches(c.ErrorEquals, errName) {
						next, resultPath = c.Next, "$"
						if c.ResultPath != nil {
							resultPath = *c.ResultPath
						}
						break
					}
				}
				if next == "" {
					r.end, r.error, r.cause = name, errName, cause
					return r
				}
				data = setPath(t, data, resultPath, map[string]any{"Error": errName, "Cause": cause})
				name = next
				continue
			}
			if st.ResultSelector != nil {
				result = evalTemplate(t, st.ResultSelector, result)
			}
			resultPath := "$"
			if st.ResultPath != nil {
				resultPath = *st.ResultPath
			}
			data = setPath(t, data, resultPath, result)
		case "Choice":
			next := st.Default
			for _, c := range st.Choices {
				var rule map[string]any
				_ = json.Unmarshal(c, &rule)
				if evalRule(t, rule, data) {
					next = rule["Next"].(string)
					break
				}
			}
			if next == "" {
				t.Fatalf("%s: no choice matched and no Default", name)
			}
			name = next
			continue
		case "Wait":
			secs := 0
			switch {
			case st.SecondsPath != "":
				v, ok := getPath(data, st.SecondsPath)
				f, isNum := v.(float64)
				if !ok || !isNum {
					t.Fatalf("%s: SecondsPath %s is %v (States.Runtime)", name, st.SecondsPath, v)
				}
				secs = int(f)
			case st.Seconds != nil:
				secs = *st.Seconds
			}
			r.waits = append(r.waits, secs)
		case "Succeed":
			out := data
			if st.OutputPath != "" {
				out, _ = getPath(data, st.OutputPath)
			}
			r.end = name
			r.output, _ = json.Marshal(out)
			return r
		case "Fail":
			r.end, r.error, r.cause = name, st.Error, st.Cause
			if st.ErrorPath != "" {
				v, _ := getPath(data, st.ErrorPath)
				r.error, _ = v.(string)
			}
			if st.CausePath != "" {
				v, _ := getPath(data, st.CausePath)
				r.cause, _ = v.(string)
			}
			return r
		default:
			t.Fatalf("%s: state type %s is not interpreted", name, st.Type)
		}
		if st.OutputPath != "" {
			data, _ = getPath(data, st.OutputPath)
		}
		if st.End {
			r.end = name
			r.output, _ = json.Marshal(data)
			return r
		}
		name = st.Next
	}
}

// invoke runs the function on payload as a direct Lambda invoke, applying the task's Retry
// rules. It returns the Lambda invoke integration's output ({"Payload": result, ...}), or
// the error name and cause Step Functions would see: the error type is the failure's kind
// type name, the cause Lambda's {"errorMessage", "errorType"} with the failure result JSON as
// the message.
func invoke(t *testing.T, payload any, st stateDef, store op.Store, r *run) (any, string, string) {
	t.Helper()
	raw, _ := json.Marshal(payload)
	attempts := map[int]int{}
	for {
		res, _ := op.Runner{Store: store}.Run(context.Background(), ctyun.CreatePolicy, raw, op.Meta{Trigger: "direct"})
		body, _ := json.Marshal(res)
		if res.OK {
			var v any
			_ = json.Unmarshal(body, &v)
			return map[string]any{"Payload": v, "StatusCode": 200.0, "ExecutedVersion": "$LATEST"}, "", ""
		}
		errName := res.Err().Kind.TypeName()
		retried := false
		for i, rule := range st.Retry {
			if !matches(rule.ErrorEquals, errName) {
				continue
			}
			max := 3
			if rule.MaxAttempts != nil {
				max = *rule.MaxAttempts
			}
			if attempts[i] < max {
				attempts[i]++
				r.retries++
				retried = true
			}
			break
		}
		if !retried {
			cause, _ := json.Marshal(map[string]string{"errorMessage": string(body), "errorType": errName})
			return nil, errName, string(cause)
		}
	}
}

func matches(errorEquals []string, name string) bool {
	for _, e := range errorEquals {
		if e == name || e == "States.ALL" || (e == "States.TaskFailed" && !strings.HasPrefix(name, "States.")) {
			return true
		}
	}
	return false
}

// evalTemplate evaluates a Parameters or ResultSelector template: keys ending in ".$" take
// the value of a path or of an intrinsic function.
func evalTemplate(t *testing.T, tmpl any, data any) any {
	t.Helper()
	switch x := tmpl.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, v := range x {
			if key, ok := strings.CutSuffix(k, ".$"); ok {
				expr := v.(string)
				out[key] = evalExpr(t, expr, data)
				continue
			}
			out[k] = evalTemplate(t, v, data)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = evalTemplate(t, v, data)
		}
		return out
	default:
		return x
	}
}

var mathAdd = regexp.MustCompile(`^States\.MathAdd\((\$[^,]*),\s*(-?\d+)\)$`)

func evalExpr(t *testing.T, expr string, data any) any {
	t.Helper()
	if m := mathAdd.FindStringSubmatch(expr); m != nil {
		v, ok := getPath(data, m[1])
		f, isNum := v.(float64)
		if !ok || !isNum {
			t.Fatalf("States.MathAdd: %s is %v", m[1], v)
		}
		n, _ := strconv.Atoi(m[2])
		return f + float64(n)
	}
	if strings.HasPrefix(expr, "States.") {
		t.Fatalf("intrinsic %s is not interpreted", expr)
	}
	v, ok := getPath(data, expr)
	if !ok {
		t.Fatalf("path %s is absent (States.Runtime) in %v", expr, data)
	}
	return v
}

// getPath reads a simple JSONPath: "$" or "$.a.b".
func getPath(data any, path string) (any, bool) {
	if path == "$" {
		return data, true
	}
	rest, ok := strings.CutPrefix(path, "$.")
	if !ok {
		return nil, false
	}
	v := data
	for _, k := range strings.Split(rest, ".") {
		m, isMap := v.(map[string]any)
		if !isMap {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// setPath puts value at a ResultPath into a copy of data.
func setPath(t *testing.T, data any, path string, value any) any {
	t.Helper()
	if path == "$" {
		return value
	}
	rest, ok := strings.CutPrefix(path, "$.")
	if !ok {
		t.Fatalf("ResultPath %s is not interpreted", path)
	}
	keys := strings.Split(rest, ".")
	root, _ := data.(map[string]any)
	out := clone(root)
	m := out
	for _, k := range keys[:len(keys)-1] {
		next := clone(obj(m[k]))
		m[k] = next
		m = next
	}
	m[keys[len(keys)-1]] = value
	return out
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// evalRule evaluates a Choice rule: And, StringEquals, IsPresent, NumericGreaterThanEquals.
func evalRule(t *testing.T, rule map[string]any, data any) bool {
	t.Helper()
	if and, ok := rule["And"].([]any); ok {
		for _, r := range and {
			if !evalRule(t, r.(map[string]any), data) {
				return false
			}
		}
		return true
	}
	path, _ := rule["Variable"].(string)
	v, present := getPath(data, path)
	for op, want := range rule {
		switch op {
		case "Variable", "Next":
		case "IsPresent":
			return present == want.(bool)
		case "StringEquals":
			s, _ := v.(string)
			return present && s == want.(string)
		case "NumericGreaterThanEquals":
			f, isNum := v.(float64)
			return present && isNum && f >= want.(float64)
		default:
			t.Fatalf("choice operator %s is not interpreted", op)
		}
	}
	t.Fatalf("choice rule %v has no operator", rule)
	return false
}
