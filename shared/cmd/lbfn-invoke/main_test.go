package main

import (
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/emulator"
)

func TestFunctionEnv(t *testing.T) {
	const url = "http://127.0.0.1:9"
	tests := []struct {
		name         string
		environ      []string
		wantEmulated []string
		want         []string // entries the function gets
		wantAbsent   []string // variables it does not get
	}{
		{
			name:         "nothing set: every provider emulated",
			environ:      []string{"PATH=/usr/bin", "HOME=/root"},
			wantEmulated: []string{"jdcloud", "huaweicloud", "ctyun"},
			want: []string{"JDCLOUD_ACCESS_KEY=" + emulator.DemoAccessKey, "JDCLOUD_LB_ENDPOINT=" + url,
				"HUAWEICLOUD_SDK_PROJECT_ID=" + emulator.DemoProjectID, "CTYUN_SK=" + emulator.DemoSecretKey},
			wantAbsent: []string{"PATH", "HOME"},
		},
		{
			name: "real CTyun credentials pass through; LBFN_ settings too",
			environ: []string{"CTYUN_AK=real-ak", "CTYUN_SK=real-sk", "LBFN_CTYUN_POLL_FIRST=2s",
				"HUAWEICLOUD_SDK_SECURITY_TOKEN=tok"},
			wantEmulated: []string{"jdcloud", "huaweicloud"},
			want:         []string{"CTYUN_AK=real-ak", "CTYUN_SK=real-sk", "LBFN_CTYUN_POLL_FIRST=2s"},
			// An emulated Huawei must not send a real cloud's temporary token.
			wantAbsent: []string{"CTYUN_ELB_ENDPOINT", "HUAWEICLOUD_SDK_SECURITY_TOKEN"},
		},
		{
			name: "never a real queue or AWS credentials from a local run",
			environ: []string{"LBFN_FAILURE_QUEUE_URL=https://sqs.us-east-1.amazonaws.com/1/q",
				"LBFN_SQS_ENDPOINT=http://127.0.0.1:1", "AWS_ACCESS_KEY_ID=AKIA", "AWS_SECRET_ACCESS_KEY=x"},
			wantEmulated: []string{"jdcloud", "huaweicloud", "ctyun"},
			wantAbsent:   []string{"LBFN_FAILURE_QUEUE_URL", "LBFN_SQS_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, emulated := functionEnv(tt.environ, url)
			if !slices.Equal(emulated, tt.wantEmulated) {
				t.Errorf("emulated %v, want %v", emulated, tt.wantEmulated)
			}
			for _, w := range tt.want {
				if !slices.Contains(env, w) {
					t.Errorf("env lacks %s: %v", w, env)
				}
			}
			for _, k := range tt.wantAbsent {
				for _, kv := range env {
					if strings.HasPrefix(kv, k+"=") {
						t.Errorf("env has %s", kv)
					}
				}
			}
		})
	}
}

// TestFnFlag checks that -fn is accepted as the short form of -function.
func TestFnFlag(t *testing.T) {
	event := t.TempDir() + "/event.json"
	if err := os.WriteFile(event, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"-function", "-fn"} {
		var stderr strings.Builder
		err := run([]string{flag, "no-such-function", "-event", event}, io.Discard, &stderr)
		if err == nil || !strings.Contains(err.Error(), `no function "no-such-function"`) {
			t.Errorf("%s: error %v, want the function looked up; stderr %s", flag, err, stderr.String())
		}
	}
}
