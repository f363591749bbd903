// Package failqueue sends a function's permanent failures to an Amazon SQS queue, so that a
// request that will never succeed as written is kept, with its error, instead of being
// retried forever or dropped.
//
// It speaks SQS's JSON protocol (SendMessage) signed with aws-sdk-go-v2's SigV4 signer over
// the project's own retrying transport, with credentials and region taken from the variables
// Lambda hands every function. The full SQS client of aws-sdk-go-v2 would do the same for
// about 1.2 MB more of binary; this needs one call.
package failqueue

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
	// QueueURL is the queue permanent failures go to; unset means there is none.
	QueueURL string `envconfig:"LBFN_FAILURE_QUEUE_URL"`
	// Endpoint overrides the SQS endpoint (default https://sqs.{AWS_REGION}.amazonaws.com).
	// It exists for tests against a fake SQS and accepts only a loopback host.
	Endpoint        string `envconfig:"LBFN_SQS_ENDPOINT"`
	Region          string `envconfig:"AWS_REGION"`
	AccessKeyID     string `envconfig:"AWS_ACCESS_KEY_ID"`
	SecretAccessKey string `envconfig:"AWS_SECRET_ACCESS_KEY"`
	SessionToken    string `envconfig:"AWS_SESSION_TOKEN"`
}

// Queue sends messages to one SQS queue. It is safe for concurrent use.
type Queue struct {
	queueURL string
	endpoint string
	region   string
	creds    aws.Credentials
	client   *httpx.Client
	signer   *v4.Signer
	// Now is the signing clock; nil means time.Now.
	Now func() time.Time
}

// FromEnv returns the queue LBFN_FAILURE_QUEUE_URL names, or nil (and no error) when it is
// unset. A setting that is present but unusable is an *op.Error of kind config.
func FromEnv() (*Queue, error) {
	var s Settings
	if err := config.Load(&s); err != nil {
		return nil, err
	}
	if s.QueueURL == "" {
		return nil, nil
	}
	t, err := config.LoadTransport()
	if err != nil {
		return nil, err
	}
	// A duplicate failure report is harmless; a lost one is not: retry even an ambiguous send.
	return New(s, t.Client(true))
}

// New returns the queue s describes, sending with client.
func New(s Settings, client *httpx.Client) (*Queue, error) {
	u, err := config.Endpoint("LBFN_FAILURE_QUEUE_URL", s.QueueURL)
	if err != nil {
		return nil, err
	}
	if strings.Trim(u.Path, "/") == "" {
		return nil, op.Errorf(op.KindConfig, "LBFN_FAILURE_QUEUE_URL: %q is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)", s.QueueURL)
	}
	if s.Region == "" {
		return nil, op.Errorf(op.KindConfig, "AWS_REGION is not set (needed for LBFN_FAILURE_QUEUE_URL)")
	}
	if s.AccessKeyID == "" || s.SecretAccessKey == "" {
		return nil, op.Errorf(op.KindConfig, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (needed for LBFN_FAILURE_QUEUE_URL)")
	}
	endpoint := "https://sqs." + s.Region + ".amazonaws.com"
	if s.Endpoint != "" {
		e, err := config.Endpoint("LBFN_SQS_ENDPOINT", s.Endpoint)
		if err != nil {
			return nil, err
		}
		if !op.IsLoopback(e.Hostname()) {
			return nil, op.Errorf(op.KindConfig, "LBFN_SQS_ENDPOINT: only a loopback host is allowed (it exists for tests), got %q", s.Endpoint)
		}
		endpoint = e.String()
	}
	return &Queue{
		queueURL: s.QueueURL,
		endpoint: endpoint + "/",
		region:   s.Region,
		creds:    aws.Credentials{AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey, SessionToken: s.SessionToken, Source: "environment"},
		client:   client,
		signer:   v4.NewSigner(),
	}, nil
}

// URL returns the queue's URL.
func (q *Queue) URL() string { return q.queueURL }

type messageAttribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue"`
}

type sendMessageInput struct {
	QueueURL          string                      `json:"QueueUrl"`
	MessageBody       string                      `json:"MessageBody"`
	MessageAttributes map[string]messageAttribute `json:"MessageAttributes,omitempty"`
}

// Send sends one message with string attributes (empty values are left out: SQS refuses
// them). Its error never carries a credential or signature.
func (q *Queue) Send(ctx context.Context, body string, attributes map[string]string) error {
	in := sendMessageInput{QueueURL: q.queueURL, MessageBody: body}
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
	payload, err := json.Marshal(in)
	if err != nil {
		return op.Wrap(op.KindProvider, err, "failqueue: encoding SendMessage")
	}
	req := httpx.Request{
		Method: http.MethodPost,
		URL:    q.endpoint,
		Header: http.Header{
			"Content-Type": {"application/x-amz-json-1.0"},
			"X-Amz-Target": {"AmazonSQS.SendMessage"},
		},
		Body: payload,
	}
	resp, err := q.client.Do(ctx, req, q.sign, nil)
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
		Message: "failqueue: SQS SendMessage answered " + http.StatusText(resp.StatusCode) + ": " + strings.TrimSpace(code+" "+e.Message)}
}

// sign adds a fresh SigV4 signature to one attempt.
func (q *Queue) sign(r *http.Request, body []byte) error {
	sum := sha256.Sum256(body)
	now := time.Now
	if q.Now != nil {
		now = q.Now
	}
	return q.signer.SignHTTP(r.Context(), q.creds, r, hex.EncodeToString(sum[:]), "sqs", q.region, now().UTC())
}
