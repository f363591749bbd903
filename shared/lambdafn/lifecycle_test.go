package lambdafn_test

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitFor polls the process's logs for want: its output reaches the buffer through a pipe.
func waitFor(t *testing.T, logs func() string, want string) {
	t.Helper()
	for range 3000 { // 30 s at most: a loaded machine is slow, but not that slow
		if strings.Contains(logs(), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the log never said %q:\n%s", want, logs())
}

// TestSIGTERM runs the built binary against the fake Runtime API and sends it SIGTERM, as
// Lambda does at shutdown: it finishes the invocation in flight (its answer reaches the
// Runtime API), and exits with status 0 instead of waiting for SIGKILL.
func TestSIGTERM(t *testing.T) {
	tests := []struct {
		name     string
		inFlight string // the event in flight when SIGTERM comes; "" for none
		want     string // a fragment of its answer
	}{
		{name: "idle"},
		{name: "an invocation in flight is finished", inFlight: `{"name":"a","outcome":"slow","sleepMs":300}`, want: `"status":"created"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := start(t, "FAKE_KEY=k")
			// The process is up and serving once it has answered one invocation.
			if _, _, err := fn.Invoke([]byte(`{"name":"warm"}`), 5*time.Second); err != nil {
				t.Fatal(err)
			}
			type answer struct {
				body []byte
				err  error
			}
			answered := make(chan answer, 1)
			if tt.inFlight != "" {
				go func() {
					body, _, err := fn.Invoke([]byte(tt.inFlight), 20*time.Second)
					answered <- answer{body, err}
				}()
				waitFor(t, fn.Logs, "fake call started")
			}
			if err := fn.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-fn.Exited():
			case <-time.After(30 * time.Second):
				t.Fatalf("still running 30 s after SIGTERM:\n%s", fn.Logs())
			}
			if err := fn.ExitError(); err != nil {
				t.Errorf("exit: %v, want status 0\n%s", err, fn.Logs())
			}
			if tt.inFlight != "" {
				a := <-answered
				if a.err != nil || !strings.Contains(string(a.body), tt.want) {
					t.Errorf("the invocation in flight answered %s (%v), want %s", a.body, a.err, tt.want)
				}
			}
			if !strings.Contains(fn.Logs(), "SIGTERM: finishing the invocations in flight") {
				t.Errorf("the shutdown is not logged:\n%s", fn.Logs())
			}
		})
	}
}

// TestSIGTERMBounded: an invocation that outlasts the grace period does not keep the process
// up; it is left to its event source's retry.
func TestSIGTERMBounded(t *testing.T) {
	fn := start(t, "FAKE_KEY=k")
	go func() { _, _, _ = fn.Invoke([]byte(`{"name":"a","outcome":"slow","sleepMs":600000}`), 900*time.Second) }()
	waitFor(t, fn.Logs, "fake call started")
	if err := fn.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-fn.Exited():
	case <-time.After(60 * time.Second):
		t.Fatalf("an invocation of 10 minutes kept the process up after SIGTERM:\n%s", fn.Logs())
	}
	if !strings.Contains(fn.Logs(), "still in flight after the grace period") {
		t.Errorf("the cut-short invocation is not logged:\n%s", fn.Logs())
	}
}

// TestEveryLogLineIsJSON: aws-lambda-go's own line on a failed invoke (log.Printf) goes
// through the JSON logger too.
func TestEveryLogLineIsJSON(t *testing.T) {
	fn := start(t, "FAKE_KEY=k")
	for _, event := range []string{`{"name":""}`, `{"name":"a","outcome":"throttled"}`, `{"name":"a"}`} {
		if _, _, err := fn.Invoke([]byte(event), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// The library logs each failure payload; the last invocation's outcome line comes after.
	waitFor(t, fn.Logs, `"id":"id-a"`)
	var library int
	for _, line := range strings.Split(strings.TrimSpace(fn.Logs()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("not a JSON line: %s", line)
			continue
		}
		if msg, _ := m["message"].(string); strings.Contains(msg, `"errorType":"ValidationError"`) {
			library++
			if m["level"] != "WARN" {
				t.Errorf("the library's failed-invoke line at %v, want WARN: %s", m["level"], line)
			}
		}
	}
	if library != 1 {
		t.Errorf("%d library lines for the failed validation invoke, want 1:\n%s", library, fn.Logs())
	}
}
