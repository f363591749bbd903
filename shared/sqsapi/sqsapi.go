// Package sqsapi is the small Amazon SQS client of the functions: SendMessage (the failure
// queue of permanent failures) and ChangeMessageVisibility (a queued creation that is still in
// progress comes back when its provider says to look again, not after the queue's visibility
// timeout).
//
// It speaks SQS's JSON protocol through shared/awsjson (aws-sdk-go-v2's SigV4 signer over the
// project's own retrying transport), with credentials and region taken from the variables
// Lambda hands every function. The full SQS client of aws-sdk-go-v2 would do the same for about 1.2 MB more of
// binary; this needs two calls.
package sqsapi

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/awsjson"
	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// Settings are read from the environment.
type Settings struct {
	// Endpoint overrides the SQS endpoint (default https://sqs.{AWS_REGION}.amazonaws.com).
	// It exists for tests against a fake SQS and accepts only a loopback host.
	Endpoint        string        `envconfig:"LBFN_SQS_ENDPOINT"`
	Region          string        `envconfig:"AWS_REGION"`
	AccessKeyID     string        `envconfig:"AWS_ACCESS_KEY_ID"`
	SecretAccessKey redact.Secret `envconfig:"AWS_SECRET_ACCESS_KEY"`
	SessionToken    redact.Secret `envconfig:"AWS_SESSION_TOKEN"`
}

// MaxVisibilityTimeout is the longest visibility timeout SQS accepts: 12 hours.
const MaxVisibilityTimeout = 12 * time.Hour

// Client calls the SQS API of one region. It is safe for concurrent use.
type Client struct {
	api      *awsjson.Client
	override bool // the endpoint came from LBFN_SQS_ENDPOINT
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
	c := &Client{}
	cfg := awsjson.Config{
		Service: "sqs", TargetPrefix: "AmazonSQS", JSONVersion: "1.0",
		Env:     awsjson.Env{Region: s.Region, AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey, SessionToken: s.SessionToken},
		Purpose: "needed to call SQS: the failure queue, queued creations in progress",
		Now:     c.now,
	}
	if err := cfg.Env.Check(cfg.Purpose); err != nil {
		return nil, err
	}
	if s.Endpoint != "" {
		e, err := awsjson.LoopbackEndpoint("LBFN_SQS_ENDPOINT", s.Endpoint)
		if err != nil {
			return nil, err
		}
		cfg.Endpoint, c.override = e, true
	}
	api, err := awsjson.New(cfg, client)
	if err != nil {
		return nil, err
	}
	c.api = api
	return c, nil
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
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
		return c.api.Endpoint() + account + "/" + name, nil
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
	return c.api.Call(ctx, "SendMessage", in, nil)
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
	return c.api.Call(ctx, "ChangeMessageVisibility",
		changeMessageVisibilityInput{QueueURL: queueURL, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds}, nil)
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
