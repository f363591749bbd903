package server

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/chatops/chattest"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

func TestLoadSettings(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // fragment of the config failure; "" for none
	}{
		{"defaults", nil, ""},
		{"budget too long for the platforms", map[string]string{"LBFN_CHATOPS_ENQUEUE_BUDGET": "3s"}, "LBFN_CHATOPS_ENQUEUE_BUDGET"},
		{"budget not a duration", map[string]string{"LBFN_CHATOPS_ENQUEUE_BUDGET": "soon"}, "LBFN_CHATOPS_ENQUEUE_BUDGET"},
		{"reply TTL zero", map[string]string{"LBFN_CHATOPS_REPLY_TTL": "0s"}, "LBFN_CHATOPS_REPLY_TTL"},
		{"chatops URL in clear off loopback", map[string]string{"LBFN_CHATOPS_URL": "http://chat.example.com"}, "LBFN_CHATOPS_URL"},
		{"chatops URL on loopback", map[string]string{"LBFN_CHATOPS_URL": "http://127.0.0.1:8080/"}, ""},
		{"Feishu base in clear", map[string]string{"LBFN_FEISHU_API_BASE": "http://open.feishu.cn"}, "LBFN_FEISHU_API_BASE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"LBFN_CHATOPS_ENQUEUE_BUDGET", "LBFN_CHATOPS_REPLY_TTL", "LBFN_CHATOPS_URL", "LBFN_FEISHU_API_BASE"} {
				t.Setenv(k, "") // restored after the test
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			s, err := LoadSettings()
			switch e := op.AsError(err); {
			case tt.want == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.want != "" && (e == nil || e.Kind != op.KindConfig || !strings.Contains(e.Message, tt.want)):
				t.Fatalf("err = %v, want a config failure naming %s", err, tt.want)
			}
			if tt.name == "chatops URL on loopback" && s.URL != "http://127.0.0.1:8080" {
				t.Errorf("URL = %q", s.URL)
			}
		})
	}
}

func TestSettingsRedacted(t *testing.T) {
	secrets := []string{"S1-slack-SECRET", "S2-feishu-token-SECRET", "S3-feishu-key-SECRET", "S4-feishu-app-SECRET",
		"S5-dingtalk-SECRET", "S6-wecom-token-SECRET", "S7-wecom-aes-SECRET"}
	s := Settings{SlackSigningSecret: redact.NewSecret(secrets[0]), FeishuVerificationToken: redact.NewSecret(secrets[1]),
		FeishuEncryptKey: redact.NewSecret(secrets[2]), FeishuAppSecret: redact.NewSecret(secrets[3]),
		DingTalkAppSecret: redact.NewSecret(secrets[4]), WeComToken: redact.NewSecret(secrets[5]),
		WeComEncodingAESKey: redact.NewSecret(secrets[6]), ReplyTTL: time.Hour, EnqueueBudget: time.Second}
	opts := s.Options(catalog.Operations, nil, nil)
	for _, v := range []any{s, &s, opts, New(opts)} {
		chattest.CheckRedacted(t, v, secrets...)
	}
}

func TestOptionsFailClosedOnABadAllowList(t *testing.T) {
	s := Settings{Allow: "slack:U1", SlackSigningSecret: redact.NewSecret("x"), ReplyTTL: 1, EnqueueBudget: 1}
	srv := New(s.Options(catalog.Operations, nil, nil))
	why := srv.CreateOff()
	if !strings.Contains(why, "LBFN_CHATOPS_ALLOW") || !srv.opts.Allow.Empty() {
		t.Errorf("CreateOff = %q: want nobody allowed, naming the variable", why)
	}
	var names []string
	for _, c := range Configured(srv.Platforms()) {
		names = append(names, c[0]+"="+c[1])
	}
	if got := strings.Join(names, " "); !strings.HasPrefix(got, "slack= feishu=LBFN_FEISHU_VERIFICATION_TOKEN") {
		t.Errorf("Configured = %s", got)
	}
}
