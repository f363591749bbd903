package ctyun

import (
	"time"

	"github.com/lbfn/lbfn/shared/auth/eopsign"
	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/step"
)

// DefaultEndpoint is CTyun's global ELB endpoint; the region travels in the body.
const DefaultEndpoint = "https://ctelb-global.ctapi.ctyun.cn"

// createPolicyPath is the async-create-policy call.
const createPolicyPath = "/v4/elb/async-create-policy"

// Config is what a Client needs. FromEnv fills it from the environment; tests fill it directly.
type Config struct {
	AccessKey string
	SecretKey redact.Secret
	// Endpoint is the ELB base URL; default DefaultEndpoint. Plain http only for loopback.
	Endpoint string
	// HTTP sends each request (with its own retries of 429, 5xx and lost connections);
	// default a client with httpx's default policy.
	HTTP *httpx.Client
	// Poll paces the re-sends until CTyun says done; zero fields take step.DefaultPolicy's
	// values, except Jitter, whose zero means none.
	Poll step.Policy
	// Now is the signer's clock; default time.Now.
	Now func() time.Time
}

// String hides the secret key, should a Config be printed.
func (c Config) String() string {
	return "ctyun.Config{AccessKey: " + c.AccessKey + ", SecretKey: <redacted>, Endpoint: " + c.Endpoint + "}"
}

// GoString hides it from %#v too.
func (c Config) GoString() string { return c.String() }

// Client calls CTyun ELB.
type Client struct {
	url    string
	http   *httpx.Client
	signer *eopsign.Signer
	poll   step.Policy
}

// NewClient checks cfg and returns a Client. Its errors are *op.Error of kind config.
func NewClient(cfg Config) (*Client, error) {
	if cfg.AccessKey == "" {
		return nil, op.Errorf(op.KindConfig, "CTYUN_AK is not set")
	}
	if !cfg.SecretKey.IsSet() {
		return nil, op.Errorf(op.KindConfig, "CTYUN_SK is not set")
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	base, err := config.Endpoint("CTYUN_ELB_ENDPOINT", cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	h := httpx.Client{HTTP: httpx.NewHTTPClient(0)}
	if cfg.HTTP != nil {
		h = *cfg.HTTP
	}
	// Re-sending is always safe here: the clientToken makes CTyun answer a repeat with the
	// progress of the one creation.
	h.Policy.RetryAmbiguous = true
	if h.UserAgent == "" {
		h.UserAgent = "lbfn/1.0" // CTyun's risk control flags requests without one
	}
	return &Client{
		url:    base.String() + createPolicyPath,
		http:   &h,
		signer: &eopsign.Signer{AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Now: cfg.Now},
		poll:   cfg.Poll,
	}, nil
}

// env holds the environment settings of the CTyun provider.
type env struct {
	AccessKey string        `envconfig:"CTYUN_AK"`
	SecretKey redact.Secret `envconfig:"CTYUN_SK"`
	Endpoint  string        `envconfig:"CTYUN_ELB_ENDPOINT" default:"https://ctelb-global.ctapi.ctyun.cn"`
}

// pollEnv holds the poll cadence settings.
type pollEnv struct {
	PollFirst time.Duration `envconfig:"LBFN_CTYUN_POLL_FIRST" default:"1s"`
	PollMax   time.Duration `envconfig:"LBFN_CTYUN_POLL_MAX" default:"5s"`
	MaxPolls  int           `envconfig:"LBFN_CTYUN_MAX_POLLS" default:"100"`
}

// PollFromEnv returns the poll cadence the environment sets: LBFN_CTYUN_POLL_FIRST, the first
// wait; LBFN_CTYUN_POLL_MAX, the longest (so the longest retryAfterSeconds an in_progress
// result carries, which the Step Functions job-poller's limits are derived from);
// LBFN_CTYUN_MAX_POLLS, the most requests per invocation.
func PollFromEnv() (step.Policy, error) {
	var e pollEnv
	if err := config.Load(&e); err != nil {
		return step.Policy{}, err
	}
	switch {
	case e.PollFirst <= 0:
		return step.Policy{}, op.Errorf(op.KindConfig, "LBFN_CTYUN_POLL_FIRST must be positive, got %v", e.PollFirst)
	case e.PollMax < e.PollFirst:
		return step.Policy{}, op.Errorf(op.KindConfig, "LBFN_CTYUN_POLL_MAX must be at least LBFN_CTYUN_POLL_FIRST, got %v", e.PollMax)
	case e.MaxPolls < 1:
		return step.Policy{}, op.Errorf(op.KindConfig, "LBFN_CTYUN_MAX_POLLS must be at least 1, got %d", e.MaxPolls)
	}
	poll := step.DefaultPolicy
	poll.First, poll.Cap, poll.MaxSteps = e.PollFirst, e.PollMax, e.MaxPolls
	return poll, nil
}

// FromEnv builds the Client from CTYUN_AK, CTYUN_SK, CTYUN_ELB_ENDPOINT, the poll cadence
// (PollFromEnv) and the shared LBFN_ transport settings.
func FromEnv() (*Client, error) {
	var e env
	if err := config.Load(&e); err != nil {
		return nil, err
	}
	poll, err := PollFromEnv()
	if err != nil {
		return nil, err
	}
	t, err := config.LoadTransport()
	if err != nil {
		return nil, err
	}
	return NewClient(Config{
		AccessKey: e.AccessKey,
		SecretKey: e.SecretKey,
		Endpoint:  e.Endpoint,
		HTTP:      t.Client(true),
		Poll:      poll,
	})
}
