// Package huaweicloud creates Huawei Cloud ELB pools through three APIs:
// POST /v2/{project_id}/elb/pools (CreatePool), POST /v2.0/lbaas/pools (CreateLbaasPool) and
// POST /v3/{project_id}/elb/master-slave-pools (CreateMasterSlavePool). Each operation is a
// request type (routing fields plus the API's own pool object), the rules the docs state, and
// one shared call: signed with SDK-HMAC-SHA256, retried where safe, its errors mapped to the
// kinds of op.Error.
package huaweicloud

import (
	"net/url"
	"regexp"
	"time"

	"github.com/lbfn/lbfn/shared/auth/hwsign"
	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// ProviderName is the provider's name in results.
const ProviderName = "huaweicloud"

// DefaultDomain is the domain of the per-region hosts https://elb.{region}.{domain}.
const DefaultDomain = "myhuaweicloud.com"

// Config is what a Client needs. LoadConfig reads it from the environment.
type Config struct {
	AccessKey     string
	SecretKey     redact.Secret
	SecurityToken redact.Secret // temporary credentials: sent and signed as X-Security-Token
	// ProjectID is the default project for requests without projectId.
	ProjectID string
	// Endpoint, when set, is the base URL of every call (an emulator, a private endpoint),
	// overriding the per-region host.
	Endpoint string
	// Domain of the per-region hosts; default DefaultDomain (some regions use myhuaweicloud.eu).
	Domain string
	// HTTP sends the requests; nil means an httpx.Client with the default policy. It must not
	// retry ambiguous failures (RetryAmbiguous): the creates carry no idempotency token.
	HTTP *httpx.Client
	// Now is the signing clock; nil means time.Now.
	Now func() time.Time
}

// String hides the secret key and the security token, should a Config be printed.
func (c Config) String() string {
	return "huaweicloud.Config{AccessKey: " + c.AccessKey + ", SecretKey: <redacted>, SecurityToken: " +
		c.SecurityToken.String() + ", ProjectID: " + c.ProjectID + ", Endpoint: " + c.Endpoint + ", Domain: " + c.Domain + "}"
}

// GoString hides them from %#v too.
func (c Config) GoString() string { return c.String() }

// env names the variables LoadConfig reads: the names Huawei's own SDK reads, plus ours.
type env struct {
	AccessKey     string        `envconfig:"HUAWEICLOUD_SDK_AK"`
	SecretKey     redact.Secret `envconfig:"HUAWEICLOUD_SDK_SK"`
	SecurityToken redact.Secret `envconfig:"HUAWEICLOUD_SDK_SECURITY_TOKEN"`
	ProjectID     string        `envconfig:"HUAWEICLOUD_SDK_PROJECT_ID"`
	Endpoint      string        `envconfig:"HUAWEICLOUD_ELB_ENDPOINT"`
	Domain        string        `envconfig:"LBFN_HUAWEICLOUD_DOMAIN" default:"myhuaweicloud.com"`
}

var domainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

// LoadConfig reads the Huawei settings and the shared LBFN_ transport settings. Every problem
// is an *op.Error of kind config naming the variable.
func LoadConfig() (Config, error) {
	var e env
	if err := config.Load(&e); err != nil {
		return Config{}, err
	}
	switch {
	case e.AccessKey == "":
		return Config{}, op.Errorf(op.KindConfig, "HUAWEICLOUD_SDK_AK is not set")
	case !e.SecretKey.IsSet():
		return Config{}, op.Errorf(op.KindConfig, "HUAWEICLOUD_SDK_SK is not set")
	}
	t, err := config.LoadTransport()
	if err != nil {
		return Config{}, err
	}
	return Config{
		AccessKey: e.AccessKey, SecretKey: e.SecretKey, SecurityToken: e.SecurityToken,
		ProjectID: e.ProjectID, Endpoint: e.Endpoint, Domain: e.Domain,
		HTTP: t.Client(false),
	}, nil
}

// FromEnv builds the client from the environment: the client of the three operations.
func FromEnv() (*Client, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	return NewClient(cfg)
}

// Client calls the Huawei ELB APIs. It is safe for concurrent use.
type Client struct {
	signer    *hwsign.Signer
	http      *httpx.Client // creates: an unanswered one is never re-sent blindly
	read      *httpx.Client // lookups: re-sent after a lost answer too
	projectID string
	endpoint  *url.URL // nil: the per-region host
	domain    string
}

// NewClient checks cfg and returns a client; errors are *op.Error of kind config.
func NewClient(cfg Config) (*Client, error) {
	if cfg.AccessKey == "" {
		return nil, op.Errorf(op.KindConfig, "HUAWEICLOUD_SDK_AK is not set")
	}
	if !cfg.SecretKey.IsSet() {
		return nil, op.Errorf(op.KindConfig, "HUAWEICLOUD_SDK_SK is not set")
	}
	if cfg.ProjectID != "" && !projectIDRE.MatchString(cfg.ProjectID) {
		return nil, op.Errorf(op.KindConfig, "HUAWEICLOUD_SDK_PROJECT_ID must be 32 lower-case letters and digits, got %q", cfg.ProjectID)
	}
	c := &Client{
		signer:    &hwsign.Signer{AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, SecurityToken: cfg.SecurityToken, Now: cfg.Now},
		http:      cfg.HTTP,
		projectID: cfg.ProjectID,
		domain:    cfg.Domain,
	}
	if c.http == nil {
		c.http = &httpx.Client{}
	}
	// A lookup is a read: re-sending one whose answer was lost is always safe.
	read := *c.http
	read.Policy.RetryAmbiguous = true
	c.read = &read
	if c.domain == "" {
		c.domain = DefaultDomain
	}
	if !domainRE.MatchString(c.domain) {
		return nil, op.Errorf(op.KindConfig, "LBFN_HUAWEICLOUD_DOMAIN must be a domain such as myhuaweicloud.com, got %q", c.domain)
	}
	if cfg.Endpoint != "" {
		u, err := config.Endpoint("HUAWEICLOUD_ELB_ENDPOINT", cfg.Endpoint)
		if err != nil {
			return nil, err
		}
		c.endpoint = u
	}
	return c, nil
}

// baseURL is the scheme, host and any path prefix every API path is appended to.
func (c *Client) baseURL(region string) string {
	if c.endpoint != nil {
		return c.endpoint.String()
	}
	return "https://elb." + region + "." + c.domain
}

// project resolves a request's project: its own, else the configured default.
func (c *Client) project(requested string) (string, error) {
	if requested != "" {
		return requested, nil
	}
	if c.projectID == "" {
		return "", op.Errorf(op.KindConfig, "HUAWEICLOUD_SDK_PROJECT_ID is not set and the request has no projectId")
	}
	return c.projectID, nil
}
