// Package awsjson calls AWS APIs that speak the JSON protocol (SQS, DynamoDB, Secrets Manager):
// one POST per action to the service's endpoint, the action named in X-Amz-Target, a JSON body,
// a SigV4 signature from aws-sdk-go-v2's signer, and a refusal answered as
// {"__type": ..., "message": ...}.
//
// It exists so the functions can make a handful of AWS calls without the SDK's service clients,
// which would add about a megabyte each to every binary, and without each caller repeating the
// signing and the error handling. Requests go through the project's httpx.Client, so retries
// and deadline margins are the caller's, as for any provider call.
package awsjson

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// Env is the AWS part of a function's environment: the region and the credentials Lambda hands
// every function.
type Env struct {
	Region          string        `envconfig:"AWS_REGION"`
	AccessKeyID     string        `envconfig:"AWS_ACCESS_KEY_ID"`
	SecretAccessKey redact.Secret `envconfig:"AWS_SECRET_ACCESS_KEY"`
	SessionToken    redact.Secret `envconfig:"AWS_SESSION_TOKEN"`
}

// LoadEnv reads Env from the environment.
func LoadEnv() (Env, error) {
	var e Env
	err := config.Load(&e)
	return e, err
}

// HasCredentials reports whether both halves of the key pair are set.
func (e Env) HasCredentials() bool { return e.AccessKeyID != "" && e.SecretAccessKey.IsSet() }

// Check returns an *op.Error of kind config naming what is missing, the region or the key pair,
// followed by purpose in parentheses ("needed to call SQS").
func (e Env) Check(purpose string) error {
	if e.Region == "" {
		return op.Errorf(op.KindConfig, "AWS_REGION is not set (%s)", purpose)
	}
	if !e.HasCredentials() {
		return op.Errorf(op.KindConfig, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (%s)", purpose)
	}
	return nil
}

// RegionalEndpoint is the base URL of a service's regional endpoint: the China regions live
// under their own domain.
func RegionalEndpoint(service, region string) string {
	domain := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		domain = "amazonaws.com.cn"
	}
	return "https://" + service + "." + region + "." + domain
}

// LoopbackEndpoint checks an endpoint override read from variable: it exists for tests against
// a local fake of the service, so only a loopback host is accepted (credentials and data never
// go to a host the template did not name). The URL has no trailing slash.
func LoopbackEndpoint(variable, raw string) (string, error) {
	u, err := config.Endpoint(variable, raw)
	if err != nil {
		return "", err
	}
	if !op.IsLoopback(u.Hostname()) {
		return "", op.Errorf(op.KindConfig, "%s: only a loopback host is allowed (it exists for tests), got %q", variable, u.Redacted())
	}
	return u.String(), nil
}

// Config describes the Client of one service.
type Config struct {
	// Service is the SigV4 signing name, also the prefix of error messages: "sqs", "dynamodb",
	// "secretsmanager".
	Service string
	// TargetPrefix names the API in X-Amz-Target ahead of the action: "AmazonSQS",
	// "DynamoDB_20120810", "secretsmanager".
	TargetPrefix string
	// JSONVersion is the protocol version of the Content-Type: "1.0" or "1.1".
	JSONVersion string
	// Endpoint is the base URL; empty means RegionalEndpoint(Service, Env.Region). The caller
	// has checked it (LoopbackEndpoint, config.Endpoint).
	Endpoint string
	// Env gives the region and the credentials; see Env.Check for Purpose.
	Env     Env
	Purpose string
	// Retryable decides which answers are tried again; nil means httpx.DefaultRetryable.
	// RetryThrottled also retries the throttling answers some services send as 400.
	Retryable httpx.Retryable
	// Now is the signing clock, read at every attempt; nil means time.Now.
	Now func() time.Time
}

// Client calls one service's JSON API in one region. It is safe for concurrent use.
type Client struct {
	service     string
	target      string // TargetPrefix + "."
	contentType string
	endpoint    string // with the trailing slash the protocol posts to
	region      string
	accessKeyID string
	secretKey   redact.Secret
	token       redact.Secret
	http        *httpx.Client
	signer      *v4.Signer
	retryable   httpx.Retryable
	now         func() time.Time
}

// New returns the client cfg describes, sending with hc. Missing settings are an *op.Error of
// kind config naming the variable.
func New(cfg Config, hc *httpx.Client) (*Client, error) {
	purpose := cfg.Purpose
	if purpose == "" {
		purpose = "needed to call " + cfg.Service
	}
	if err := cfg.Env.Check(purpose); err != nil {
		return nil, err
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = RegionalEndpoint(cfg.Service, cfg.Env.Region)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{
		service:     cfg.Service,
		target:      cfg.TargetPrefix + ".",
		contentType: "application/x-amz-json-" + cfg.JSONVersion,
		endpoint:    strings.TrimSuffix(endpoint, "/") + "/",
		region:      cfg.Env.Region,
		accessKeyID: cfg.Env.AccessKeyID,
		secretKey:   cfg.Env.SecretAccessKey,
		token:       cfg.Env.SessionToken,
		http:        hc,
		signer:      v4.NewSigner(),
		retryable:   cfg.Retryable,
		now:         now,
	}, nil
}

// Endpoint returns the URL the client posts to, with its trailing slash.
func (c *Client) Endpoint() string { return c.endpoint }

// Error is a refusal: the service answered with a status other than 2xx. It is the cause
// (Err) of the *op.Error Call returns, so a caller can branch on Code.
type Error struct {
	StatusCode int
	// Code is the __type without its namespace: "ConditionalCheckFailedException".
	Code string
	// Message is the first line of the service's message, bounded, with every credential
	// removed (a signature mismatch answer goes on with the canonical request, which names the
	// session token).
	Message string
	// Attempts is how many requests were sent to get this answer.
	Attempts int
}

func (e *Error) Error() string {
	return strings.TrimSpace("HTTP " + strconv.Itoa(e.StatusCode) + " " + e.Code + " " + e.Message)
}

// Throttled reports whether the service asked to slow down.
func (e *Error) Throttled() bool {
	return e.StatusCode == http.StatusTooManyRequests || throttlingCodes[e.Code]
}

// ErrUnreadable is the cause of Call's error when a 2xx answer does not decode into out.
var ErrUnreadable = errors.New("unreadable answer")

// AsError returns the refusal in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// HasCode reports whether err is a refusal with the given code.
func HasCode(err error, code string) bool {
	e := AsError(err)
	return e != nil && e.Code == code
}

// throttlingCodes are the "slow down" answers AWS services send as 400.
var throttlingCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
	"Throttling":                             true,
	"RequestThrottled":                       true,
}

// RetryThrottled retries what httpx retries by default (429, 5xx) and the throttling answers
// sent as 400.
func RetryThrottled(r *httpx.Response) (bool, time.Duration) {
	if retry, after := httpx.DefaultRetryable(r); retry {
		return true, after
	}
	code, _ := errorBody(r.Body)
	return r.StatusCode == http.StatusBadRequest && throttlingCodes[code], 0
}

// Call sends one action with in as its JSON body, and decodes a 2xx answer into out (when not
// nil). Its error is an *op.Error that never carries a credential or a signature:
//   - no answer: kind unavailable, retryable, with the attempts made (a hanging or unreachable
//     AWS service is an outage, whether the connection failed or the deadline came first);
//   - a refusal: kind auth (401, 403), throttled (429), unavailable (5xx) or provider, with the
//     code and message, and an *Error as its cause;
//   - an answer that does not decode: kind provider, cause ErrUnreadable.
func (c *Client) Call(ctx context.Context, action string, in, out any) error {
	payload, err := json.Marshal(in)
	if err != nil {
		return op.Wrap(op.KindProvider, err, c.service+": encoding "+action)
	}
	req := httpx.Request{
		Method: http.MethodPost,
		URL:    c.endpoint,
		Header: http.Header{
			"Content-Type": {c.contentType},
			"X-Amz-Target": {c.target + action},
		},
		Body: payload,
	}
	resp, err := c.http.Do(ctx, req, c.sign, c.retryable)
	if err != nil {
		// No answer at all, a connection failure or none before the deadline (less the
		// margin): the service is unavailable for now, which is retryable whatever ran out.
		e := op.AsError(err)
		return &op.Error{Kind: op.KindUnavailable, Retryable: true, Attempts: e.Attempts, Err: err,
			Message: c.service + ": " + action + ": no answer: " + e.Message}
	}
	if resp.StatusCode/100 == 2 {
		if out != nil && json.Unmarshal(resp.Body, out) != nil {
			return &op.Error{Kind: op.KindProvider, HTTPStatus: resp.StatusCode, Attempts: resp.Attempts,
				Message: c.service + ": " + action + " answered an unreadable body", Err: ErrUnreadable}
		}
		return nil
	}
	code, message := errorBody(resp.Body)
	refusal := &Error{StatusCode: resp.StatusCode, Code: code, Message: c.scrub(message), Attempts: resp.Attempts}
	kind := op.KindProvider
	switch {
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
		kind = op.KindAuth
	case resp.StatusCode == http.StatusTooManyRequests:
		kind = op.KindThrottled
	case resp.StatusCode >= 500:
		kind = op.KindUnavailable
	}
	return &op.Error{Kind: kind, Retryable: kind.Retryable(), HTTPStatus: resp.StatusCode,
		ProviderCode: code, ProviderMessage: refusal.Message, Attempts: resp.Attempts, Err: refusal,
		Message: c.service + ": " + action + " answered " + http.StatusText(resp.StatusCode) + ": " +
			strings.TrimSpace(code+" "+refusal.Message)}
}

// errorBody reads an error answer: its code without the namespace
// ("com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"), and its message
// (some services spell it "Message").
func errorBody(body []byte) (code, message string) {
	var e struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e)
	code = e.Type
	if i := strings.LastIndexAny(code, "#."); i >= 0 {
		code = code[i+1:]
	}
	message = e.Message
	if message == "" {
		message = e.MessageU
	}
	return code, message
}

// maxMessage bounds the service message kept in an error.
const maxMessage = 200

// scrub keeps the first line of a service message, bounded, with every credential form and
// this client's own credentials removed (redact.Text).
func (c *Client) scrub(message string) string {
	message, _, _ = strings.Cut(message, "\n")
	message = redact.Text(message, append(redact.Values(c.secretKey, c.token), c.accessKeyID)...)
	if len(message) > maxMessage {
		message = message[:maxMessage] + "..."
	}
	return message
}

// sign adds a fresh SigV4 signature to one attempt.
func (c *Client) sign(r *http.Request, body []byte) error {
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: c.accessKeyID, SecretAccessKey: c.secretKey.Reveal(),
		SessionToken: c.token.Reveal(), Source: "environment"}
	return c.signer.SignHTTP(r.Context(), creds, r, hex.EncodeToString(sum[:]), c.service, c.region, c.now().UTC())
}
