package op

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/lbfn/lbfn/shared/egress"
	"github.com/lbfn/lbfn/shared/validate"
)

// An Operation is one provider "create" call: how to read and check its request, and how to
// send it. Triggers hand raw requests to Run, which drives the operation.
type Operation interface {
	// Function is the function's name, such as "huawei-create-pool".
	Function() string
	// Provider is "jdcloud", "huaweicloud" or "ctyun".
	Provider() string
	// Decode reads one request strictly and checks every documented rule, without touching
	// the network, in time linear in len(raw). Its error is an *Error of kind validation
	// listing every violation (up to validate.MaxViolations, then how many more), or, when ctx
	// ends first, of kind timeout.
	Decode(ctx context.Context, raw []byte) (Request, error)
	// Execute sends a request Decode returned. A successful Execute fills the provider's part
	// of the Result (Status, which defaults to StatusCreated, ID, RequestID, Attempts,
	// Response and, for StatusInProgress, ClientToken, RetryAfterSeconds and Request); Run
	// fills the rest.
	Execute(ctx context.Context, req Request, call Call) (Result, error)
	// RequestType is the struct type Decode fills, for tools that build or describe requests
	// from their fields (chatops reads the field types and JSON names from it).
	RequestType() reflect.Type
}

// A Request is a decoded, valid request. Every request type embeds Common.
type Request interface {
	common() *Common
}

// Common holds the fields any request may carry beside the provider's own. They live at the
// top level only and are never sent to the provider.
type Common struct {
	// IdempotencyKey names "this one creation"; see Run for its default.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// DryRun validates and answers without calling the provider.
	DryRun bool `json:"dryRun,omitempty"`
	// ReplyTo is where to post the result when done (set by chatops).
	ReplyTo string `json:"replyTo,omitempty"`
}

func (c *Common) common() *Common { return c }

// CommonOf returns the common fields of a request.
func CommonOf(r Request) Common { return *r.common() }

// Meta is what a trigger knows of an event beyond the request itself.
type Meta struct {
	// Trigger names the event source for logs: "sqs", "http", "sns", "eventbridge", "direct", "pubsub".
	Trigger string
	// MessageID is the event's own id: SQS messageId, SNS MessageId, EventBridge id, Pub/Sub
	// message id or chat message id.
	MessageID string
	// IdempotencyHeader is the HTTP Idempotency-Key header.
	IdempotencyHeader string
	// Delivery is how many times the event source has delivered this event, this time
	// included (SQS's ApproximateReceiveCount); 0 when the source does not say. Past the first,
	// an earlier delivery, perhaps in another process, may have sent the creation and lost
	// its answer.
	Delivery int
}

// Call is what Execute receives beside the request.
type Call struct {
	// IdempotencyKey is the resolved key: never empty.
	IdempotencyKey string
	// Repeat says this creation may have been sent before, so a provider call without an
	// idempotency token looks for the resource before creating it. It is true only when the
	// event source says this is not its first delivery (Meta.Delivery above 1), so the common
	// path costs nothing extra and a caller's distinct creations stay distinct. A source that
	// does not count deliveries (an HTTP client's retry, a Step Functions retry) is not
	// looked up first: the idempotency store is what keeps those single.
	Repeat bool
}

// Run decodes, validates and executes one raw request, and never panics on bad input. It
// remembers nothing between calls; Runner.Run with a Store does. It is for callers that only
// answer: the request's Route is dropped (Runner.Run returns it).
func Run(ctx context.Context, o Operation, raw []byte, meta Meta) *Result {
	res, _ := Runner{}.Run(ctx, o, raw, meta)
	return res
}

// Route is where a result goes beside the invocation's answer. It comes from this delivery's
// request and is never part of the result, so a stored result replayed to a later delivery
// goes where that delivery asks.
type Route struct {
	// ReplyTo is the request's replyTo: where to post the final result, "" for nowhere.
	ReplyTo string
}

// Runner runs operations. The zero value is ready to use.
type Runner struct {
	// Store, when set, makes a creation delivered again answer its first result instead of
	// creating twice (see Store).
	Store Store
	// Reserve is the time kept after the provider call, before the context's deadline, for
	// what must still happen then: recording the outcome in a Store that is not in memory,
	// posting the result to replyTo, and the caller's FollowUp. The call's context ends that
	// much earlier (at most half of the time left). Zero means DefaultReserve; negative, none.
	Reserve time.Duration
	// FollowUp says the caller still calls out after Run, within the same deadline (an SQS
	// visibility change, a report on a failure queue), so the call keeps Reserve free for it.
	FollowUp bool
	// Logger receives a warning when an outcome could not be recorded. Default slog.Default().
	Logger *slog.Logger
}

// DefaultReserve is the default of Runner.Reserve.
const DefaultReserve = time.Second

// DefaultMargin is the default of LBFN_DEADLINE_MARGIN: the time an invocation keeps free
// before its deadline to return its answer (see Invocation).
const DefaultMargin = 500 * time.Millisecond

// Invocation returns the context an invocation's work runs in: ctx, ending margin before its
// deadline (unchanged when it has none), so whatever the work does, the function still has
// the margin to return its answer and the platform to deliver it. Zero means DefaultMargin;
// negative, none.
//
// It is applied once, by the entry point that receives the invocation (package lambdafn on
// Lambda, trigger's HTTP handler, the Google Cloud entries): nothing below keeps a margin of
// its own, and every wait there (a retry's backoff, a CTyun poll, a store, a reply) simply
// ends with the context it is given.
func Invocation(ctx context.Context, margin time.Duration) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	margin = orDefault(margin, DefaultMargin)
	if !ok || margin == 0 {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

// afterCallTimeout bounds the store's completion or release when the context has no deadline
// (a local server without LBFN_REQUEST_TIMEOUT).
const afterCallTimeout = 10 * time.Second

func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

func (r Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// callContext is the context of the provider call: the caller's, ending Reserve before its
// deadline when something must still happen after the call.
func (r Runner) callContext(ctx context.Context, route Route) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	_, inMemory := r.Store.(*MemoryStore)
	after := r.Store != nil && !inMemory || route.ReplyTo != "" || r.FollowUp
	reserve := orDefault(r.Reserve, DefaultReserve)
	if !ok || !after || reserve == 0 {
		return ctx, func() {}
	}
	reserve = min(reserve, time.Until(deadline)/2)
	return context.WithDeadline(ctx, deadline.Add(-reserve))
}

// afterContext is the context of what follows the call (the store's completion or release):
// not cancelled with the call's context, which may be spent, nor with the caller's (a client
// gone away must not leave a claim held), but never past the caller's deadline, so a hanging
// store cannot make the answer late.
func (r Runner) afterContext(ctx context.Context) (context.Context, context.CancelFunc) {
	detached := context.WithoutCancel(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(detached, deadline)
	}
	return context.WithTimeout(detached, afterCallTimeout)
}

// Run decodes, validates and executes one raw request, and never panics on bad input. It
// returns the result and where the request asked it to be sent (empty when the request
// could not be read).
//
// The idempotency key is the request's idempotencyKey, else the trigger's message id, else
// the Idempotency-Key header, else a hash of the request itself (without the common fields),
// so that the same request re-sent is recognised as the same creation.
func (r Runner) Run(ctx context.Context, o Operation, raw []byte, meta Meta) (*Result, Route) {
	req, err := o.Decode(ctx, raw)
	if err != nil {
		return Failure(o.Function(), o.Provider(), err), Route{}
	}
	c := req.common()
	key := firstNonEmpty(c.IdempotencyKey, meta.MessageID, meta.IdempotencyHeader)
	hash := hashRequest(original(req, key))
	if key == "" {
		key = hash
	}
	route := Route{ReplyTo: c.ReplyTo}
	res := &Result{Function: o.Function(), Provider: o.Provider(), IdempotencyKey: key}
	if c.DryRun {
		res.OK, res.Status = true, StatusValidated
		return res, route
	}
	call := Call{IdempotencyKey: key, Repeat: meta.Delivery > 1}
	if r.Store != nil {
		return r.runOnce(ctx, o, req, call, route, res, hash), route
	}
	callCtx, cancel := r.callContext(ctx, route)
	defer cancel()
	r.execute(callCtx, o, req, call, res)
	return res, route
}

// runOnce executes under the store's claim on the key: a completed key replays its result,
// and only a creation that finished is remembered; anything else releases the key so the
// next delivery runs again (a CTyun creation in progress resumes with its clientToken).
func (r Runner) runOnce(ctx context.Context, o Operation, req Request, call Call, route Route, res *Result, hash string) *Result {
	storeKey := o.Function() + "#" + res.IdempotencyKey
	lease := time.Now().Add(15 * time.Minute)
	if d, ok := ctx.Deadline(); ok {
		lease = d
	}
	prev, err := r.Store.Claim(ctx, storeKey, hash, lease)
	if err != nil {
		res.Error = AsError(err)
		return res
	}
	if prev != nil {
		replay := *prev
		replay.IdempotencyKey = res.IdempotencyKey
		return &replay
	}
	callCtx, cancelCall := r.callContext(ctx, route)
	r.execute(callCtx, o, req, call, res)
	cancelCall()
	// The call's context may be spent; the store must still hear how it ended, within the
	// time reserved for it.
	done, cancel := r.afterContext(ctx)
	defer cancel()
	if res.OK && res.Status == StatusCreated {
		err := r.Store.Complete(done, storeKey, hash, res)
		if err == nil {
			return res
		}
		// The resource exists: the answer stays created. Only the memory of it is lost, so a
		// delivery of the same key would run again.
		r.logger().WarnContext(ctx, "created, but the idempotency record could not be stored: a delivery of the same key will run again",
			"function", res.Function, "idempotencyKey", res.IdempotencyKey, "id", res.ID, "error", AsError(err).Message)
	}
	if err := r.Store.Release(done, storeKey); err != nil {
		r.logger().WarnContext(ctx, "the idempotency key could not be released: it stays claimed until its lease ends",
			"function", res.Function, "idempotencyKey", res.IdempotencyKey, "error", AsError(err).Message)
	}
	return res
}

func (r Runner) execute(ctx context.Context, o Operation, req Request, call Call, res *Result) {
	out, err := o.Execute(ctx, req, call)
	if err != nil {
		res.Error = AsError(err)
		res.Attempts = res.Error.Attempts
		return
	}
	// The operation answers for the provider's part only; what Run knows stays Run's.
	out.OK, out.Function, out.Provider, out.IdempotencyKey, out.Error = true, res.Function, res.Provider, res.IdempotencyKey, nil
	if out.Status == "" {
		out.Status = StatusCreated
	}
	*res = out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// A Resumable request can tell what lbfn itself added to it to continue a creation: the
// request of an in_progress result carries CTyun's clientToken, derived from the idempotency
// key. Original returns the request as it first came, so that a resumed creation hashes (and
// so claims, completes and replays) as the one it continues, not as a different request.
type Resumable interface {
	Original(idempotencyKey string) Request
}

func original(req Request, key string) Request {
	if r, ok := req.(Resumable); ok {
		return r.Original(key)
	}
	return req
}

// hashRequest is the default idempotency key: a digest of the request without its common
// fields, so a dry run, a different replyTo or key order in the input do not change it.
func hashRequest(req Request) string {
	saved := *req.common()
	*req.common() = Common{}
	b, _ := json.Marshal(req)
	*req.common() = saved
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// Spec builds an Operation from typed parts: a request type R, a client type C, the rules and
// the call. Adding a create operation means writing one Spec.
type Spec[R any, C any] struct {
	FunctionName string
	ProviderName string
	// Client builds the provider client, from the environment in a function (the provider's
	// FromEnv). It runs once per process, on the first Execute; its error (an *Error of kind
	// config) is every call's answer after.
	Client func() (C, error)
	// Validate checks every documented rule of r (types and unknown fields are already
	// checked), recording each broken one into v with the field's JSON path.
	Validate func(r *R, v *validate.Report)
	// Send sends r with the client.
	Send func(ctx context.Context, c C, r *R, call Call) (Result, error)

	once    sync.Once
	client  C
	connErr error
}

// Function implements Operation.
func (s *Spec[R, C]) Function() string { return s.FunctionName }

// Provider implements Operation.
func (s *Spec[R, C]) Provider() string { return s.ProviderName }

// RequestType implements Operation.
func (s *Spec[R, C]) RequestType() reflect.Type { return reflect.TypeFor[R]() }

// Decode implements Operation.
func (s *Spec[R, C]) Decode(ctx context.Context, raw []byte) (Request, error) {
	r := new(R)
	req, ok := any(r).(Request)
	if !ok {
		panic("op: request type of " + s.FunctionName + " does not embed op.Common")
	}
	// Every broken rule is reported, unknown and mistyped members first, then the rules that
	// do not merely repeat them (a typo "protocl" also leaves "protocol" missing: both help).
	var v validate.Report
	if !v.Decode(ctx, raw, r) {
		if err := ctx.Err(); err != nil {
			return nil, Wrap(kindOfEnd(err), err, "the request was not read before the invocation ended: "+err.Error())
		}
		// Not a JSON object, or too broken for its rules to be worth checking.
		return nil, Invalid(v.Violations())
	}
	checkCommon(req.common(), &v)
	s.Validate(r, &v)
	if !v.OK() {
		return nil, Invalid(v.Violations())
	}
	return req, nil
}

// kindOfEnd classifies a context's end as AsError does: a deadline is a timeout, a
// cancellation (the caller went away) is unavailable.
func kindOfEnd(err error) Kind {
	if errors.Is(err, context.DeadlineExceeded) {
		return KindTimeout
	}
	return KindUnavailable
}

// Execute implements Operation.
func (s *Spec[R, C]) Execute(ctx context.Context, req Request, call Call) (Result, error) {
	s.once.Do(func() {
		s.client, s.connErr = s.Client()
		var e *Error
		if s.connErr != nil && !errors.As(s.connErr, &e) {
			// A plain error from Client is still a settings problem, not an outage: it must
			// not be retried as unavailable forever.
			s.connErr = Wrap(KindConfig, s.connErr, "")
		}
	})
	if s.connErr != nil {
		return Result{}, s.connErr
	}
	return s.Send(ctx, s.client, any(req).(*R), call) // Decode made it
}

// MaxIdempotencyKey is the most characters a request's idempotencyKey may have.
const MaxIdempotencyKey = 256

func checkCommon(c *Common, v *validate.Report) {
	v.Length("idempotencyKey", &c.IdempotencyKey, 0, MaxIdempotencyKey)
	if c.ReplyTo != "" {
		// The address actually dialled is checked again when the result is posted (package
		// reply), so a name that resolves to a refused address is refused too.
		if err := egress.CheckURL(c.ReplyTo); err != nil {
			v.Addf("replyTo", "%s", err.Error())
		}
	}
}

// IsLoopback reports whether host (without port) is a loopback name or address, the only
// hosts plain http:// is allowed for.
func IsLoopback(host string) bool { return egress.IsLoopbackHost(host) }
