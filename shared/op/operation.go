package op

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

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
	// Execute sends a request Decode returned.
	Execute(ctx context.Context, req Request, call Call) (Outcome, error)
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
}

// Call is what Execute receives beside the request.
type Call struct {
	// IdempotencyKey is the resolved key: never empty.
	IdempotencyKey string
}

// Outcome is what a successful Execute reports.
type Outcome struct {
	Status    Status // StatusCreated or StatusInProgress
	ID        string
	RequestID string
	Attempts  int
	Response  json.RawMessage
	// For StatusInProgress.
	ClientToken string
	RetryAfter  time.Duration
	Request     json.RawMessage
}

// Run decodes, validates and executes one raw request, and never panics on bad input. It
// remembers nothing between calls; Runner.Run with a Store does.
func Run(ctx context.Context, o Operation, raw []byte, meta Meta) *Result {
	return Runner{}.Run(ctx, o, raw, meta)
}

// Runner runs operations. The zero value is ready to use.
type Runner struct {
	// Store, when set, makes a creation delivered again answer its first result instead of
	// creating twice (see Store).
	Store Store
}

// Run decodes, validates and executes one raw request, and never panics on bad input.
//
// The idempotency key is the request's idempotencyKey, else the trigger's message id, else
// the Idempotency-Key header, else a hash of the request itself (without the common fields),
// so that the same request re-sent is recognised as the same creation.
func (r Runner) Run(ctx context.Context, o Operation, raw []byte, meta Meta) *Result {
	req, err := o.Decode(ctx, raw)
	if err != nil {
		return Failure(o.Function(), o.Provider(), err)
	}
	c := req.common()
	hash := hashRequest(req)
	key := firstNonEmpty(c.IdempotencyKey, meta.MessageID, meta.IdempotencyHeader, hash)
	res := &Result{Function: o.Function(), Provider: o.Provider(), IdempotencyKey: key, ReplyTo: c.ReplyTo}
	if c.DryRun {
		res.OK, res.Status = true, StatusValidated
		return res
	}
	if r.Store != nil {
		return r.runOnce(ctx, o, req, res, hash)
	}
	r.execute(ctx, o, req, res)
	return res
}

// runOnce executes under the store's claim on the key: a completed key replays its result,
// and only a creation that finished is remembered; anything else releases the key so the
// next delivery runs again (a CTyun creation in progress resumes with its clientToken).
func (r Runner) runOnce(ctx context.Context, o Operation, req Request, res *Result, hash string) *Result {
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
		replay.IdempotencyKey, replay.ReplyTo = res.IdempotencyKey, res.ReplyTo
		return &replay
	}
	r.execute(ctx, o, req, res)
	// The call's context may be spent; the store must still hear how it ended.
	done := context.WithoutCancel(ctx)
	if res.OK && res.Status == StatusCreated {
		if r.Store.Complete(done, storeKey, hash, res) == nil {
			return res
		}
	}
	_ = r.Store.Release(done, storeKey)
	return res
}

func (r Runner) execute(ctx context.Context, o Operation, req Request, res *Result) {
	out, err := o.Execute(ctx, req, Call{IdempotencyKey: res.IdempotencyKey})
	if err != nil {
		res.Error = AsError(err)
		res.Attempts = res.Error.Attempts
		return
	}
	res.OK = true
	res.Status = out.Status
	if res.Status == "" {
		res.Status = StatusCreated
	}
	res.ID = out.ID
	res.RequestID = out.RequestID
	res.Attempts = out.Attempts
	res.Response = out.Response
	res.ClientToken = out.ClientToken
	res.Request = out.Request
	if out.RetryAfter > 0 {
		res.RetryAfterSeconds = int((out.RetryAfter + time.Second - 1) / time.Second)
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
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
	// Connect builds the provider client from the environment. It runs once per process, on
	// the first Execute; its error (an *Error of kind config) is every call's answer after.
	Connect func() (C, error)
	// Validate checks every documented rule of r (types and unknown fields are already
	// checked), recording each broken one into v with the field's JSON path.
	Validate func(r *R, v *validate.Report)
	// Call sends r with the client.
	Call func(ctx context.Context, c C, r *R, call Call) (Outcome, error)

	once    sync.Once
	client  C
	connErr error
}

// Function implements Operation.
func (s *Spec[R, C]) Function() string { return s.FunctionName }

// Provider implements Operation.
func (s *Spec[R, C]) Provider() string { return s.ProviderName }

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
func (s *Spec[R, C]) Execute(ctx context.Context, req Request, call Call) (Outcome, error) {
	s.once.Do(func() {
		s.client, s.connErr = s.Connect()
		var e *Error
		if s.connErr != nil && !errors.As(s.connErr, &e) {
			// A plain error from Connect is still a settings problem, not an outage: it must
			// not be retried as unavailable forever.
			s.connErr = Wrap(KindConfig, s.connErr, "")
		}
	})
	if s.connErr != nil {
		return Outcome{}, s.connErr
	}
	return s.Call(ctx, s.client, any(req).(*R), call) // Decode made it
}

func checkCommon(c *Common, v *validate.Report) {
	v.Length("idempotencyKey", &c.IdempotencyKey, 0, 256)
	if c.ReplyTo != "" {
		u, err := url.Parse(c.ReplyTo)
		switch {
		case err != nil || u.Host == "":
			v.Addf("replyTo", "must be an absolute https URL")
		case u.Scheme == "https":
		case u.Scheme == "http" && IsLoopback(u.Hostname()):
		default:
			v.Addf("replyTo", "must be an https URL (plain http only for loopback hosts)")
		}
	}
}

// IsLoopback reports whether host (without port) is a loopback name or address, the only
// hosts plain http:// is allowed for.
func IsLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
