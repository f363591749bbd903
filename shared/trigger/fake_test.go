package trigger_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// fakeRequest is the request of the fake operation: outcome chooses what Call does.
type fakeRequest struct {
	op.Common
	Name    string `json:"name"`
	Outcome string `json:"outcome,omitempty"`
	// SleepMs makes Call wait, to observe concurrency.
	SleepMs int `json:"sleepMs,omitempty"`
	// RetryAfterS is the wait an in_progress outcome asks for: 0 means 5 s, negative none.
	RetryAfterS int `json:"retryAfterS,omitempty"`
}

// fakeClient counts calls and the most that ran at once.
type fakeClient struct {
	calls   atomic.Int64
	running atomic.Int64
	maxRun  atomic.Int64
	mu      sync.Mutex
	keys    []string
	repeats map[string]bool // by idempotency key: what the last call was told of earlier attempts
	// deadlines are the call contexts' deadlines by request name (zero: none).
	deadlines map[string]time.Time
}

func (c *fakeClient) Deadline(name string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadlines[name]
}

func (c *fakeClient) Repeat(key string) (repeat, called bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	repeat, called = c.repeats[key]
	return repeat, called
}

func (c *fakeClient) Keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.keys...)
}

// newFakeOp returns an operation whose Call obeys the request's outcome: "" created,
// "in_progress", "panic", or a kind name (a failure of that kind).
func newFakeOp() (op.Operation, *fakeClient) {
	c := &fakeClient{}
	return &op.Spec[fakeRequest, *fakeClient]{
		FunctionName: "fake-create-thing",
		ProviderName: "fakecloud",
		Client:       func() (*fakeClient, error) { return c, nil },
		Validate: func(r *fakeRequest, v *validate.Report) {
			v.RequiredString("name", &r.Name)
		},
		Send: func(ctx context.Context, c *fakeClient, r *fakeRequest, call op.Call) (op.Result, error) {
			c.calls.Add(1)
			c.mu.Lock()
			c.keys = append(c.keys, call.IdempotencyKey)
			if c.repeats == nil {
				c.repeats = map[string]bool{}
			}
			c.repeats[call.IdempotencyKey] = call.Repeat
			if c.deadlines == nil {
				c.deadlines = map[string]time.Time{}
			}
			c.deadlines[r.Name], _ = ctx.Deadline()
			c.mu.Unlock()
			n := c.running.Add(1)
			defer c.running.Add(-1)
			for {
				m := c.maxRun.Load()
				if n <= m || c.maxRun.CompareAndSwap(m, n) {
					break
				}
			}
			if r.SleepMs > 0 {
				time.Sleep(time.Duration(r.SleepMs) * time.Millisecond)
			}
			switch r.Outcome {
			case "":
				return op.Result{Status: op.StatusCreated, ID: "id-" + r.Name, RequestID: "req-1", Attempts: 1,
					Response: json.RawMessage(`{"id":"id-` + r.Name + `"}`)}, nil
			case "in_progress":
				after := 5 * time.Second
				if r.RetryAfterS != 0 {
					after = time.Duration(max(r.RetryAfterS, 0)) * time.Second
				}
				return op.Result{Status: op.StatusInProgress, Attempts: 1, ClientToken: "tok-" + call.IdempotencyKey,
					RetryAfterSeconds: op.Seconds(after), Request: json.RawMessage(`{"name":"` + r.Name + `","outcome":"in_progress"}`)}, nil
			case "panic":
				panic("fake panic")
			}
			return op.Result{}, &op.Error{Kind: op.Kind(r.Outcome), Message: "fake " + r.Outcome,
				Retryable: op.Kind(r.Outcome).Retryable(), Attempts: 2}
		},
	}, c
}

// fakeQueue records what was sent to the failure queue; fail makes Send fail.
type fakeQueue struct {
	mu   sync.Mutex
	sent []sentMessage
	fail bool
}

type sentMessage struct {
	Body       string
	Attributes map[string]string
}

func (q *fakeQueue) Send(ctx context.Context, body string, attrs map[string]string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail {
		return op.Errorf(op.KindUnavailable, "fake queue down")
	}
	q.sent = append(q.sent, sentMessage{body, attrs})
	return nil
}

func (q *fakeQueue) Sent() []sentMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]sentMessage(nil), q.sent...)
}
