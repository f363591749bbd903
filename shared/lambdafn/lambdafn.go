// Package lambdafn is the AWS Lambda entry of every function: main calls Start with the
// function's operation, and Start reads the settings, applies the secrets and serves every
// trigger through the Runtime API.
package lambdafn

import (
	"context"
	"log"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/secrets"
	"github.com/lbfn/lbfn/shared/sqsapi"
	"github.com/lbfn/lbfn/shared/trigger"
)

// initTimeout bounds the set-up done during Lambda's init phase (10 s at most, unbilled).
const initTimeout = 5 * time.Second

// shutdownGrace bounds how long a SIGTERM waits for the invocations in flight: Lambda's
// shutdown phase lasts at most 2 s (then SIGKILL), and an invocation cut short is retried by
// its event source, under the same idempotency key.
const shutdownGrace = 2 * time.Second

// answerSettle is the moment left, once the last invocation in flight has returned, for
// aws-lambda-go to post its answer to the Runtime API (a loopback request) before the process
// exits.
const answerSettle = 250 * time.Millisecond

// Start serves o on the Lambda Runtime API and never returns. A broken setting never crashes
// the process: every invocation then answers a config failure naming it (and the set-up is
// tried again on the next invocation, so a passing Secrets Manager failure does not stick).
//
// Every line is written by the JSON logger: the standard library's logger (aws-lambda-go's
// own line on each failed invoke, its warnings) is routed through it. On SIGTERM the
// invocations in flight are finished (for at most shutdownGrace), the output flushed, and
// the process exits.
func Start(o op.Operation) {
	logger := lambdacontext.NewLogger()
	RouteStandardLog(logger)
	f := New(o, logger)
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	f.handler(ctx) // set up during init, before the first invocation is timed
	cancel()
	lambda.StartWithOptions(f, lambda.WithEnableSIGTERM(func() {
		f.Shutdown(shutdownGrace)
		flush()
		os.Exit(0)
	}))
}

// RouteStandardLog makes logger the default slog logger and routes the standard library's
// logger through it at WARN (what reaches that one is aws-lambda-go's line on each failed
// invoke and its warnings), so every line the process writes has logger's format.
func RouteStandardLog(logger *slog.Logger) {
	slog.SetDefault(logger) // also points the log package's output at logger's handler
	slog.SetLogLoggerLevel(slog.LevelWarn)
	log.SetPrefix("")
}

// flush syncs the process's output; the logger writes each line as it comes, so nothing is
// buffered above the file.
func flush() {
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
}

// Function is the Lambda handler of one operation (it implements aws-lambda-go's
// lambda.Handler). Its set-up runs until it succeeds once.
type Function struct {
	op  op.Operation
	log *slog.Logger

	mu    sync.Mutex
	ready *trigger.Handler
	// margin is the time each invocation keeps free to answer in: LBFN_DEADLINE_MARGIN once
	// set up, op.DefaultMargin until then.
	margin time.Duration

	flight inFlight
}

// New returns the handler of o, logging to log. Its set-up runs on the first Invoke.
func New(o op.Operation, log *slog.Logger) *Function {
	return &Function{op: o, log: log}
}

// Invoke implements lambda.Handler. The invocation's work, a set-up retried included, ends
// the deadline margin before Lambda's deadline (op.Invocation), so the answer is returned in
// time whatever the work met.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.flight.begin()
	defer f.flight.end()
	f.mu.Lock()
	margin := f.margin
	f.mu.Unlock()
	ctx, cancel := op.Invocation(ctx, margin)
	defer cancel()
	return f.handler(ctx).Invoke(ctx, payload)
}

// Shutdown waits until no invocation is in flight, or grace has passed, and logs what it
// did. When one was in flight, it then leaves aws-lambda-go a moment to post its answer.
func (f *Function) Shutdown(grace time.Duration) {
	n := f.flight.count()
	f.log.Info("SIGTERM: finishing the invocations in flight, then exiting", "function", f.op.Function(),
		"inFlight", n, "graceMs", grace.Milliseconds())
	if n == 0 {
		return
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-f.flight.idle():
		time.Sleep(min(answerSettle, grace))
		f.log.Info("SIGTERM: the invocations in flight are done", "function", f.op.Function())
	case <-timer.C:
		f.log.Warn("SIGTERM: invocations still in flight after the grace period; their event sources retry them",
			"function", f.op.Function(), "inFlight", f.flight.count(), "graceMs", grace.Milliseconds())
	}
}

// inFlight counts the invocations running (several share the process with
// AWS_LAMBDA_MAX_CONCURRENCY > 1).
type inFlight struct {
	mu      sync.Mutex
	n       int
	waiters []chan struct{}
}

func (c *inFlight) begin() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *inFlight) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n--
	if c.n == 0 {
		for _, w := range c.waiters {
			close(w)
		}
		c.waiters = nil
	}
}

func (c *inFlight) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// idle returns a channel closed once no invocation is running.
func (c *inFlight) idle() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	if c.n == 0 {
		close(ch)
		return ch
	}
	c.waiters = append(c.waiters, ch)
	return ch
}

// handler returns the trigger handler, setting it up if that has not succeeded yet, or one
// that answers the set-up's failure.
func (f *Function) handler(ctx context.Context) *trigger.Handler {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ready != nil {
		return f.ready
	}
	h, margin, err := f.setup(ctx)
	if err != nil {
		e := op.AsError(err)
		f.log.ErrorContext(ctx, "set-up failed: answering every request with its failure until it succeeds", "function", f.op.Function(),
			"provider", f.op.Provider(), "errorKind", string(e.Kind), "retryable", e.Retryable, "error", e.Message)
		return trigger.New(trigger.Unconfigured(f.op, err), trigger.Options{Logger: f.log})
	}
	f.ready, f.margin = h, margin
	return h
}

// setup applies the secrets first (they may hold LBFN_WEBHOOK_SECRET), then reads the
// trigger settings and the SQS client: the failure queue, and the visibility changes that
// bring a queued creation still in progress back when its provider says to look again.
func (f *Function) setup(ctx context.Context) (*trigger.Handler, time.Duration, error) {
	if err := secrets.Apply(ctx); err != nil {
		return nil, 0, err
	}
	opts, err := trigger.LoadOptions()
	if err != nil {
		return nil, 0, err
	}
	sqs, q, err := sqsapi.FromEnv()
	if err != nil {
		return nil, 0, err
	}
	if q != nil {
		opts.FailureQueue = q
	}
	if sqs != nil {
		opts.Visibility = sqs
	}
	opts.Logger = f.log
	return trigger.New(f.op, opts), opts.DeadlineMargin, nil
}
