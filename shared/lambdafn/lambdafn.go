// Package lambdafn is the AWS Lambda entry of every function: main calls Start with the
// function's operation, and Start reads the settings, applies the secrets and serves every
// trigger through the Runtime API.
package lambdafn

import (
	"context"
	"log/slog"
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

// Start serves o on the Lambda Runtime API and never returns. A broken setting never crashes
// the process: every invocation then answers a config failure naming it (and the set-up is
// tried again on the next invocation, so a passing Secrets Manager failure does not stick).
func Start(o op.Operation) {
	f := New(o, lambdacontext.NewLogger())
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	f.handler(ctx) // set up during init, before the first invocation is timed
	cancel()
	lambda.StartWithOptions(f, lambda.WithEnableSIGTERM(func() {
		f.log.Info("SIGTERM: the sandbox is shutting down", "function", o.Function())
	}))
}

// Function is the Lambda handler of one operation (it implements aws-lambda-go's
// lambda.Handler). Its set-up runs until it succeeds once.
type Function struct {
	op  op.Operation
	log *slog.Logger

	mu    sync.Mutex
	ready *trigger.Handler
}

// New returns the handler of o, logging to log. Its set-up runs on the first Invoke.
func New(o op.Operation, log *slog.Logger) *Function {
	return &Function{op: o, log: log}
}

// Invoke implements lambda.Handler.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f.handler(ctx).Invoke(ctx, payload)
}

// handler returns the trigger handler, setting it up if that has not succeeded yet, or one
// that answers the set-up's failure.
func (f *Function) handler(ctx context.Context) *trigger.Handler {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ready != nil {
		return f.ready
	}
	h, err := f.setup(ctx)
	if err != nil {
		e := op.AsError(err)
		f.log.ErrorContext(ctx, "set-up failed: answering every request with its failure until it succeeds", "function", f.op.Function(),
			"provider", f.op.Provider(), "errorKind", string(e.Kind), "retryable", e.Retryable, "error", e.Message)
		return trigger.New(trigger.Unconfigured(f.op, err), trigger.Options{Logger: f.log})
	}
	f.ready = h
	return h
}

// setup applies the secrets first (they may hold LBFN_WEBHOOK_SECRET), then reads the
// trigger settings and the SQS client: the failure queue, and the visibility changes that
// bring a queued creation still in progress back when its provider says to look again.
func (f *Function) setup(ctx context.Context) (*trigger.Handler, error) {
	if err := secrets.Apply(ctx); err != nil {
		return nil, err
	}
	opts, err := trigger.LoadOptions()
	if err != nil {
		return nil, err
	}
	sqs, q, err := sqsapi.FromEnv()
	if err != nil {
		return nil, err
	}
	if q != nil {
		opts.FailureQueue = q
	}
	if sqs != nil {
		opts.Visibility = sqs
	}
	opts.Logger = f.log
	return trigger.New(f.op, opts), nil
}
