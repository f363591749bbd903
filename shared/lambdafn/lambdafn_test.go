package lambdafn_test

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/lambdatest"
	"github.com/lbfn/lbfn/shared/op"
)

var fakefn string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdafn")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		if fakefn, err = lambdatest.Build(dir, "./testdata/fakefn"); err != nil {
			println(err.Error())
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func start(t *testing.T, env ...string) *lambdatest.Function {
	t.Helper()
	fn, err := lambdatest.Start(fakefn, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fn.Close() })
	return fn
}

func TestDirectThroughRuntimeAPI(t *testing.T) {
	fn := start(t, "FAKE_KEY=k")
	tests := []struct {
		event   string
		errType string
		want    string
	}{
		{`{"name":"a"}`, "", `"status":"created"`},
		{`{"name":"a","outcome":"in_progress"}`, "", `"status":"in_progress"`},
		{`{"name":""}`, "ValidationError", `"kind":"validation"`},
		{`[1,2]`, "ValidationError", `"kind":"validation"`},
		{`{"name":"a","outcome":"not_found"}`, "NotFoundError", `"kind":"not_found"`},
		{`{"name":"a","outcome":"timeout"}`, "TimeoutError", `"retryable":true`},
	}
	for _, tt := range tests {
		resp, errType, err := fn.Invoke([]byte(tt.event), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if errType != tt.errType || !strings.Contains(string(resp), tt.want) {
			t.Errorf("%s: errType %q response %s", tt.event, errType, resp)
		}
		if tt.errType != "" {
			var res op.Result
			if err := json.Unmarshal(resp, &res); err != nil || res.OK {
				t.Errorf("errorMessage is not the failure result: %s", resp)
			}
		}
	}
	// One JSON log line per outcome, with the Lambda request id.
	var lines int
	// The process's output reaches the buffer through a pipe: wait for it (up to 30 s on a
	// loaded machine; as long as it takes otherwise).
	for i := 0; i < 3000 && strings.Count(fn.Logs(), `"trigger":"direct"`) < len(tests); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	for _, l := range strings.Split(fn.Logs(), "\n") {
		if !strings.Contains(l, `"trigger":"direct"`) {
			continue
		}
		lines++
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["requestId"] == nil || m["function"] != "fake-create-thing" {
			t.Errorf("log line %s", l)
		}
	}
	if lines != len(tests) {
		t.Errorf("%d outcome log lines, want %d:\n%s", lines, len(tests), fn.Logs())
	}
}

// TestDeadlineMarginKeptOnce: the operation's call ends LBFN_DEADLINE_MARGIN before Lambda's
// deadline, the margin taken once (not per layer, not none), on every trigger.
func TestDeadlineMarginKeptOnce(t *testing.T) {
	const margin, timeout = 3 * time.Second, 20 * time.Second
	fn := start(t, "FAKE_KEY=k", "LBFN_DEADLINE_MARGIN=3s")
	events := map[string]string{
		"direct": `{"name":"a","outcome":"deadline"}`,
		"http":   `{"version":"2.0","requestContext":{"http":{"method":"POST"}},"body":"{\"name\":\"b\",\"outcome\":\"deadline\"}"}`,
	}
	for name, event := range events {
		before := time.Now()
		resp, errType, err := fn.Invoke([]byte(event), timeout)
		after := time.Now()
		if err != nil || errType != "" {
			t.Fatalf("%s: %s %q %v", name, resp, errType, err)
		}
		var res op.Result
		if name == "http" {
			var answer struct{ Body string }
			if err := json.Unmarshal(resp, &answer); err != nil {
				t.Fatalf("%s: %s", name, resp)
			}
			resp = []byte(answer.Body)
		}
		if err := json.Unmarshal(resp, &res); err != nil || !res.OK {
			t.Fatalf("%s: %s", name, resp)
		}
		ms, _ := strconv.ParseInt(res.ID, 10, 64)
		got := time.UnixMilli(ms)
		// Lambda's deadline is timeout after a moment between before and after (in ms).
		earliest := before.Add(timeout - margin).Truncate(time.Millisecond)
		latest := after.Add(timeout - margin)
		if got.Before(earliest) || got.After(latest) {
			t.Errorf("%s: the call's deadline is %v from the invocation's, want the margin %v",
				name, before.Add(timeout).Sub(got).Round(time.Millisecond), margin)
		}
	}
}

func TestConfigFailureAnswersEveryInvocation(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"credentials unset", nil, "FAKE_KEY"},
		{"bad concurrency", []string{"FAKE_KEY=k", "LBFN_SQS_CONCURRENCY=zero"}, "LBFN_SQS_CONCURRENCY"},
		{"failure queue not https", []string{"FAKE_KEY=k", "LBFN_FAILURE_QUEUE_URL=http://sqs.example.com/1/q", "AWS_ACCESS_KEY_ID=a", "AWS_SECRET_ACCESS_KEY=b"}, "LBFN_FAILURE_QUEUE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := start(t, tt.env...)
			for range 2 { // the process keeps answering
				resp, errType, err := fn.Invoke([]byte(`{"name":"a"}`), 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if errType != "ConfigError" || !strings.Contains(string(resp), tt.want) {
					t.Errorf("errType %q response %s", errType, resp)
				}
			}
			http := []byte(`{"version":"2.0","requestContext":{"http":{"method":"POST"}},"body":"{\"name\":\"a\"}"}`)
			resp, errType, err := fn.Invoke(http, 5*time.Second)
			if err != nil || errType != "" || !strings.Contains(string(resp), `"statusCode":500`) {
				t.Errorf("HTTP: %s %q %v", resp, errType, err)
			}
		})
	}
}

func TestProcessExitIsReported(t *testing.T) {
	fn := start(t, "FAKE_KEY=k")
	if _, _, err := fn.Invoke([]byte(`{"name":"a","outcome":"exit"}`), 5*time.Second); err == nil {
		t.Error("a process that exited: want an error")
	}
}
