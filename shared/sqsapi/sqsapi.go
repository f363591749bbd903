// Package sqsapi is the small Amazon SQS client of the functions: SendMessage (the failure
// queue of permanent failures) and ChangeMessageVisibility (a queued creation that is still in
// progress comes back when its provider says to look again, not after the queue's visibility
// timeout).
//
// It speaks SQS's JSON protocol signed with aws-sdk-go-v2's SigV4 signer over the project's own
// retrying transport, with credentials and region taken from the variables Lambda hands every
// function. The full SQS client of aws-sdk-go-v2 would do the same for about 1.2 MB more of
// binary; this needs two calls.
package sqsapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
)

// Settings are read from the environment.
type Settings struct {
	// Endpoint overrides the SQS endpoint (default https://sqs.{AWS_REGION}.amazonaws.com).
	// It exists for tests against a fake SQS and accepts only a loopback host.
	Endpoint        string `envconfig:"LBFN_SQS_ENDPOINT"`
	Region          string `envconfig:"AWS_REGION"`
	AccessKeyID     string `envconfig:"AWS_ACCESS_KEY_ID"`
	SecretAccessKey string `envconfig:"AWS_SECRET_ACCESS_KEY"`
	SessionToken    string `envconfig:"AWS_SESSION_TOKEN"`
}

// MaxVisibilityTimeout is the longest visibility timeout SQS accepts: 12 hours.
const MaxVisibilityTimeout = 12 * time.Hour

// Client calls the SQS API of one region. It is safe for concurrent use.
type Client struct {
	endpoint string // with the trailing slash the JSON protocol posts to
	override bool   // endpoint came from LBFN_SQS_ENDPOINT
	region   string
	creds    aws.Credentials
	client   *httpx.Client
	signer   *v4.Signer
	// Now is the signing clock; nil means time.Now.
	Now func() time.Time
}

// LoadSettings reads the settings from the environment.
func LoadSettings() (Settings, error) {
	var s Settings
	err := config.Load(&s)
	return s, err
}

// New returns the client s describes, sending with client. A setting that is missing or
// unusable is an *op.Error of kind config naming the variable.
func New(s Settings, client *httpx.Client) (*Client, error) {
	if s.Region == "" {
		return nil, op.Errorf(op.KindConfig, "AWS_REGION is not set (needed to call SQS: the failure queue, queued creations in progress)")
	}
	if s.AccessKeyID == "" || s.SecretAccessKey == "" {
		return nil, op.Errorf(op.KindConfig, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (needed to call SQS: the failure queue, queued creations in progress)")
	}
	c := &Client{
		endpoint: "https://sqs." + s.Region + "." + dnsSuffix(s.Region) + "/",
		region:   s.Region,
		creds:    aws.Credentials{AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey, SessionToken: s.SessionToken, Source: "environment"},
		client:   client,
		signer:   v4.NewSigner(),
	}
	if s.Endpoint != "" {
		e, err := config.Endpoint("LBFN_SQS_ENDPOINT", s.Endpoint)
		if err != nil {
			return nil, err
		}
		if !op.IsLoopback(e.Hostname()) {
			return nil, op.Errorf(op.KindConfig, "LBFN_SQS_ENDPOINT: only a loopback host is allowed (it exists for tests), got %q", s.Endpoint)
		}
		c.endpoint, c.override = strings.TrimSuffix(e.String(), "/")+"/", true
	}
	return c, nil
}

// dnsSuffix is the domain of a region's endpoints: the China regions have their own.
func dnsSuffix(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

// QueueURL returns the URL of the queue an ARN (arn:aws:sqs:REGION:ACCOUNT:NAME, an SQS
// record's eventSourceARN) names. With LBFN_SQS_ENDPOINT set, the URL is on that endpoint, as
// local SQS implementations name their queues.
func (c *Client) QueueURL(arn string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "sqs" ||
		parts[3] == "" || parts[4] == "" || parts[5] == "" || strings.ContainsAny(parts[3]+parts[4]+parts[5], "/?#") {
		return "", op.Errorf(op.KindValidation, "%q is not an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)", arn)
	}
	region, account, name := parts[3], parts[4], parts[5]
	if c.override {
		return c.endpoint + account + "/" + name, nil
	}
	return "https://sqs." + region + "." + dnsSuffix(region) + "/" + account + "/" + name, nil
}

type messageAttribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue"`
}

type sendMessageInput struct {
	QueueURL          string                      `json:"QueueUrl"`
	MessageBody       string                      `json:"MessageBody"`
	MessageAttributes map[string]messageAttribute `json:"MessageAttributes,omitempty"`
}

// SendMessage sends one message with string attributes (empty values are left out: SQS
// refuses them). Its error never carries a credential or signature.
func (c *Client) SendMessage(ctx context.Context, queueURL, body string, attributes map[string]string) error {
	in := sendMessageInput{QueueURL: queueURL, MessageBody: body}
	keys := make([]string, 0, len(attributes))
	for k := range attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := attributes[k]; v != "" {
			if in.MessageAttributes == nil {
				in.MessageAttributes = map[string]messageAttribute{}
			}
			in.MessageAttributes[k] = messageAttribute{DataType: "String", StringValue: v}
		}
	}
	return c.call(ctx, "SendMessage", in)
}

type changeMessageVisibilityInput struct {
	QueueURL          string `json:"QueueUrl"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout int    `json:"VisibilityTimeout"`
}

// ChangeMessageVisibility makes a received message visible again timeout from now (whole
// seconds, rounded up, clamped to 0..12 h as SQS requires). Setting it again is harmless, so
// the call is retried like any other.
func (c *Client) ChangeMessageVisibility(ctx context.Context, queueURL, receiptHandle string, timeout time.Duration) error {
	timeout = min(max(timeout, 0), MaxVisibilityTimeout)
	seconds := int((timeout + time.Second - 1) / time.Second)
	return c.call(ctx, "ChangeMessageVisibility",
		changeMessageVisibilityInput{QueueURL: queueURL, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds})
}

// ChangeVisibility is ChangeMessageVisibility for the queue an ARN names (an SQS record's
// eventSourceARN).
func (c *Client) ChangeVisibility(ctx context.Context, queueARN, receiptHandle string, timeout time.Duration) error {
	u, err := c.QueueURL(queueARN)
	if err != nil {
		return err
	}
	return c.ChangeMessageVisibility(ctx, u, receiptHandle, timeout)
}

// call sends one JSON-protocol action and maps a refusal to an *op.Error.
func (c *Client) call(ctx context.Context, action string, in any) error {
	payload, err := json.Marshal(in)
	if err != nil {
		return op.Wrap(op.KindProvider, err, "sqs: encoding "+action)
	}
	req := httpx.Request{
		Method: http.MethodPost,
		URL:    c.endpoint,
		Header: http.Header{
			"Content-Type": {"application/x-amz-json-1.0"},
			"X-Amz-Target": {"AmazonSQS." + action},
		},
		Body: payload,
	}
	resp, err := c.client.Do(ctx, req, c.sign, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 == 2 {
		return nil
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(resp.Body, &e)
	code := e.Type
	if i := strings.LastIndexAny(code, "#."); i >= 0 {
		code = code[i+1:]
	}
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
		ProviderCode: code, ProviderMessage: e.Message, Attempts: resp.Attempts,
		Message: "sqs: " + action + " answered " + http.StatusText(resp.StatusCode) + ": " + strings.TrimSpace(code+" "+e.Message)}
}

// sign adds a fresh SigV4 signature to one attempt.
func (c *Client) sign(r *http.Request, body []byte) error {
	sum := sha256.Sum256(body)
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	return c.signer.SignHTTP(r.Context(), c.creds, r, hex.EncodeToString(sum[:]), "sqs", c.region, now().UTC())
}
