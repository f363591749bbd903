package lambdatest_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/lambdatest"
)

func TestRuntimeAPI(t *testing.T) {
	dir := t.TempDir()
	bin, err := lambdatest.Build(dir, "./testdata/echo")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("ECHO_ENV", "from the test process") // must not leak into the function
	fn, err := lambdatest.Start(bin, []string{"AWS_LAMBDA_FUNCTION_NAME=echo"})
	if err != nil {
		t.Fatal(err)
	}
	defer fn.Close()

	resp, errType, err := fn.Invoke([]byte(`{}`), 5*time.Second)
	if err != nil || errType != "" {
		t.Fatalf("%q %v", errType, err)
	}
	var a struct {
		RequestID   string `json:"requestId"`
		FunctionARN string `json:"functionArn"`
		HasDeadline bool   `json:"hasDeadline"`
		Env         string `json:"env"`
	}
	if err := json.Unmarshal(resp, &a); err != nil {
		t.Fatalf("%v: %s", err, resp)
	}
	if a.RequestID == "" || !strings.HasPrefix(a.FunctionARN, "arn:aws:lambda:") || !a.HasDeadline || a.Env != "" {
		t.Errorf("context seen by the function: %+v", a)
	}

	resp, errType, err = fn.Invoke([]byte(`{"fail":true}`), 5*time.Second)
	if err != nil || errType != "joinError" || string(resp) != "custom failure" {
		t.Errorf("function error: %q %q %v", resp, errType, err)
	}

	// A panic is reported as a function error, then the process exits.
	_, errType, err = fn.Invoke([]byte(`{"panic":true}`), 5*time.Second)
	if err != nil || errType != "string" {
		t.Errorf("panic: %q %v", errType, err)
	}
	if _, _, err := fn.Invoke([]byte(`{}`), 5*time.Second); err == nil {
		t.Error("invoke after the process exited: want an error")
	}
}

func TestStartMissingBinary(t *testing.T) {
	if _, err := lambdatest.Start(os.DevNull+"-missing", nil); err == nil {
		t.Error("want an error")
	}
}
