package devserver

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/lbfn/lbfn/shared/chatops/server"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/reply"
	"github.com/lbfn/lbfn/shared/trigger"
)

// maxDeliveries bounds how often the in-process queue runs one request that keeps failing
// retryably or stays in progress, as a queue's redrive policy would.
const maxDeliveries = 5

// localQueue is `make run`'s queue for chatops: each request runs in the background through
// its create function's own trigger (the same code a queued delivery runs: the run, the
// idempotency store, the result posted to replyTo), and is run again, like a queue's
// redelivery, while it fails retryably or is still in progress.
type localQueue struct {
	handlers map[string]*trigger.Handler
	// bounds are each delivery's time, as the HTTP handler's (trigger.Options.RequestContext).
	bounds trigger.Options
	log    *slog.Logger

	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newLocalQueue(ops []op.Operation, opts trigger.Options, log *slog.Logger) *localQueue {
	q := &localQueue{handlers: map[string]*trigger.Handler{}, log: log,
		bounds: trigger.Options{RequestTimeout: opts.RequestTimeout, DeadlineMargin: opts.DeadlineMargin}}
	if q.bounds.RequestTimeout <= 0 {
		q.bounds.RequestTimeout = time.Minute
	}
	for _, o := range ops {
		q.handlers[o.Function()] = trigger.New(o, opts)
	}
	q.base, q.cancel = context.WithCancel(context.Background())
	return q
}

// Enqueue implements server.Queue: the request runs after Enqueue returns.
func (q *localQueue) Enqueue(_ context.Context, function string, request []byte, jobID string) error {
	h, ok := q.handlers[function]
	if !ok {
		return op.Errorf(op.KindConfig, "%s is not served here", function)
	}
	q.wg.Add(1)
	go q.deliver(h, function, request, jobID)
	return nil
}

func (q *localQueue) deliver(h *trigger.Handler, function string, request []byte, jobID string) {
	defer q.wg.Done()
	for delivery := 1; ; delivery++ {
		ctx, cancel := q.bounds.RequestContext(q.base)
		answer, err := h.Handle(ctx, request) // a direct invoke: the request is the event
		cancel()
		res, _ := answer.(*op.Result)
		if err != nil {
			res = trigger.InvokeErrorResult(err)
		}
		if res == nil || reply.Final(res) {
			return
		}
		if delivery == maxDeliveries {
			q.log.Warn("in-process queue: giving up after the last delivery", "function", function, "jobId", jobID, "deliveries", delivery)
			return
		}
		wait := time.Duration(res.RetryAfterSeconds) * time.Second
		if wait <= 0 {
			wait = time.Second
		}
		select {
		case <-time.After(wait):
		case <-q.base.Done():
			return
		}
	}
}

// close stops redeliveries and waits for the runs in flight, until ctx is done.
func (q *localQueue) close(ctx context.Context) error {
	q.cancel()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// chatopsBanner writes where each platform's webhook is and whether it is configured.
func (s *Server) chatopsBanner(b *strings.Builder) {
	if s.Chatops == nil {
		return
	}
	fmt.Fprintf(b, "\nchatops (chat webhooks; commands run here through an in-process queue):\n")
	for _, c := range server.Configured(s.Chatops.Platforms()) {
		state := "configured"
		if c[1] != "" {
			state = "not configured (answers 401): set " + c[1]
		}
		fmt.Fprintf(b, "  %s/chatops/%-9s %s\n", s.URL, c[0], state)
	}
	if why := s.Chatops.CreateOff(); why != "" {
		fmt.Fprintf(b, "  %s\n", why)
	}
}
