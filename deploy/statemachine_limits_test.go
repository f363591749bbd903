package deploy

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/lbfn/lbfn/shared/ctyun"
	"github.com/lbfn/lbfn/shared/step"
)

// The CTyun job-poller's limits are derived from one another, and from the function they
// drive: one poll round is at most one invocation (the function's Timeout) plus one Wait (the
// retryAfterSeconds the function answers, at most its longest poll wait LBFN_CTYUN_POLL_MAX,
// rounded up). The poll cap must be the limit that binds, so that a creation that never ends
// fails as TooManyPolls (whose cause says how to resume) rather than as States.Timeout:
//
//	TimeoutSeconds ≥ cap × (Timeout + longest wait) + one worst-case series of every retrier
//
// and, so that it still stops a stuck execution soon after, TimeoutSeconds ≤ twice that.
// Changing one of the numbers without the others fails these checks.

// historyLimit is the most events a Standard execution's history holds.
const historyLimit = 25000

// pollerPolicy is the poll cadence the CTyun function runs with as the template deploys it:
// ctyun.PollFromEnv under the function's own environment (its LBFN_ settings, when the
// template sets them, else their defaults).
func pollerPolicy(t *testing.T, tpl template) step.Policy {
	t.Helper()
	vars := obj(at(tpl.props(logicalID("ctyun-create-policy")), "Environment", "Variables"))
	for _, name := range []string{"LBFN_CTYUN_POLL_FIRST", "LBFN_CTYUN_POLL_MAX", "LBFN_CTYUN_MAX_POLLS",
		"LBFN_HTTP_TIMEOUT", "LBFN_MAX_ATTEMPTS"} {
		t.Setenv(name, "") // restored after the test
		if v, ok := vars[name]; ok {
			s, isString := v.(string)
			if !isString {
				t.Fatalf("%s: %s is not a plain value: the limits cannot be derived from it", logicalID("ctyun-create-policy"), name)
			}
			t.Setenv(name, s)
		} else if err := os.Unsetenv(name); err != nil {
			t.Fatal(err)
		}
	}
	p, err := ctyun.PollFromEnv()
	if err != nil {
		t.Fatalf("the CTyun function's poll settings: %v", err)
	}
	return p
}

// retrier is one Retry rule of an ASL Task.
type retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds *float64 `json:"IntervalSeconds"`
	MaxAttempts     *float64 `json:"MaxAttempts"`
	BackoffRate     *float64 `json:"BackoffRate"`
	MaxDelaySeconds *float64 `json:"MaxDelaySeconds"`
}

// delays are the waits before each retry, with the ASL defaults (1 s, 3 attempts, ×2) and
// without jitter (FULL jitter only shortens them).
func (r retrier) delays() []float64 {
	interval, attempts, rate := 1.0, 3.0, 2.0
	if r.IntervalSeconds != nil {
		interval = *r.IntervalSeconds
	}
	if r.MaxAttempts != nil {
		attempts = *r.MaxAttempts
	}
	if r.BackoffRate != nil {
		rate = *r.BackoffRate
	}
	var out []float64
	for i := 0; i < int(attempts); i++ {
		d := interval * math.Pow(rate, float64(i))
		if r.MaxDelaySeconds != nil {
			d = min(d, *r.MaxDelaySeconds)
		}
		out = append(out, d)
	}
	return out
}

var pollsInText = regexp.MustCompile(`(\d+) polls`)

// jobPollerLimitProblems checks the job-poller's limits against each other and against the
// function's Timeout and poll cadence.
func jobPollerLimitProblems(tpl template, dir string, poll step.Policy) []string {
	const id = "CtyunCreatePolicyStateMachine"
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(id+": "+format, args...)) }
	raw, err := stateMachineDefinition(tpl, dir)
	if err != nil {
		return []string{id + ": " + err.Error()}
	}
	var def struct {
		Comment        string
		TimeoutSeconds *float64
		States         map[string]json.RawMessage
	}
	if err := json.Unmarshal(raw, &def); err != nil {
		return []string{id + ": " + err.Error()}
	}
	var task struct{ Retry []retrier }
	var checkPolls struct {
		Comment string
		Choices []struct {
			Variable                 string
			NumericGreaterThanEquals *float64
			Next                     string
		}
	}
	var defaultWait struct{ Parameters map[string]any }
	var tooMany struct{ Cause string }
	for name, into := range map[string]any{"CreatePolicy": &task, "CheckPolls": &checkPolls,
		"CountPollDefaultWait": &defaultWait, "TooManyPolls": &tooMany} {
		if err := json.Unmarshal(def.States[name], into); err != nil {
			return []string{fmt.Sprintf("%s: state %s: %v", id, name, err)}
		}
	}

	timeout, ok := number(tpl.functionProp(logicalID("ctyun-create-policy"), "Timeout"))
	if !ok || timeout <= 0 {
		return []string{logicalID("ctyun-create-policy") + ": Timeout must be a number of seconds"}
	}
	var pollCap float64
	for _, c := range checkPolls.Choices {
		if c.Variable == "$.polls" && c.NumericGreaterThanEquals != nil && c.Next == "TooManyPolls" {
			pollCap = *c.NumericGreaterThanEquals
		}
	}
	if pollCap < 1 {
		return []string{id + ": CheckPolls has no $.polls ≥ cap choice leading to TooManyPolls"}
	}
	longestWait := math.Ceil(poll.Cap.Seconds())
	if w, _ := number(defaultWait.Parameters["retryAfterSeconds"]); w != longestWait {
		fail("CountPollDefaultWait waits %v s, want the function's longest poll wait, %v s (LBFN_CTYUN_POLL_MAX)", w, longestWait)
	}

	// One entry of CreatePolicy may retry every retrier's whole series, each attempt taking
	// up to the function's timeout.
	var retries, attempts float64
	var inProgressWaits []float64
	for _, r := range task.Retry {
		for _, d := range r.delays() {
			retries += d + timeout
			attempts++
		}
		for _, e := range r.ErrorEquals {
			switch e {
			case "InProgressError":
				inProgressWaits = r.delays()
			case "ConflictError", "ValidationError", "ConfigError", "AuthError", "NotFoundError", "QuotaError", "ProviderError":
				fail("CreatePolicy retries %s, which fails the same way again", e)
			}
		}
	}
	// A duplicate execution holds the key until its invocation's deadline at the latest.
	var waited float64
	for _, d := range inProgressWaits {
		waited += d
	}
	if waited <= timeout {
		fail("CreatePolicy's InProgressError retrier waits %v s in all, not longer than the %v s function timeout a duplicate execution may hold the key for", waited, timeout)
	}

	need := pollCap*(timeout+longestWait) + retries
	switch {
	case def.TimeoutSeconds == nil:
		fail("TimeoutSeconds is not set")
	case *def.TimeoutSeconds < need:
		fail("TimeoutSeconds %v ends an execution before its %v-poll cap: %v × (%v s timeout + %v s wait) + %v s of retries = %v s",
			*def.TimeoutSeconds, pollCap, pollCap, timeout, longestWait, retries, need)
	case *def.TimeoutSeconds > 2*need:
		fail("TimeoutSeconds %v is more than twice the %v s the %v-poll cap needs: derive it from the cap", *def.TimeoutSeconds, need, pollCap)
	}
	// Every state of a round entered and left (2 events each), every attempt of the Task
	// scheduled, started and ended (3 each).
	if events := pollCap * (2*float64(len(def.States)) + 3*(1+attempts)); events > historyLimit {
		fail("%v polls may write %v history events, more than a Standard execution's %d", pollCap, events, historyLimit)
	}
	for where, text := range map[string]string{"Comment": def.Comment, "CheckPolls.Comment": checkPolls.Comment,
		"TooManyPolls.Cause": tooMany.Cause} {
		for _, m := range pollsInText.FindAllStringSubmatch(text, -1) {
			if n, _ := strconv.ParseFloat(m[1], 64); n != pollCap {
				fail("%s says %s polls, the cap is %v", where, m[1], pollCap)
			}
		}
	}
	if m := regexp.MustCompile(`TimeoutSeconds \((\d+)\)`).FindStringSubmatch(def.Comment); m != nil && def.TimeoutSeconds != nil {
		if n, _ := strconv.ParseFloat(m[1], 64); n != *def.TimeoutSeconds {
			fail("Comment says TimeoutSeconds %s, it is %v", m[1], *def.TimeoutSeconds)
		}
	}
	return problems
}

func TestJobPollerLimits(t *testing.T) {
	real := loadTemplate(t, filepath.Join(repoRoot, "template.yaml"))
	for _, p := range jobPollerLimitProblems(real, repoRoot, pollerPolicy(t, real)) {
		t.Error(p)
	}

	// Each change of one limit without the others is caught.
	const fn = "CtyunCreatePolicyFunction"
	states := func(def map[string]any, name string) map[string]any { return obj(at(def, "States", name)) }
	tests := []struct {
		name   string
		mutate func(t *testing.T, tpl template, dir string)
		want   string
	}{
		{"the old one-hour timeout", func(t *testing.T, tpl template, dir string) {
			mutateDefinition(t, tpl, dir, func(def map[string]any) { def["TimeoutSeconds"] = 3600.0 })
		}, "ends an execution before its 120-poll cap"},
		{"a longer function timeout", func(t *testing.T, tpl template, _ string) {
			tpl.props(fn)["Timeout"] = 60.0
		}, "ends an execution before"},
		{"a longer poll wait", func(t *testing.T, tpl template, _ string) {
			obj(at(tpl.props(fn), "Environment", "Variables"))["LBFN_CTYUN_POLL_MAX"] = "20s"
		}, "ends an execution before"},
		{"a higher cap", func(t *testing.T, tpl template, dir string) {
			mutateDefinition(t, tpl, dir, func(def map[string]any) {
				obj(asList(states(def, "CheckPolls")["Choices"])[0])["NumericGreaterThanEquals"] = 200.0
			})
		}, "says 120 polls, the cap is 200"},
		{"a timeout far beyond the cap", func(t *testing.T, tpl template, dir string) {
			mutateDefinition(t, tpl, dir, func(def map[string]any) { def["TimeoutSeconds"] = 86400.0 })
		}, "more than twice"},
		{"a default wait apart from the function's", func(t *testing.T, tpl template, dir string) {
			mutateDefinition(t, tpl, dir, func(def map[string]any) {
				obj(states(def, "CountPollDefaultWait")["Parameters"])["retryAfterSeconds"] = 10.0
			})
		}, "CountPollDefaultWait waits 10 s"},
		{"a duplicate not waited out", func(t *testing.T, tpl template, dir string) {
			mutateDefinition(t, tpl, dir, func(def map[string]any) {
				for _, r := range asList(states(def, "CreatePolicy")["Retry"]) {
					if slicesContain(asList(obj(r)["ErrorEquals"]), "InProgressError") {
						obj(r)["MaxAttempts"] = 2.0
					}
				}
			})
		}, "InProgressError retrier waits 15 s in all"},
		{"a real conflict retried", func(t *testing.T, tpl template, dir string) {
			mutateDefinition(t, tpl, dir, func(def map[string]any) {
				r := obj(asList(states(def, "CreatePolicy")["Retry"])[1])
				r["ErrorEquals"] = append(asList(r["ErrorEquals"]), "ConflictError")
			})
		}, "retries ConflictError"},
		{"a cause that names another cap", func(t *testing.T, tpl template, dir string) {
			mutateDefinition(t, tpl, dir, func(def map[string]any) {
				states(def, "TooManyPolls")["Cause"] = "still in_progress after 100 polls"
			})
		}, "TooManyPolls.Cause says 100 polls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := real.clone()
			tt.mutate(t, tpl, repoRoot)
			problems := jobPollerLimitProblems(tpl, repoRoot, pollerPolicy(t, tpl))
			if !containsFragment(problems, tt.want) {
				t.Errorf("not caught: want a problem containing %q, got %q", tt.want, problems)
			}
		})
	}
}

func slicesContain(l []any, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}
