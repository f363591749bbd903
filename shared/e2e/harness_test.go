// Package e2e runs the real function binaries (the five create functions and chatops), built as Lambda builds them, through a fake
// Lambda Runtime API (shared/lambdatest), against the emulator on loopback, and checks every
// trigger behaviour README.md describes ("The result") from the outside.
//
// The harness (this file) is shared with samples_test.go:
//   - binaries[fn] is the path of function fn's binary, built once in TestMain;
//   - newCloud(t) starts an emulator and returns it with its URL;
//   - startFunction(t, fn, cloudURL, extraEnv...) runs fn pointed at the emulator with the demo
//     credentials (extraEnv entries override), and fails the test at cleanup if the function's
//     logs reveal a secret;
//   - newFakeSQS(t) is a fake SQS (SendMessage, ChangeMessageVisibility); its env gives the
//     variables that point a function's failure queue and SQS calls at it, endpointEnv the
//     SQS calls only.
package e2e

import (
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/lambdatest"
)

// functions are the function directories under functions/: one per catalog operation.
var functions = func() []string {
	var names []string
	for _, o := range catalog.Operations {
		names = append(names, o.Function())
	}
	return names
}()

// binaries maps a function's name to its built binary.
var binaries = map[string]string{}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if !lambdatest.HaveGo() {
		fmt.Println("e2e: skipped: the go tool is not on PATH")
		return 0
	}
	dir, err := os.MkdirTemp("", "lbfn-e2e")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer os.RemoveAll(dir)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for _, fn := range append(slices.Clone(functions), "chatops") {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bin, err := lambdatest.Build(dir, "github.com/lbfn/lbfn/functions/"+fn)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err.Error())
				return
			}
			binaries[fn] = bin
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		fmt.Println(strings.Join(errs, "\n"))
		return 1
	}
	return m.Run()
}

// newCloud starts an emulator with the demo credentials on loopback.
func newCloud(t *testing.T) (*emulator.Emulator, string) {
	return newCloudWith(t, emulator.Options{})
}

func newCloudWith(t *testing.T, opts emulator.Options) (*emulator.Emulator, string) {
	t.Helper()
	emu := emulator.New(opts)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, srv.URL
}

// providerEnv points every provider at the emulator with the demo credentials, and keeps
// retries short so failure paths take milliseconds.
func providerEnv(cloudURL string) []string {
	return []string{
		"JDCLOUD_ACCESS_KEY=" + emulator.DemoAccessKey,
		"JDCLOUD_SECRET_KEY=" + emulator.DemoSecretKey,
		"JDCLOUD_LB_ENDPOINT=" + cloudURL,
		"HUAWEICLOUD_SDK_AK=" + emulator.DemoAccessKey,
		"HUAWEICLOUD_SDK_SK=" + emulator.DemoSecretKey,
		"HUAWEICLOUD_SDK_PROJECT_ID=" + emulator.DemoProjectID,
		"HUAWEICLOUD_ELB_ENDPOINT=" + cloudURL,
		"CTYUN_AK=" + emulator.DemoAccessKey,
		"CTYUN_SK=" + emulator.DemoSecretKey,
		"CTYUN_ELB_ENDPOINT=" + cloudURL,
		"LBFN_MAX_ATTEMPTS=2",
		"LBFN_RETRY_INITIAL_INTERVAL=1ms",
		"LBFN_RETRY_MAX_INTERVAL=5ms",
		"LBFN_CTYUN_POLL_FIRST=20ms",
		"LBFN_CTYUN_POLL_MAX=50ms",
	}
}

// secretValues must never appear in a function's output.
var secretValues = []string{emulator.DemoSecretKey, webhookSecret, fakeAWSSecret}

// startFunction runs function fn against the emulator at cloudURL; extra entries override
// providerEnv's (an entry "NAME=" unsets NAME for the function's purposes).
func startFunction(t *testing.T, fn, cloudURL string, extra ...string) *lambdatest.Function {
	t.Helper()
	bin, ok := binaries[fn]
	if !ok {
		t.Fatalf("no binary for %s", fn)
	}
	f, err := lambdatest.Start(bin, append(providerEnv(cloudURL), extra...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close()
		logs := f.Logs()
		for _, s := range secretValues {
			if strings.Contains(logs, s) {
				t.Errorf("%s logged a secret value (%d characters)", fn, len(s))
			}
		}
		if t.Failed() {
			t.Logf("%s logs:\n%s", fn, logs)
		}
	})
	return f
}
