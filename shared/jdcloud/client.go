package jdcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/auth/jdsign"
	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// DefaultEndpoint is JD Cloud's global load-balancer API.
const DefaultEndpoint = "https://lb.jdcloud-api.com"

// service is the signing service name of the load-balancer API.
const service = "lb"

// Config is what a Client needs. FromEnv fills it from the environment; tests build it.
type Config struct {
	AccessKey string
	SecretKey redact.Secret
	// Endpoint is the base URL; default DefaultEndpoint. https, or http for loopback only.
	Endpoint string
	// HTTP sends the requests; default an httpx.Client with RetryAmbiguous (safe here: a
	// duplicate is reconciled by name).
	HTTP *httpx.Client
	// Now and Nonce feed the signer; defaults time.Now and random UUIDv4s.
	Now   func() time.Time
	Nonce func() string
}

// Client calls the JD Cloud load-balancer API.
type Client struct {
	creds    jdsign.Credentials
	endpoint string // no trailing slash
	http     *httpx.Client
	now      func() time.Time
	nonce    func() string
	keys     *jdsign.KeyCache // the signing keys of the day, by region
}

// NewClient checks cfg and returns a client. Its errors are *op.Error of kind config.
func NewClient(cfg Config) (*Client, error) {
	if cfg.AccessKey == "" {
		return nil, op.Errorf(op.KindConfig, "JDCLOUD_ACCESS_KEY is not set")
	}
	if !cfg.SecretKey.IsSet() {
		return nil, op.Errorf(op.KindConfig, "JDCLOUD_SECRET_KEY is not set")
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	u, err := config.Endpoint("JDCLOUD_LB_ENDPOINT", cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &httpx.Client{Policy: httpx.Policy{RetryAmbiguous: true}}
	}
	return &Client{
		creds:    jdsign.Credentials{AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey},
		endpoint: u.String(),
		http:     cfg.HTTP,
		now:      cfg.Now,
		nonce:    cfg.Nonce,
		keys:     &jdsign.KeyCache{},
	}, nil
}

// env holds the variables README.md's Configuration names. Credentials are checked by NewClient, so an empty
// value is reported like a missing one.
type env struct {
	AccessKey string        `envconfig:"JDCLOUD_ACCESS_KEY"`
	SecretKey redact.Secret `envconfig:"JDCLOUD_SECRET_KEY"`
	Endpoint  string        `envconfig:"JDCLOUD_LB_ENDPOINT" default:"https://lb.jdcloud-api.com"`
}

// FromEnv builds a client from JDCLOUD_ACCESS_KEY, JDCLOUD_SECRET_KEY, JDCLOUD_LB_ENDPOINT and
// the LBFN_ transport settings.
func FromEnv() (*Client, error) {
	var e env
	if err := config.Load(&e); err != nil {
		return nil, err
	}
	t, err := config.LoadTransport()
	if err != nil {
		return nil, err
	}
	return NewClient(Config{AccessKey: e.AccessKey, SecretKey: e.SecretKey, Endpoint: e.Endpoint,
		HTTP: t.Client(true)})
}

// String names the client without its secret key, should one be printed.
func (c *Client) String() string {
	return "jdcloud.Client{endpoint: " + c.endpoint + ", accessKey: " + c.creds.AccessKey + "}"
}

// String hides the secret key, should a Config be printed.
func (c Config) String() string {
	return "jdcloud.Config{AccessKey: " + c.AccessKey + ", SecretKey: <redacted>, Endpoint: " + c.Endpoint + "}"
}

// GoString hides the secret key from %#v too.
func (c Config) GoString() string { return c.String() }

// signer returns the signer of one region's requests.
func (c *Client) signer(region string) httpx.Signer {
	s := &jdsign.Signer{Credentials: c.creds, Service: service, Region: region, Now: c.now, Nonce: c.nonce, Keys: c.keys}
	return s.Sign
}

var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// CreateBackend sends one createBackend call and reads its answer. After a name conflict it
// looks the backend up: when the existing one is what was asked for, an earlier delivery of
// this request created it, and the answer is that backend, created.
//
// After a reconcile, Response is createBackend's success body rebuilt from the lookup
// ({"requestId", "result": {"backendId"}}), so readers of result.backendId need no second
// form, and Attempts counts the create attempts.
func (c *Client) CreateBackend(ctx context.Context, r *CreateBackendRequest) (op.Result, error) {
	body, err := json.Marshal(&r.CreateBackendBody)
	if err != nil {
		return op.Result{}, op.Wrap(op.KindValidation, err, "encoding the request")
	}
	u := c.endpoint + "/v1/regions/" + url.PathEscape(r.RegionID) + "/backends/"
	resp, err := c.http.Do(ctx, httpx.Request{Method: http.MethodPost, URL: u, Header: jsonHeader, Body: body},
		c.signer(r.RegionID), retryable)
	if err != nil {
		return op.Result{}, err
	}
	if resp.StatusCode == http.StatusOK {
		var ok struct {
			RequestID string `json:"requestId"`
			Result    struct {
				BackendID string `json:"backendId"`
			} `json:"result"`
		}
		if json.Unmarshal(resp.Body, &ok) != nil || ok.Result.BackendID == "" {
			return op.Result{}, &op.Error{Kind: op.KindProvider, Message: "JD Cloud answered 200 without result.backendId",
				Retryable: op.KindProvider.Retryable(), HTTPStatus: resp.StatusCode, RequestID: requestID(resp, ok.RequestID),
				Attempts: resp.Attempts}
		}
		return op.Result{Status: op.StatusCreated, ID: ok.Result.BackendID, RequestID: requestID(resp, ok.RequestID),
			Attempts: resp.Attempts, Response: json.RawMessage(resp.Body)}, nil
	}
	e := errorOf(resp)
	if e.Kind == op.KindConflict && isNameConflict(e) {
		return c.reconcile(ctx, r, e)
	}
	return op.Result{}, e
}

// errorBody is JD Cloud's error answer.
type errorBody struct {
	RequestID string `json:"requestId"`
	Error     *struct {
		Code    int    `json:"code"`
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

func parseError(b []byte) (errorBody, bool) {
	var eb errorBody
	if json.Unmarshal(b, &eb) != nil || eb.Error == nil {
		return eb, false
	}
	return eb, true
}

// isQuota tells a quota refusal from throttling; both come as 429.
func isQuota(status, message string) bool {
	return status == "QUOTA_EXCEEDED" || strings.Contains(strings.ToLower(message), "quota limit")
}

// retryable retries what httpx does by default, except a 429 that is a quota: waiting does
// not give back quota.
func retryable(r *httpx.Response) (bool, time.Duration) {
	if r.StatusCode == http.StatusTooManyRequests {
		if eb, ok := parseError(r.Body); ok && isQuota(eb.Error.Status, eb.Error.Message) {
			return false, 0
		}
	}
	return httpx.DefaultRetryable(r)
}

// errorOf maps a non-200 answer to an *op.Error, by HTTP status first (JD's SDK does not look
// at it, which is how failures pass for successes) and by error.status where a status is
// shared.
func errorOf(resp *httpx.Response) *op.Error {
	eb, isJSON := parseError(resp.Body)
	var code, msg string
	if isJSON {
		// JD's gateway may echo the request's authorization header and its signature.
		code, msg = eb.Error.Status, redact.Text(eb.Error.Message)
	}
	var kind op.Kind
	switch s := resp.StatusCode; {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		kind = op.KindAuth
	case s == http.StatusNotFound:
		kind = op.KindNotFound
	case s == http.StatusConflict:
		kind = op.KindConflict
	case s == http.StatusTooManyRequests && isQuota(code, msg):
		kind = op.KindQuota
	case s == http.StatusTooManyRequests:
		kind = op.KindThrottled
	case s >= 500:
		kind = op.KindUnavailable
	default:
		kind = op.KindProvider
	}
	text := msg
	if !isJSON {
		text = "non-JSON answer: " + http.StatusText(resp.StatusCode)
	}
	message := fmt.Sprintf("JD Cloud answered HTTP %d %s: %s", resp.StatusCode, code, text)
	if code == "" {
		message = fmt.Sprintf("JD Cloud answered HTTP %d: %s", resp.StatusCode, text)
	}
	return &op.Error{Kind: kind, Message: message, Retryable: kind.Retryable(), ProviderCode: code, ProviderMessage: msg,
		HTTPStatus: resp.StatusCode, RequestID: requestID(resp, eb.RequestID), Attempts: resp.Attempts}
}

func requestID(resp *httpx.Response, fromBody string) string {
	if fromBody != "" {
		return fromBody
	}
	return resp.Header.Get("x-jdcloud-request-id")
}

// isNameConflict recognises the createBackend page's 409 "backend.inuse.name:backend name 'x' is already
// exist", whether the code arrives as error.status or inside the message.
func isNameConflict(e *op.Error) bool {
	return e.ProviderCode == "backend.inuse.name" || strings.Contains(e.ProviderMessage, "backend.inuse.name")
}

// backend is the part of describeBackends' items the reconcile compares.
type backend struct {
	BackendID      string   `json:"backendId"`
	BackendName    string   `json:"backendName"`
	LoadBalancerID string   `json:"loadBalancerId"`
	Protocol       string   `json:"protocol"`
	Port           int      `json:"port"`
	Algorithm      string   `json:"algorithm"`
	TargetGroupIDs []string `json:"targetGroupIds"`
}

// reconcile looks up the backend that holds the name. When it matches the request (same
// load balancer, protocol and port, and algorithm and target group where both say), this
// request's earlier delivery made it: answer created. Otherwise the conflict stands. When
// the lookup itself fails retryably, that failure is the answer, so a retry decides later.
func (c *Client) reconcile(ctx context.Context, r *CreateBackendRequest, conflict *op.Error) (op.Result, error) {
	q := url.Values{}
	q.Set("filters.1.name", "backendNames")
	q.Set("filters.1.values.1", r.BackendName)
	q.Set("filters.2.name", "loadBalancerId")
	q.Set("filters.2.values.1", r.LoadBalancerID)
	if t := loadBalancerType(r.LoadBalancerID); t != "" {
		q.Set("loadBalancerType", t) // the list defaults to alb
	}
	u := c.endpoint + "/v1/regions/" + url.PathEscape(r.RegionID) + "/backends/?" +
		jdsign.CanonicalQuery(q.Encode())
	resp, err := c.http.Do(ctx, httpx.Request{Method: http.MethodGet, URL: u, Header: jsonHeader},
		c.signer(r.RegionID), nil)
	if err != nil {
		e := op.AsError(err)
		if !e.Retryable {
			return op.Result{}, conflict
		}
		return op.Result{}, e.WithMessage("backend name exists and looking it up failed: " + e.Message).WithAttempts(e.Attempts + conflict.Attempts)
	}
	if resp.StatusCode != http.StatusOK {
		e := errorOf(resp)
		if !e.Retryable {
			return op.Result{}, conflict
		}
		return op.Result{}, e.WithMessage("backend name exists and looking it up failed: " + e.Message).WithAttempts(e.Attempts + conflict.Attempts)
	}
	var list struct {
		RequestID string `json:"requestId"`
		Result    struct {
			Backends []backend `json:"backends"`
		} `json:"result"`
	}
	if json.Unmarshal(resp.Body, &list) != nil {
		return op.Result{}, conflict
	}
	for _, b := range list.Result.Backends {
		if !matches(b, r) {
			continue
		}
		id := requestID(resp, list.RequestID)
		body, _ := json.Marshal(map[string]any{"requestId": id, "result": map[string]string{"backendId": b.BackendID}})
		return op.Result{Status: op.StatusCreated, ID: b.BackendID, RequestID: id,
			Attempts: conflict.Attempts, Response: body}, nil
	}
	return op.Result{}, conflict
}

func matches(b backend, r *CreateBackendRequest) bool {
	if b.BackendID == "" || b.BackendName != r.BackendName || b.LoadBalancerID != r.LoadBalancerID ||
		b.Protocol != r.Protocol || r.Port == nil || b.Port != *r.Port {
		return false
	}
	if r.Algorithm != nil && b.Algorithm != "" && b.Algorithm != *r.Algorithm {
		return false
	}
	if len(r.TargetGroupIDs) > 0 && len(b.TargetGroupIDs) > 0 && r.TargetGroupIDs[0] != b.TargetGroupIDs[0] {
		return false
	}
	return true
}

// loadBalancerType guesses nlb or dnlb from the id's prefix, for the list call's
// loadBalancerType (which defaults to alb). JD's ids do not promise this; a wrong guess only
// means the conflict is reported as a conflict.
func loadBalancerType(id string) string {
	switch {
	case strings.HasPrefix(id, "dnlb-"):
		return "dnlb"
	case strings.HasPrefix(id, "nlb-"):
		return "nlb"
	}
	return ""
}
