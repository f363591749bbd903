package sqsapi

import (
	"context"
	"strings"

	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/op"
)

// Queue is one queue of a Client, the failure queue: trigger.FailureQueue's Send.
type Queue struct {
	client *Client
	url    string
}

// Queue returns the queue at url, checked as LBFN_FAILURE_QUEUE_URL: https (http only on
// loopback) and a path naming the queue.
func (c *Client) Queue(url string) (*Queue, error) {
	u, err := config.Endpoint("LBFN_FAILURE_QUEUE_URL", url)
	if err != nil {
		return nil, err
	}
	if strings.Trim(u.Path, "/") == "" {
		return nil, op.Errorf(op.KindConfig, "LBFN_FAILURE_QUEUE_URL: %q is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)", url)
	}
	return &Queue{client: c, url: url}, nil
}

// URL returns the queue's URL.
func (q *Queue) URL() string { return q.url }

// Send sends one message with string attributes to the queue (see Client.SendMessage).
func (q *Queue) Send(ctx context.Context, body string, attributes map[string]string) error {
	return q.client.SendMessage(ctx, q.url, body, attributes)
}

// FromEnv returns the SQS client the environment describes (the Settings, and the LBFN_
// transport settings) and the failure queue LBFN_FAILURE_QUEUE_URL names.
//
// The queue is nil when LBFN_FAILURE_QUEUE_URL is unset. The client is nil when there are no
// AWS credentials and no failure queue needs them: a function run outside Lambda then works
// as before, only without SQS calls. A setting that is present but unusable is an *op.Error
// of kind config naming the variable.
func FromEnv() (*Client, *Queue, error) {
	var env struct {
		FailureQueueURL string `envconfig:"LBFN_FAILURE_QUEUE_URL"`
	}
	if err := config.Load(&env); err != nil {
		return nil, nil, err
	}
	s, err := LoadSettings()
	if err != nil {
		return nil, nil, err
	}
	if env.FailureQueueURL == "" && s.AccessKeyID == "" && !s.SecretAccessKey.IsSet() {
		return nil, nil, nil
	}
	t, err := config.LoadTransport()
	if err != nil {
		return nil, nil, err
	}
	// Both calls may be retried even when an attempt's answer was lost: a duplicate failure
	// report is harmless (a lost one is not), and setting a visibility again changes nothing.
	// An SQS call is the last thing a record does before the function answers: the trigger
	// has the provider call end early enough to leave it time (op.Runner.FollowUp).
	c, err := New(s, t.Client(true))
	if err != nil {
		return nil, nil, err
	}
	if env.FailureQueueURL == "" {
		return c, nil, nil
	}
	q, err := c.Queue(env.FailureQueueURL)
	if err != nil {
		return nil, nil, err
	}
	return c, q, nil
}
