package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var deployScript = filepath.Join(repoRoot, "deploy", "gcp", "deploy.sh")

// TestDeployScriptShellcheck runs shellcheck on the Google Cloud deploy script. `make deps`
// installs shellcheck with apt when it can; without it the test skips, saying so.
func TestDeployScriptShellcheck(t *testing.T) {
	path, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck is not installed and `make deps` could not install it (apt-get install -y shellcheck)")
	}
	out, err := exec.Command(path, "--shell=bash", "--severity=style", deployScript).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck %s: %v\n%s", deployScript, err, out)
	}
}

// TestDeployScriptCommands runs the script with DRY_RUN=1 (it prints the gcloud commands
// instead of running them) and checks what each function is deployed with.
func TestDeployScriptCommands(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	stage := filepath.Join(t.TempDir(), "stage")
	cmd := exec.Command("bash", deployScript)
	cmd.Env = append(os.Environ(), "DRY_RUN=1", "PROJECT=lbfn-test", "REGION=asia-east2", "STAGE_DIR="+stage,
		"WEBHOOK_SECRET=lbfn-webhook", "CTYUN_ELB_ENDPOINT=https://ctyun.example",
		"CHAT_SECRETS=LBFN_SLACK_SIGNING_SECRET LBFN_CHATOPS_ALLOW")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("deploy.sh: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	find := func(prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		return ""
	}
	if !strings.Contains(string(out), "--project=lbfn-test --member=serviceAccount:service-PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com --role=roles/pubsub.publisher") {
		t.Error("the Pub/Sub service agent may not publish to the dead-letter topic")
	}
	secretOf := map[string]string{
		"jdcloud": "JDCLOUD_SECRET_KEY=lbfn-jdcloud-secret-key:latest",
		"huawei":  "HUAWEICLOUD_SDK_SK=lbfn-huaweicloud-sdk-sk:latest",
		"ctyun":   "CTYUN_SK=lbfn-ctyun-sk:latest",
	}
	for _, fn := range functionNames {
		secret := secretOf[strings.Split(fn, "-")[0]]
		http := find("gcloud functions deploy " + fn + " ")
		pubsub := find("gcloud functions deploy " + fn + "-pubsub ")
		for _, want := range []string{"--gen2", "--entry-point=" + fn, "--trigger-http", "--no-allow-unauthenticated",
			secret, "LBFN_WEBHOOK_SECRET=lbfn-webhook:latest", "--source=" + stage, "--runtime=go126"} {
			if !strings.Contains(http, want) {
				t.Errorf("%s (HTTP): %q lacks %s", fn, http, want)
			}
		}
		if strings.Contains(http+pubsub, "GOOGLE_FUNCTION_SOURCE") {
			t.Errorf("%s: GOOGLE_FUNCTION_SOURCE, which the Go buildpack never reads", fn)
		}
		for _, want := range []string{"--gen2", "--entry-point=" + fn + "-pubsub", "--trigger-topic=lbfn-" + fn, "--retry", "--source=" + stage,
			secret, "LBFN_FAILURE_TOPIC=projects/lbfn-test/topics/lbfn-failures"} {
			if !strings.Contains(pubsub, want) {
				t.Errorf("%s (Pub/Sub): %q lacks %s", fn, pubsub, want)
			}
		}
		if strings.Contains(pubsub, "LBFN_WEBHOOK_SECRET") {
			t.Errorf("%s (Pub/Sub) gets the webhook secret it has no use for", fn)
		}
		if strings.Contains(http, "CTYUN_ELB_ENDPOINT") != strings.HasPrefix(fn, "ctyun-") {
			t.Errorf("%s: CTYUN_ELB_ENDPOINT given to the wrong functions: %q", fn, http)
		}
		dl := find("gcloud pubsub subscriptions update SUBSCRIPTION_OF_" + fn + "-pubsub ")
		if !strings.Contains(dl, "--dead-letter-topic=projects/lbfn-test/topics/lbfn-dead-letter") ||
			!strings.Contains(dl, "--max-delivery-attempts=") {
			t.Errorf("%s: no dead-letter topic on its subscription: %q", fn, dl)
		}
	}
	chat := find("gcloud functions deploy chatops ")
	for _, want := range []string{"--entry-point=chatops", "--trigger-http", "--allow-unauthenticated", "--source=" + stage, "--runtime=go126",
		"LBFN_SLACK_SIGNING_SECRET=lbfn-lbfn-slack-signing-secret:latest"} {
		if !strings.Contains(chat, want) {
			t.Errorf("chatops: %q lacks %s", chat, want)
		}
	}
	if strings.Contains(chat, "GOOGLE_FUNCTION_SOURCE") {
		t.Errorf("chatops: GOOGLE_FUNCTION_SOURCE, which the Go buildpack never reads")
	}
	for _, fn := range functionNames {
		topic := "LBFN_TOPIC_" + strings.ToUpper(strings.ReplaceAll(fn, "-", "_")) + "=projects/lbfn-test/topics/lbfn-" + fn
		if !strings.Contains(chat, topic) {
			t.Errorf("chatops: %q lacks %s", chat, topic)
		}
		if find("gcloud pubsub topics add-iam-policy-binding lbfn-"+fn+" --project=lbfn-test --member=serviceAccount:PROJECT_NUMBER-compute@developer.gserviceaccount.com --role=roles/pubsub.publisher") == "" {
			t.Errorf("chatops may not publish to lbfn-%s", fn)
		}
	}
	for _, l := range lines {
		for _, v := range []string{"LBFN_EMULATOR", "SK=LBFN", "secret-key=", "_SK="} {
			if strings.Contains(l, v) && !strings.Contains(l, ":latest") {
				t.Errorf("a secret value may be on the command line: %q", l)
			}
		}
	}
}
