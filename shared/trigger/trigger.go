// Package trigger turns the events that invoke a function into op.Run calls, and each result
// into the answer its event source expects: an SQS batch (partial batch failures), an API
// Gateway HTTP API v2 or Function URL request (an HTTP status), an SNS notification, an
// EventBridge event, or a direct invoke (Step Functions, `aws lambda invoke`). The event's
// shape says which one it is, so one binary serves every trigger.
//
// The same HTTP contract is also served as a net/http handler (NewHTTPHandler) for the local
// dev server and Google Cloud Functions.
package trigger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/idempotency"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/reply"
	"github.com/lbfn/lbfn/shared/validate"
)

// A FailureQueue keeps permanent failures (a request that will never succeed as written), so
// they are neither retried forever nor dropped. sqsapi.Queue is the SQS one.
type FailureQueue interface {
	Send(ctx context.Context, body string, attributes map[string]string) error
}

// Options configures a Handler. The zero value works: no webhook check, no failure queue,
// the default concurrency, slog.Default.
type Options struct {
	// WebhookSecret, when set, requires every HTTP request to carry a valid X-Lbfn-Signature.
	WebhookSecret redact.Secret
	// SQSConcurrency bounds how many records of one SQS batch run at once. Default 10, the
	// template's BatchSize: a full batch then takes about as long as one call.
	SQSConcurrency int
	// RequestTimeout bounds one request served by NewHTTPHandler, which has no invocation
	// deadline of its own (Lambda invocations use theirs). Zero means none.
	RequestTimeout time.Duration
	// FailureQueue receives permanent failures of SQS and SNS records; nil means there is
	// none, and such a record is left to the queue's redrive policy (SQS) or logged in full
	// (SNS).
	FailureQueue FailureQueue
	// Visibility, when set, makes an SQS record still in progress come back when its result
	// says to try again (retryAfterSeconds) rather than after the queue's visibility timeout;
	// nil leaves the queue's timeout.
	Visibility VisibilityChanger
	// Logger receives one line per outcome. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock of the webhook timestamp check. Default time.Now.
	Now func() time.Time
	// Replier posts final results to the replyTo URL a request names.
	Replier reply.Poster
	// Store remembers finished creations by idempotency key, so a delivery of the same
	// creation again answers the first result; nil remembers nothing.
	Store op.Store
	// DeadlineMargin is kept free before an invocation's deadline to answer in (see
	// op.Invocation): the HTTP handler applies it to each request; on Lambda the entry point
	// (package lambdafn) applies it before Handle. Zero means op.DefaultMargin; negative, none.
	DeadlineMargin time.Duration
}

// RequestContext returns the context of one request served where the platform gives no
// deadline, or one that may be later than wanted (the HTTP handler, the Pub/Sub entry, `make
// run`'s queue): ctx, ending RequestTimeout from now when that comes first (zero: no such
// bound), less DeadlineMargin to answer in (op.Invocation).
func (o Options) RequestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if o.RequestTimeout <= 0 {
		return op.Invocation(ctx, o.DeadlineMargin)
	}
	timed, cancelTimeout := context.WithTimeout(ctx, o.RequestTimeout)
	ctx, cancel := op.Invocation(timed, o.DeadlineMargin)
	return ctx, func() { cancel(); cancelTimeout() }
}

// settings are the Options read from the environment.
type settings struct {
	WebhookSecret  redact.Secret `envconfig:"LBFN_WEBHOOK_SECRET"`
	SQSConcurrency int           `envconfig:"LBFN_SQS_CONCURRENCY" default:"10"`
	RequestTimeout time.Duration `envconfig:"LBFN_REQUEST_TIMEOUT" default:"55s"`
	// IdempotencyTTL is read here too (idempotency.FromEnv uses it) to check it against the
	// webhook's replay window.
	IdempotencyTTL time.Duration `envconfig:"LBFN_IDEMPOTENCY_TTL" default:"1h"`
	// DeadlineMargin is the time every invocation keeps free to answer in.
	DeadlineMargin time.Duration `envconfig:"LBFN_DEADLINE_MARGIN" default:"500ms"`
}

// replayWindow is how long one signed request is accepted: its timestamp may be up to
// MaxSignatureAge ahead of the clock when it first arrives and up to MaxSignatureAge behind
// when it last does. A finished creation must be remembered at least that long, or a replay
// late in the window would create again.
const replayWindow = 2 * MaxSignatureAge

// maxSQSConcurrency caps LBFN_SQS_CONCURRENCY: a Lambda SQS batch holds at most 10,000
// records, but a cloud API is not helped by more than this many calls at once from one process.
const maxSQSConcurrency = 100

// LoadOptions reads LBFN_WEBHOOK_SECRET, LBFN_SQS_CONCURRENCY, LBFN_REQUEST_TIMEOUT,
// LBFN_DEADLINE_MARGIN and the
// idempotency store's settings (idempotency.FromEnv: the DynamoDB table LBFN_IDEMPOTENCY_TABLE,
// else the process's memory, for LBFN_IDEMPOTENCY_TTL). The
// failure queue, logger and clock are the caller's to add. Its error is an *op.Error of kind
// config naming the variable.
func LoadOptions() (Options, error) {
	var s settings
	if err := config.Load(&s); err != nil {
		return Options{}, err
	}
	if s.SQSConcurrency < 1 || s.SQSConcurrency > maxSQSConcurrency {
		return Options{}, op.Errorf(op.KindConfig, "LBFN_SQS_CONCURRENCY must be between 1 and %d, got %d", maxSQSConcurrency, s.SQSConcurrency)
	}
	if s.RequestTimeout < 0 {
		return Options{}, op.Errorf(op.KindConfig, "LBFN_REQUEST_TIMEOUT must not be negative, got %s", s.RequestTimeout)
	}
	if s.DeadlineMargin < 0 {
		return Options{}, op.Errorf(op.KindConfig, "LBFN_DEADLINE_MARGIN must not be negative, got %s", s.DeadlineMargin)
	}
	if s.WebhookSecret.IsSet() && s.IdempotencyTTL > 0 && s.IdempotencyTTL < replayWindow {
		return Options{}, op.Errorf(op.KindConfig, "LBFN_IDEMPOTENCY_TTL must be at least %s when LBFN_WEBHOOK_SECRET is set "+
			"(a signed request is accepted for that long), got %s", replayWindow, s.IdempotencyTTL)
	}
	store, err := idempotency.FromEnv()
	if err != nil {
		return Options{}, err
	}
	margin := s.DeadlineMargin
	if margin == 0 {
		margin = -1 // none: the zero value would mean the default
	}
	return Options{WebhookSecret: s.WebhookSecret, SQSConcurrency: s.SQSConcurrency, RequestTimeout: s.RequestTimeout,
		Store: store, DeadlineMargin: margin}, nil
}

// Handler runs one operation for every trigger. It is safe for concurrent use (Lambda's
// AWS_LAMBDA_MAX_CONCURRENCY may run several invocations in one process).
type Handler struct {
	op   op.Operation
	opts Options
	log  *slog.Logger
}

// New returns the handler of o.
func New(o op.Operation, opts Options) *Handler {
	if opts.SQSConcurrency <= 0 {
		opts.SQSConcurrency = 10
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Handler{op: o, opts: opts, log: log}
}

// Handle answers one Lambda event of any shape, by ctx's deadline: the caller has already kept
// the time it needs to return the answer (op.Invocation). The answer is what Lambda should return:
// events.SQSEventResponse, events.APIGatewayV2HTTPResponse, events.LambdaFunctionURLResponse,
// the *op.Result of a direct or EventBridge invoke, or the results of an SNS event. An error
// is a messages.InvokeResponse_Error whose Type is the failure's kind (ValidationError, ...)
// and whose Message is the failure result as JSON, or a *BatchError when every record of an
// SQS batch failed.
func (h *Handler) Handle(ctx context.Context, event []byte) (any, error) {
	shape, looksLike := detect(event)
	switch shape {
	case ShapeSQS:
		return h.handleSQS(ctx, event)
	case ShapeHTTP:
		return h.handleAPIGateway(ctx, event)
	case ShapeFunctionURL:
		return h.handleFunctionURL(ctx, event)
	case ShapeSNS:
		return h.handleSNS(ctx, event)
	case ShapeEventBridge:
		return h.handleEventBridge(ctx, event)
	case ShapeUnsupported:
		return direct(h.unsupported(looksLike))
	}
	return direct(h.run(ctx, event, op.Meta{Trigger: "direct"}, false))
}

// unsupported is the failure for an event of a source lbfn does not serve: it would
// otherwise be judged as a request, and fail on its first member as an unknown field.
func (h *Handler) unsupported(looksLike string) *op.Result {
	res := op.Failure(h.op.Function(), h.op.Provider(), op.Invalid([]validate.Violation{{Field: "",
		Message: "the event looks like " + looksLike + ", which is not a supported trigger; use " + supportedTriggers}}))
	h.logOutcome(context.Background(), op.Meta{Trigger: string(ShapeUnsupported)}, res, 0)
	return res
}

// Invoke implements aws-lambda-go's lambda.Handler: Handle, with the answer as JSON. Taking the
// payload as bytes (rather than a typed argument) means an event that is not JSON at all is
// answered as a validation failure, not a decoding error of the library.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	answer, err := h.Handle(ctx, payload)
	if err != nil {
		return nil, err
	}
	return marshal(answer), nil
}

func (h *Handler) handleEventBridge(ctx context.Context, event []byte) (any, error) {
	var e events.EventBridgeEvent
	if err := json.Unmarshal(event, &e); err != nil {
		return direct(h.eventFailure("eventbridge", err))
	}
	return direct(h.run(ctx, e.Detail, op.Meta{Trigger: "eventbridge", MessageID: e.ID}, false))
}

// direct is the answer of a direct invoke: the result on success (in_progress included: a
// Step Functions loop reads its status), else an error Step Functions can match by kind.
func direct(res *op.Result) (any, error) {
	if res.OK {
		return res, nil
	}
	return nil, invokeError(res)
}

// invokeError is the Lambda function error for a failed result. aws-lambda-go sends a
// messages.InvokeResponse_Error value as it is: errorType is the kind's type name, the one a
// Retry or Catch ErrorEquals matches, and errorMessage is the failure result JSON.
func invokeError(res *op.Result) error {
	return messages.InvokeResponse_Error{Type: res.Err().Kind.TypeName(), Message: string(marshal(res))}
}

// InvokeErrorResult returns the failure result an error of Handle carries, or nil when err is
// not one.
func InvokeErrorResult(err error) *op.Result {
	var ie messages.InvokeResponse_Error
	if !errors.As(err, &ie) {
		return nil
	}
	var res op.Result
	if json.Unmarshal([]byte(ie.Message), &res) != nil {
		return nil
	}
	return &res
}

// eventFailure is the result for an event whose shape was recognised but whose fields could
// not be read (a wrong JSON type where the event source's schema has another).
func (h *Handler) eventFailure(trigger string, err error) *op.Result {
	res := op.Failure(h.op.Function(), h.op.Provider(),
		op.Errorf(op.KindValidation, "a %s event that cannot be read: %v", trigger, err))
	h.logOutcome(context.Background(), op.Meta{Trigger: trigger}, res, 0)
	return res
}

// run runs one request and logs its outcome. A panic in an operation is a failure of kind
// provider (not retried: it would panic again), never a crashed batch. followUp says the
// caller still calls out after it (see op.Runner.FollowUp).
func (h *Handler) run(ctx context.Context, raw []byte, meta op.Meta, followUp bool) (res *op.Result) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			res = op.Failure(h.op.Function(), h.op.Provider(), op.Errorf(op.KindProvider, "internal error: %v", p))
		}
		h.logOutcome(ctx, meta, res, time.Since(start))
	}()
	res, route := op.Runner{Store: h.opts.Store, FollowUp: followUp, Logger: h.log}.Run(ctx, h.op, raw, meta)
	if route.ReplyTo != "" && reply.Final(res) {
		// The reply is a courtesy to whoever asked (a chat); the outcome stands whether or not
		// it arrives, so a failed post is logged, not retried by redelivery. It runs in the
		// time the Runner reserved after the call, and gives up at ctx's deadline.
		if err := h.opts.Replier.Post(ctx, route.ReplyTo, res); err != nil {
			h.log.WarnContext(ctx, "could not post the result to replyTo",
				"function", res.Function, "idempotencyKey", res.IdempotencyKey, "error", err.Error())
		}
	}
	return res
}

// logOutcome writes the one line of an outcome. It carries no request body, header or
// signature: only names, ids, counts and the error's kind and message.
func (h *Handler) logOutcome(ctx context.Context, meta op.Meta, res *op.Result, d time.Duration) {
	attrs := make([]slog.Attr, 0, 12) // room for every attribute below: no growing
	attrs = append(attrs,
		slog.String("function", res.Function),
		slog.String("provider", res.Provider),
		slog.String("trigger", meta.Trigger),
	)
	if meta.MessageID != "" {
		attrs = append(attrs, slog.String("messageId", meta.MessageID))
	}
	attrs = append(attrs,
		slog.String("idempotencyKey", res.IdempotencyKey),
		slog.Int("attempts", res.Attempts),
		slog.Float64("durationMs", float64(d.Microseconds())/1000),
	)
	level, msg := slog.LevelInfo, "done"
	if res.OK {
		attrs = append(attrs, slog.String("status", string(res.Status)))
		if res.ID != "" {
			attrs = append(attrs, slog.String("id", res.ID))
		}
	} else {
		e := res.Err()
		attrs = append(attrs, slog.String("status", "failed"), slog.String("errorKind", string(e.Kind)),
			slog.Bool("retryable", e.Retryable), slog.String("error", e.Message))
		level, msg = slog.LevelError, "failed"
		if e.Retryable {
			level = slog.LevelWarn
		}
	}
	h.log.LogAttrs(ctx, level, msg, attrs...)
}

// marshal encodes an answer as aws-lambda-go would: no HTML escaping, no trailing newline.
// Every answer type here encodes without error. A result, the answer of most invocations,
// encodes itself (op.Result.AppendJSON), the same bytes without checking the provider's
// answer in it a second time.
func marshal(v any) []byte {
	if res, ok := v.(*op.Result); ok {
		return res.AppendJSON(nil)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("trigger: encoding %T: %v", v, err))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// Unconfigured returns an operation with o's names that answers every request with err, a
// failure of the set-up: of kind config when the settings are broken (or err is not an
// *op.Error), or err's own kind, such as a retryable unavailable when Secrets Manager did not
// answer, so a queued request comes back rather than going to the failure queue. A function
// whose set-up failed keeps answering, and its queues keep their messages, instead of
// crashing at start.
func Unconfigured(o op.Operation, err error) op.Operation {
	var e *op.Error
	if !errors.As(err, &e) {
		e = op.Wrap(op.KindConfig, err, "")
	}
	return unconfigured{Operation: o, err: e}
}

type unconfigured struct {
	op.Operation
	err *op.Error
}

func (u unconfigured) Decode(context.Context, []byte) (op.Request, error) { return nil, u.err }
