package devserver_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/chatops/chattest"
	"github.com/lbfn/lbfn/shared/devserver"
)

const devSlackSecret = "dev-slack-signing-secret"

// TestChatopsLoop is the whole chat loop under `make run`: a signed Slack command to the dev
// server is acknowledged with its job id, runs through the in-process queue on the emulator,
// and its created id is posted to the command's response_url.
func TestChatopsLoop(t *testing.T) {
	clearEnv(t)
	for _, k := range []string{"LBFN_FEISHU_VERIFICATION_TOKEN", "LBFN_DINGTALK_APP_SECRET", "LBFN_WECOM_TOKEN", "LBFN_CHATOPS_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("LBFN_SLACK_SIGNING_SECRET", devSlackSecret)
	t.Setenv("LBFN_CHATOPS_ALLOW", "slack:U0001ALICE=*")
	platforms := chattest.NewPlatforms()
	defer platforms.Close()

	srv, err := devserver.Start(devserver.Config{Addr: "127.0.0.1:0", EmulatorAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()

	var banner bytes.Buffer
	srv.Banner(&banner)
	for _, want := range []string{srv.URL + "/chatops/slack     configured", srv.URL + "/chatops/feishu    not configured (answers 401): set LBFN_FEISHU"} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}

	r := chattest.SlackCommand(devSlackSecret, time.Now(), "U0001ALICE", "777.888.999", platforms.SlackResponseURL("dev"),
		"create jdcloud-create-backend regionId=cn-north-1 backendName=demo loadBalancerId=nlb-example protocol=Tcp port=80 healthCheckSpec.protocol=Tcp")
	req, _ := http.NewRequest(r.Method, srv.URL+r.Path, bytes.NewReader(r.Body))
	req.Header = r.Header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ack := chattest.SlackAnswerText(body); resp.StatusCode != http.StatusOK || !strings.Contains(ack, "slack:777.888.999") ||
		!strings.Contains(ack, "jdcloud-create-backend") {
		t.Fatalf("answer %d %s", resp.StatusCode, body)
	}

	// The in-process queue runs in the background: wait for its result (a generous bound
	// for a slow machine; the loop normally takes milliseconds).
	deadline := time.Now().Add(30 * time.Second)
	for len(platforms.PostedTo("slack", "dev")) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	posted := platforms.PostedTo("slack", "dev")
	if len(posted) != 1 || !strings.Contains(posted[0], "created ") || !strings.Contains(posted[0], "slack:777.888.999") {
		t.Fatalf("posted %q, want the created id once", posted)
	}
	if n := srv.Emulator.RequestCount("jdcloud"); n != 1 {
		t.Errorf("%d requests reached the emulator, want 1", n)
	}

	// A forged command: 401, nothing run.
	forged := chattest.SlackCommand("not-the-secret", time.Now(), "U0001ALICE", "1.1.1", platforms.SlackResponseURL("forged"), "help")
	req, _ = http.NewRequest(forged.Method, srv.URL+forged.Path, bytes.NewReader(forged.Body))
	req.Header = forged.Header
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged: %v %v", resp, err)
	}
}
