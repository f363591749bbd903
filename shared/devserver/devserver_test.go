package devserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/devserver"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/trigger"
)

// envVars are every variable the dev server reads or sets; each test saves and restores them.
var envVars = []string{
	"JDCLOUD_ACCESS_KEY", "JDCLOUD_SECRET_KEY", "JDCLOUD_LB_ENDPOINT",
	"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN",
	"HUAWEICLOUD_SDK_PROJECT_ID", "HUAWEICLOUD_ELB_ENDPOINT",
	"CTYUN_AK", "CTYUN_SK", "CTYUN_ELB_ENDPOINT", "LBFN_WEBHOOK_SECRET",
}

func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range envVars {
		t.Setenv(k, "")
	}
}

func TestEmulated(t *testing.T) {
	const url = "http://127.0.0.1:9"
	tests := []struct {
		name         string
		env          map[string]string
		wantEmulated []string
		wantSet      map[string]string // a subset of the returned variables
		wantAbsent   []string          // variables not returned
	}{
		{
			name:         "no credentials: all three emulated",
			env:          map[string]string{},
			wantEmulated: []string{"jdcloud", "huaweicloud", "ctyun"},
			wantSet: map[string]string{
				"JDCLOUD_ACCESS_KEY": emulator.DemoAccessKey, "JDCLOUD_SECRET_KEY": emulator.DemoSecretKey,
				"JDCLOUD_LB_ENDPOINT": url, "HUAWEICLOUD_SDK_AK": emulator.DemoAccessKey,
				"HUAWEICLOUD_SDK_SK": emulator.DemoSecretKey, "HUAWEICLOUD_ELB_ENDPOINT": url,
				"HUAWEICLOUD_SDK_PROJECT_ID": emulator.DemoProjectID, "HUAWEICLOUD_SDK_SECURITY_TOKEN": "",
				"CTYUN_AK": emulator.DemoAccessKey, "CTYUN_SK": emulator.DemoSecretKey, "CTYUN_ELB_ENDPOINT": url,
			},
		},
		{
			name:         "Huawei credentials: Huawei is the real cloud",
			env:          map[string]string{"HUAWEICLOUD_SDK_AK": "ak", "HUAWEICLOUD_SDK_SK": "sk"},
			wantEmulated: []string{"jdcloud", "ctyun"},
			wantAbsent:   []string{"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_ELB_ENDPOINT", "HUAWEICLOUD_SDK_PROJECT_ID"},
		},
		{
			name:         "half a credential is not emulated: the function reports the missing one",
			env:          map[string]string{"CTYUN_AK": "ak"},
			wantEmulated: []string{"jdcloud", "huaweicloud"},
			wantAbsent:   []string{"CTYUN_AK", "CTYUN_SK", "CTYUN_ELB_ENDPOINT"},
		},
		{
			name: "every credential: nothing emulated",
			env: map[string]string{"JDCLOUD_ACCESS_KEY": "a", "JDCLOUD_SECRET_KEY": "s",
				"HUAWEICLOUD_SDK_AK": "a", "HUAWEICLOUD_SDK_SK": "s", "CTYUN_AK": "a", "CTYUN_SK": "s"},
			wantEmulated: nil,
			wantAbsent:   []string{"JDCLOUD_LB_ENDPOINT", "HUAWEICLOUD_ELB_ENDPOINT", "CTYUN_ELB_ENDPOINT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, env := devserver.Emulated(url, func(k string) string { return tt.env[k] })
			var names []string
			for _, p := range ps {
				names = append(names, p.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.wantEmulated, ",") {
				t.Errorf("emulated = %v, want %v", names, tt.wantEmulated)
			}
			for k, want := range tt.wantSet {
				if got, ok := env[k]; !ok || got != want {
					t.Errorf("%s = %q (set %v), want %q", k, got, ok, want)
				}
			}
			for _, k := range tt.wantAbsent {
				if v, ok := env[k]; ok {
					t.Errorf("%s = %q, want it left alone", k, v)
				}
			}
		})
	}
}

// webhookSecret is the LBFN_WEBHOOK_SECRET of TestServer: post signs with it.
const webhookSecret = "devserver-test-webhook-secret"

// TestServer starts a dev server on ephemeral ports, with no credentials and a webhook secret,
// and drives every function through it. It serves fresh copies of the functions: each
// operation connects once per process, so the shared ones would keep the first run's
// emulator address under go test -count=2.
func TestServer(t *testing.T) {
	clearEnv(t)
	t.Setenv("LBFN_WEBHOOK_SECRET", webhookSecret)
	// Quick CTyun polls, so a creation finishes within the test.
	t.Setenv("LBFN_CTYUN_POLL_FIRST", "5ms")
	t.Setenv("LBFN_CTYUN_POLL_MAX", "10ms")

	var functions []op.Operation
	for _, o := range devserver.Functions {
		functions = append(functions, unconnected(t, o))
	}
	srv, err := devserver.Start(devserver.Config{Addr: "127.0.0.1:0", EmulatorAddr: "127.0.0.1:0", Functions: functions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})

	t.Run("environment points at the emulator", func(t *testing.T) {
		for k, want := range map[string]string{
			"JDCLOUD_LB_ENDPOINT": srv.EmulatorURL, "HUAWEICLOUD_ELB_ENDPOINT": srv.EmulatorURL,
			"CTYUN_ELB_ENDPOINT": srv.EmulatorURL, "HUAWEICLOUD_SDK_PROJECT_ID": emulator.DemoProjectID,
			"JDCLOUD_ACCESS_KEY": emulator.DemoAccessKey, "CTYUN_SK": emulator.DemoSecretKey,
		} {
			if got := os.Getenv(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	})

	t.Run("banner", func(t *testing.T) {
		var b bytes.Buffer
		srv.Banner(&b)
		out := b.String()
		for _, want := range []string{
			"jdcloud      emulator", "huaweicloud  emulator", "ctyun        emulator",
			emulator.DemoAccessKey, emulator.DemoSecretKey, emulator.DemoProjectID,
			srv.EmulatorURL, srv.URL + "/huawei-create-master-slave-pool", "curl ", "LBFN_WEBHOOK_SECRET is set",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("banner lacks %q:\n%s", want, out)
			}
		}
	})

	for _, o := range srv.Functions {
		fn := o.Function()
		t.Run(fn+" creates on the emulator", func(t *testing.T) {
			body := readSample(t, fn, "direct.json")
			before := srv.Emulator.RequestCount(o.Provider())
			status, res := post(t, srv.URL+"/"+fn, body)
			if status == http.StatusAccepted && fn == "ctyun-create-policy" {
				if res["status"] != "in_progress" {
					t.Fatalf("202 with status %v", res["status"])
				}
				again, _ := json.Marshal(res["request"])
				status, res = post(t, srv.URL+"/"+fn, again)
			}
			if status != http.StatusCreated || res["ok"] != true || res["status"] != "created" || res["id"] == "" {
				t.Fatalf("status %d, result %v; want 201 created with an id", status, res)
			}
			if res["function"] != fn || res["provider"] != o.Provider() {
				t.Errorf("function/provider = %v/%v", res["function"], res["provider"])
			}
			if srv.Emulator.RequestCount(o.Provider()) == before {
				t.Errorf("no request reached the emulator")
			}
		})
		t.Run(fn+" dry run sends nothing", func(t *testing.T) {
			before := srv.Emulator.RequestCount("")
			status, res := post(t, srv.URL+"/"+fn, readSample(t, fn, "dry-run.json"))
			if status != http.StatusOK || res["status"] != "validated" {
				t.Fatalf("status %d, result %v; want 200 validated", status, res)
			}
			if n := srv.Emulator.RequestCount(""); n != before {
				t.Errorf("%d requests reached the emulator", n-before)
			}
		})
	}

	t.Run("the providers' examples create with their own project ids", func(t *testing.T) {
		testSeedExamples(t, srv)
	})

	t.Run("the same creation sent twice creates once", func(t *testing.T) {
		// Huawei has no idempotency token: without the store, a re-sent request makes a
		// second pool. With it, the second answer replays the first.
		body := readSample(t, "huawei-create-pool", "direct.json")
		var withKey map[string]any
		if err := json.Unmarshal(body, &withKey); err != nil {
			t.Fatal(err)
		}
		withKey["idempotencyKey"] = "devserver-twice"
		body, _ = json.Marshal(withKey)
		pools := srv.Emulator.HuaweiPoolCount()
		_, first := post(t, srv.URL+"/huawei-create-pool", body)
		status, again := post(t, srv.URL+"/huawei-create-pool", body)
		if status != http.StatusCreated || again["id"] != first["id"] || first["id"] == nil {
			t.Fatalf("second answer %d %v, first id %v: want the same pool", status, again, first["id"])
		}
		if n := srv.Emulator.HuaweiPoolCount() - pools; n != 1 {
			t.Errorf("%d pools created, want 1", n)
		}
	})

	t.Run("unsigned request is 401 and sends nothing", func(t *testing.T) {
		before := srv.Emulator.RequestCount("")
		resp, err := http.Post(srv.URL+"/jdcloud-create-backend", "application/json",
			bytes.NewReader(readSample(t, "jdcloud-create-backend", "direct.json")))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("answered %d, want 401", resp.StatusCode)
		}
		if n := srv.Emulator.RequestCount(""); n != before {
			t.Errorf("%d requests reached the emulator", n-before)
		}
	})

	t.Run("invalid request is 400", func(t *testing.T) {
		status, res := post(t, srv.URL+"/huawei-create-pool", []byte(`{"region":"cn-north-4","pool":{"protocl":"TCP"}}`))
		if status != http.StatusBadRequest || res["ok"] != false {
			t.Fatalf("status %d, result %v; want 400", status, res)
		}
	})

	t.Run("only POST", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/jdcloud-create-backend")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET answered %d, want 405", resp.StatusCode)
		}
	})

	t.Run("unknown function is 404", func(t *testing.T) {
		status, _ := post(t, srv.URL+"/no-such-function", []byte(`{}`))
		if status != http.StatusNotFound {
			t.Errorf("answered %d, want 404", status)
		}
	})

	t.Run("index lists the functions", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, o := range srv.Functions {
			if !strings.Contains(string(b), "/"+o.Function()) {
				t.Errorf("index lacks %s:\n%s", o.Function(), b)
			}
		}
	})

	t.Run("emulator served on its own port with the real paths", func(t *testing.T) {
		// Unsigned: the emulator must refuse it as the real API would, which shows the route exists.
		resp, err := http.Post(srv.EmulatorURL+"/v2/"+emulator.DemoProjectID+"/elb/pools", "application/json",
			strings.NewReader(`{"pool":{}}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("unsigned request answered %d, want 401", resp.StatusCode)
		}
	})
}

// unconnected returns a copy of o, an *op.Spec, that has not connected yet: the same exported
// fields (names, Client, Validate, Send), none of the state of its once-per-process Client.
func unconnected(t *testing.T, o op.Operation) op.Operation {
	t.Helper()
	v := reflect.ValueOf(o)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		t.Fatalf("%s is a %T, not an *op.Spec", o.Function(), o)
	}
	fresh := reflect.New(v.Elem().Type())
	for i := range v.Elem().NumField() {
		if f := fresh.Elem().Field(i); f.CanSet() {
			f.Set(v.Elem().Field(i))
		}
	}
	return fresh.Interface().(op.Operation)
}

func readSample(t *testing.T, fn, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", fn, file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post sends body signed with webhookSecret, and returns the status and the JSON answer.
func post(t *testing.T, url string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(trigger.HeaderTimestamp, ts)
	req.Header.Set(trigger.HeaderSignature, trigger.Signature(webhookSecret, ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var res map[string]any
	if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatalf("answer %d is not JSON: %s", resp.StatusCode, b)
		}
	}
	return resp.StatusCode, res
}
