package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/lambdatest"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/trigger"
)

// eventsDir holds the sample events, one folder per function (see events/README.md).
var eventsDir = filepath.Join("..", "..", "events")

// sample is one event file of events/.
type sample struct {
	function, name string
	event          []byte
}

// samples returns every event file under events/, failing when a folder names no function or
// a function has no direct.json. Which files a folder holds is deploy/gen's: it writes each
// trigger's envelope from the function's requests, and its test fails when one is missing.
func samples(t *testing.T) []sample {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(eventsDir, "*", ""))
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() && !slices.Contains(functions, filepath.Base(d)) {
			t.Errorf("%s: no function of that name", d)
		}
	}
	var out []sample
	for _, fn := range functions {
		files, err := filepath.Glob(filepath.Join(eventsDir, fn, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no sample events for %s in %s", fn, eventsDir)
		}
		if !slices.Contains(files, filepath.Join(eventsDir, fn, "direct.json")) {
			t.Errorf("%s has no direct.json", filepath.Join(eventsDir, fn))
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, sample{function: fn, name: filepath.Base(f), event: b})
		}
	}
	return out
}

// sampleFunction runs fn's binary (the harness's startFunction) against a fresh emulator of
// its own, so samples do not see each other's resources.
func sampleFunction(t *testing.T, fn string) (*lambdatest.Function, *emulator.Emulator) {
	t.Helper()
	emu, url := newCloud(t)
	return startFunction(t, fn, url), emu
}

// TestSamples runs every sample event through the real binary against the emulator: each
// request in it creates (a CTyun policy may answer in_progress first, and then creates when
// its request is sent again).
func TestSamples(t *testing.T) {
	for _, s := range samples(t) {
		t.Run(s.function+"/"+s.name, func(t *testing.T) {
			t.Parallel()
			f, emu := sampleFunction(t, s.function)
			want := op.StatusCreated
			if s.name == "dry-run.json" {
				want = op.StatusValidated
			}
			results := invoke(t, f, s.event)
			for i, res := range results {
				if res.OK && res.Status == op.StatusInProgress && s.function == "ctyun-create-policy" {
					again := invoke(t, f, res.Request)
					res = again[0]
					results[i] = res
				}
				if !res.OK || res.Status != want || (want == op.StatusCreated && res.ID == "") {
					t.Errorf("result %d: %+v (error %+v); want %s", i, res, res.Error, want)
				}
				if res.Function != s.function {
					t.Errorf("result %d: function %q", i, res.Function)
				}
			}
			if want == op.StatusValidated && emu.RequestCount("") != 0 {
				t.Errorf("a dry run sent %d requests", emu.RequestCount(""))
			}
			if want == op.StatusCreated && emu.RequestCount("") < len(results) {
				t.Errorf("%d results but %d requests reached the emulator", len(results), emu.RequestCount(""))
			}
		})
	}
}

// TestSamplesDryRun runs every sample again with "dryRun": true injected into each request it
// carries, whatever the trigger's shape: every answer is validated and not one request reaches
// the emulator.
func TestSamplesDryRun(t *testing.T) {
	for _, s := range samples(t) {
		t.Run(s.function+"/"+s.name, func(t *testing.T) {
			t.Parallel()
			f, emu := sampleFunction(t, s.function)
			event := injectDryRun(t, s.event)
			for i, res := range invoke(t, f, event) {
				if !res.OK || res.Status != op.StatusValidated {
					t.Errorf("result %d: %+v (error %+v); want validated", i, res, res.Error)
				}
			}
			if n := emu.RequestCount(""); n != 0 {
				t.Errorf("a dry run sent %d requests to the emulator", n)
			}
		})
	}
}

// invoke sends one event and returns the result of every request in it, read from the answer
// the event's shape gets: the result itself (direct, EventBridge), the HTTP response's body,
// SNS's list of results, or, for SQS (whose answer lists only failures), the outcome lines the
// function logged.
func invoke(t *testing.T, f *lambdatest.Function, event []byte) []*op.Result {
	t.Helper()
	logsBefore := len(f.Logs())
	resp, errType, err := f.Invoke(event, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if errType != "" {
		t.Fatalf("function error %s: %s", errType, resp)
	}
	switch trigger.Detect(event) {
	case trigger.ShapeHTTP, trigger.ShapeFunctionURL:
		var r struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		mustUnmarshal(t, resp, &r)
		res := new(op.Result)
		mustUnmarshal(t, []byte(r.Body), res)
		if want := trigger.HTTPStatus(res); r.StatusCode != want {
			t.Errorf("HTTP status %d for a %s result, want %d", r.StatusCode, res.Status, want)
		}
		return []*op.Result{res}
	case trigger.ShapeSNS:
		var rs []*op.Result
		mustUnmarshal(t, resp, &rs)
		return rs
	case trigger.ShapeSQS:
		var r struct {
			BatchItemFailures []struct {
				ItemIdentifier string `json:"itemIdentifier"`
			} `json:"batchItemFailures"`
		}
		mustUnmarshal(t, resp, &r)
		if len(r.BatchItemFailures) != 0 {
			t.Errorf("batchItemFailures %v", r.BatchItemFailures)
		}
		return loggedResults(t, f, logsBefore, sqsRecords(t, event))
	}
	res := new(op.Result)
	mustUnmarshal(t, resp, res)
	return []*op.Result{res}
}

// sqsRecords counts the records of an SQS event.
func sqsRecords(t *testing.T, event []byte) int {
	var e struct{ Records []json.RawMessage }
	mustUnmarshal(t, event, &e)
	return len(e.Records)
}

// loggedResults reads the outcome lines (JSON, one per request) the function logged after
// offset, waiting for want of them: the process's output is copied from a pipe, so it may
// trail the answer by a moment (longer on a loaded machine; the wait ends as soon as they
// are there).
func loggedResults(t *testing.T, f *lambdatest.Function, offset, want int) []*op.Result {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := parseOutcomes(f.Logs()[offset:])
		if len(out) >= want || time.Now().After(deadline) {
			if len(out) < want {
				t.Fatalf("%d outcomes logged, want %d", len(out), want)
			}
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// parseOutcomes reads the outcome lines of the function's JSON logs.
func parseOutcomes(logs string) []*op.Result {
	var out []*op.Result
	for _, line := range strings.Split(logs, "\n") {
		var l struct {
			Message  string `json:"message"`
			Function string `json:"function"`
			Status   string `json:"status"`
			ID       string `json:"id"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Function == "" || (l.Message != "done" && l.Message != "failed") {
			continue
		}
		res := &op.Result{Function: l.Function, OK: l.Message == "done", Status: op.Status(l.Status), ID: l.ID}
		out = append(out, res)
	}
	return out
}

// injectDryRun sets "dryRun": true in every request an event carries, wherever its shape
// puts it: the event itself, EventBridge's detail, the HTTP body (base64 or not), each SQS
// body, each SNS message.
func injectDryRun(t *testing.T, event []byte) []byte {
	t.Helper()
	var ev map[string]any
	mustUnmarshal(t, event, &ev)
	setDry := func(request string) string {
		var r map[string]any
		mustUnmarshal(t, []byte(request), &r)
		r["dryRun"] = true
		return string(mustMarshal(t, r))
	}
	switch trigger.Detect(event) {
	case trigger.ShapeEventBridge:
		ev["detail"].(map[string]any)["dryRun"] = true
	case trigger.ShapeHTTP, trigger.ShapeFunctionURL:
		body := ev["body"].(string)
		if ev["isBase64Encoded"] == true {
			raw, err := base64.StdEncoding.DecodeString(body)
			if err != nil {
				t.Fatal(err)
			}
			ev["body"] = base64.StdEncoding.EncodeToString([]byte(setDry(string(raw))))
		} else {
			ev["body"] = setDry(body)
		}
	case trigger.ShapeSQS:
		for _, rec := range ev["Records"].([]any) {
			rec := rec.(map[string]any)
			rec["body"] = setDry(rec["body"].(string))
		}
	case trigger.ShapeSNS:
		for _, rec := range ev["Records"].([]any) {
			msg := rec.(map[string]any)["Sns"].(map[string]any)
			msg["Message"] = setDry(msg["Message"].(string))
		}
	default:
		ev["dryRun"] = true
	}
	return mustMarshal(t, ev)
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
