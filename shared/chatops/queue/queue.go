// Package queue hands a create request from chatops to its create function on AWS: one SQS
// SendMessage to the queue LBFN_QUEUE_URL_<FUNCTION> names. (Google Cloud's Pub/Sub topics
// are in functions/gcp, beside its publisher; `make run`'s in-process queue is the dev
// server's.) The message is the function's ordinary request, so the create function cannot
// tell it from any other queued request.
package queue

import (
	"context"
	"os"
	"strings"

	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/sqsapi"
)

// URLPrefix starts the variable of each create function's queue URL.
const URLPrefix = "LBFN_QUEUE_URL_"

// Variable is the variable of function's queue or topic under prefix:
// Variable(URLPrefix, "huawei-create-pool") is "LBFN_QUEUE_URL_HUAWEI_CREATE_POOL".
func Variable(prefix, function string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(function, "-", "_"))
}

// SQS sends to one queue per create function.
type SQS struct {
	client *sqsapi.Client
	urls   map[string]string // function -> queue URL
}

// NewSQS returns the queues urls names (function -> queue URL), sent to with client.
func NewSQS(client *sqsapi.Client, urls map[string]string) *SQS {
	return &SQS{client: client, urls: urls}
}

// SQSFromEnv reads LBFN_QUEUE_URL_<FUNCTION> for each of functions (a function without one is
// not queued to: Enqueue answers a config failure naming the variable) and the SQS client's
// settings (AWS credentials and region as Lambda hands them, LBFN_SQS_ENDPOINT for tests).
func SQSFromEnv(functions []string) (*SQS, error) {
	urls := map[string]string{}
	for _, fn := range functions {
		// The names follow the catalog, so they are looked up one by one rather than
		// declared as struct tags.
		name := Variable(URLPrefix, fn)
		raw := strings.TrimSpace(os.Getenv(name))
		if raw == "" {
			continue
		}
		u, err := config.Endpoint(name, raw)
		if err != nil {
			return nil, err
		}
		if strings.Trim(u.Path, "/") == "" {
			return nil, op.Errorf(op.KindConfig, "%s: %q is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)", name, raw)
		}
		urls[fn] = u.String()
	}
	s, err := sqsapi.LoadSettings()
	if err != nil {
		return nil, err
	}
	t, err := config.LoadTransport()
	if err != nil {
		return nil, err
	}
	// A SendMessage whose answer was lost may be sent again: the request's idempotencyKey is
	// the job id, so a duplicate message creates nothing new.
	c, err := sqsapi.New(s, t.Client(true))
	if err != nil {
		return nil, err
	}
	return NewSQS(c, urls), nil
}

// Enqueue sends request to function's queue, with the job id and function as message
// attributes (for whoever reads the queue; the request itself carries both too).
func (q *SQS) Enqueue(ctx context.Context, function string, request []byte, jobID string) error {
	url, ok := q.urls[function]
	if !ok {
		return op.Errorf(op.KindConfig, "%s is not set: %s cannot be queued", Variable(URLPrefix, function), function)
	}
	return q.client.SendMessage(ctx, url, string(request), map[string]string{"function": function, "jobId": jobID})
}
