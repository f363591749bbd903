package server

import (
	"net/http"
	"time"

	"github.com/lbfn/lbfn/shared/chatops"
	"github.com/lbfn/lbfn/shared/chatops/allow"
	"github.com/lbfn/lbfn/shared/chatops/dingtalk"
	"github.com/lbfn/lbfn/shared/chatops/feishu"
	"github.com/lbfn/lbfn/shared/chatops/slack"
	"github.com/lbfn/lbfn/shared/chatops/wecom"
	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// Settings are chatops's variables (the secrets among them may come from the Secrets Manager
// secret, shared/secrets). Its secrets are redact.Secrets: no fmt verb, log or JSON encoding
// prints them.
type Settings struct {
	SlackSigningSecret      redact.Secret `envconfig:"LBFN_SLACK_SIGNING_SECRET"`
	FeishuVerificationToken redact.Secret `envconfig:"LBFN_FEISHU_VERIFICATION_TOKEN"`
	FeishuEncryptKey        redact.Secret `envconfig:"LBFN_FEISHU_ENCRYPT_KEY"`
	FeishuAppID             string        `envconfig:"LBFN_FEISHU_APP_ID"`
	FeishuAppSecret         redact.Secret `envconfig:"LBFN_FEISHU_APP_SECRET"`
	FeishuAPIBase           string        `envconfig:"LBFN_FEISHU_API_BASE" default:"https://open.feishu.cn"`
	DingTalkAppSecret       redact.Secret `envconfig:"LBFN_DINGTALK_APP_SECRET"`
	DingTalkCorpIDs         []string      `envconfig:"LBFN_DINGTALK_CORP_IDS"`
	WeComToken              redact.Secret `envconfig:"LBFN_WECOM_TOKEN"`
	WeComEncodingAESKey     redact.Secret `envconfig:"LBFN_WECOM_ENCODING_AES_KEY"`

	Allow string `envconfig:"LBFN_CHATOPS_ALLOW"`
	URL   string `envconfig:"LBFN_CHATOPS_URL"`
	// EnqueueBudget bounds one enqueue with its retries, inside the platforms' 3 s.
	EnqueueBudget time.Duration `envconfig:"LBFN_CHATOPS_ENQUEUE_BUDGET" default:"1500ms"`
	// ReplyTTL is how long a reply token opens when the platform does not say.
	ReplyTTL time.Duration `envconfig:"LBFN_CHATOPS_REPLY_TTL" default:"24h"`
}

// maxEnqueueBudget keeps the enqueue inside the shortest platform deadline with room to answer.
const maxEnqueueBudget = 2 * time.Second

// LoadSettings reads the settings; its error is an *op.Error of kind config naming the
// variable.
func LoadSettings() (Settings, error) {
	var s Settings
	if err := config.Load(&s); err != nil {
		return s, err
	}
	if s.EnqueueBudget <= 0 || s.EnqueueBudget > maxEnqueueBudget {
		return s, op.Errorf(op.KindConfig, "LBFN_CHATOPS_ENQUEUE_BUDGET must be more than 0 and at most %s, got %s", maxEnqueueBudget, s.EnqueueBudget)
	}
	if s.ReplyTTL <= 0 {
		return s, op.Errorf(op.KindConfig, "LBFN_CHATOPS_REPLY_TTL must be positive, got %s", s.ReplyTTL)
	}
	if s.URL != "" {
		u, err := config.Endpoint("LBFN_CHATOPS_URL", s.URL)
		if err != nil {
			return s, err
		}
		s.URL = u.String()
	}
	if _, err := config.Endpoint("LBFN_FEISHU_API_BASE", s.FeishuAPIBase); err != nil {
		return s, err
	}
	return s, nil
}

// Options returns the server options the settings describe, for the create operations ops
// and queue q. hc sends the platforms' replies (nil: chatops.Client's default, through
// egress.Transport, each post bounded by its context and chatops.PostTimeout).
func (s Settings) Options(ops []op.Operation, q Queue, hc *http.Client) Options {
	platforms := []chatops.Platform{
		slack.New(slack.Config{SigningSecret: s.SlackSigningSecret, HTTPClient: hc}),
		feishu.New(feishu.Config{VerificationToken: s.FeishuVerificationToken, EncryptKey: s.FeishuEncryptKey,
			AppID: s.FeishuAppID, AppSecret: s.FeishuAppSecret, APIBase: s.FeishuAPIBase, HTTPClient: hc}),
		dingtalk.New(dingtalk.Config{AppSecret: s.DingTalkAppSecret, CorpIDs: s.DingTalkCorpIDs, HTTPClient: hc}),
		wecom.New(wecom.Config{Token: s.WeComToken, EncodingAESKey: s.WeComEncodingAESKey, HTTPClient: hc}),
	}
	opts := Options{
		Platforms: platforms,
		// The secret each platform's reply tokens are sealed under: one the platform cannot
		// work without, so a configured platform always has a key.
		ReplyKeys: map[string]redact.Secret{
			"slack":    s.SlackSigningSecret,
			"feishu":   s.FeishuAppSecret,
			"dingtalk": s.DingTalkAppSecret,
			"wecom":    s.WeComEncodingAESKey,
		},
		Operations:    ops,
		Queue:         q,
		BaseURL:       s.URL,
		EnqueueBudget: s.EnqueueBudget,
		ReplyTTL:      s.ReplyTTL,
	}
	list, err := allow.Parse(s.Allow)
	if err != nil {
		// Fail closed: nobody may create, and help says why.
		opts.AllowProblem = err.Error()
	}
	opts.Allow = list
	return opts
}

// Configured returns, for the banner and logs, each platform's name and what it lacks (""
// when configured).
func Configured(platforms []chatops.Platform) [][2]string {
	out := make([][2]string, 0, len(platforms))
	for _, p := range platforms {
		out = append(out, [2]string{p.Name(), p.Missing()})
	}
	return out
}
