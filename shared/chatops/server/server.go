// Package server is the chatops function: it receives a chat platform's webhook, verifies it
// (the platform packages), parses the command (shared/chatops/command), checks who may create
// what (shared/chatops/allow), validates the request with the create function's own rules, and
// enqueues it to that function with the job id as its idempotency key and a sealed replyTo
// that brings the function's final result back to /chatops/result/<token>, where it is posted
// into the conversation the command came from.
//
// Routes (one Server serves all of them, behind any front end: the Lambda HTTP trigger, the
// Google Cloud HTTP function, the dev server):
//
//	POST /chatops/slack, /chatops/feishu, /chatops/dingtalk   a platform's webhook
//	GET, POST /chatops/wecom                                   WeCom's URL check and callbacks
//	POST /chatops/result/<token>                               a create function's final result
//
// Every request is answered inside its platform's deadline (Slack, Feishu and DingTalk 3 s,
// WeCom 5 s): the enqueue gets a bounded budget and retries only inside it. Feishu and
// DingTalk show nothing of an HTTP answer, so their acknowledgement is posted before the empty
// 200 is returned, within the same deadline: a serverless instance may be frozen as soon as it
// has answered, so nothing is left to run after the answer.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/chatops"
	"github.com/lbfn/lbfn/shared/chatops/allow"
	"github.com/lbfn/lbfn/shared/chatops/command"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// A Queue hands a create request to its create function: SQS on AWS (queue.SQS), Pub/Sub on
// Google Cloud, the dev server's in-process queue under `make run`. It must give up when ctx
// is done; a duplicate delivery is harmless (the request's idempotencyKey is the job id).
type Queue interface {
	Enqueue(ctx context.Context, function string, request []byte, jobID string) error
}

// Deadlines are how long each platform waits for the HTTP answer. URL handshakes are allowed
// 1 s, and are answered without any call.
var Deadlines = map[string]time.Duration{
	"slack":    3 * time.Second,
	"feishu":   3 * time.Second,
	"dingtalk": 3 * time.Second,
	"wecom":    5 * time.Second,
}

// answerMargin is kept free before a webhook's deadline for the answer to travel back: the
// default of LBFN_DEADLINE_MARGIN, as for every invocation (op.Invocation).
const answerMargin = op.DefaultMargin

// Options configures a Server.
type Options struct {
	// Platforms are the chat platforms served, one route each (/chatops/<Name()>).
	Platforms []chatops.Platform
	// ReplyKeys holds each platform's secret that its reply tokens' key is derived from. A
	// platform without one cannot seal or open tokens (and is not configured anyway).
	ReplyKeys map[string]redact.Secret
	// Operations are the create operations a command may name.
	Operations []op.Operation
	// Allow says who may create what (LBFN_CHATOPS_ALLOW); the empty list allows nobody.
	Allow allow.List
	// AllowProblem, when set, says why LBFN_CHATOPS_ALLOW could not be read (naming the
	// variable): nobody may create, and help says so.
	AllowProblem string
	// Queue receives the requests.
	Queue Queue
	// BaseURL is where the create functions reach chatops (LBFN_CHATOPS_URL); empty means
	// each request's own Request.BaseURL.
	BaseURL string
	// EnqueueBudget bounds one enqueue, its retries included. Default 1.5 s.
	EnqueueBudget time.Duration
	// ReplyTTL is how long a reply token opens when the platform does not say when its
	// reply address expires. Default 24 h.
	ReplyTTL time.Duration
	// Logger receives one line per request. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock of verification and token expiry. Default time.Now.
	Now func() time.Time
}

// Server serves the chatops routes. It is safe for concurrent use.
type Server struct {
	opts      Options
	platforms map[string]chatops.Platform
	ops       map[string]op.Operation
	sealer    sealer
	log       *slog.Logger
	// jobs are the job ids queued recently: a delivery of the same message again is
	// acknowledged without queueing it twice.
	jobs *recent
	// posted are the job ids whose result was posted: a result arrives once per job.
	posted *recent
}

// New returns the server opts describe.
func New(opts Options) *Server {
	if opts.EnqueueBudget <= 0 {
		opts.EnqueueBudget = 1500 * time.Millisecond
	}
	if opts.ReplyTTL <= 0 {
		opts.ReplyTTL = 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		opts:      opts,
		platforms: map[string]chatops.Platform{},
		ops:       map[string]op.Operation{},
		sealer:    newSealer(opts.ReplyKeys),
		log:       log,
		jobs:      newRecent(10000, time.Hour),
		posted:    newRecent(10000, 48*time.Hour),
	}
	for _, p := range opts.Platforms {
		s.platforms[p.Name()] = p
	}
	for _, o := range opts.Operations {
		s.ops[o.Function()] = o
	}
	return s
}

// Platforms returns the platforms served, in the order given.
func (s *Server) Platforms() []chatops.Platform { return s.opts.Platforms }

// A Request is one HTTP request to chatops, from whichever front end received it.
type Request struct {
	// Path is the request's path from /chatops on ("/chatops/slack"); anything before
	// "/chatops/" (an API Gateway stage) is ignored.
	Path   string
	Method string
	Header http.Header
	Query  url.Values
	// Body is the raw body, base64-decoded by the front end when the event said so.
	Body []byte
	// BaseURL is where this request reached chatops ("https://" + domain [+ "/" + stage]),
	// the default of Options.BaseURL.
	BaseURL string
}

// Serve answers one request.
func (s *Server) Serve(ctx context.Context, r Request) chatops.Outbound {
	route, ok := route(r.Path)
	if !ok {
		return bare(http.StatusNotFound)
	}
	if token, isResult := strings.CutPrefix(route, "result/"); isResult {
		return s.serveResult(ctx, token, r)
	}
	p, ok := s.platforms[route]
	if !ok {
		return bare(http.StatusNotFound)
	}
	return s.serveChat(ctx, p, r)
}

// route returns what follows "/chatops/" in path.
func route(path string) (string, bool) {
	i := strings.Index(path, "/chatops/")
	if i < 0 {
		return "", false
	}
	return path[i+len("/chatops/"):], true
}

func bare(status int) chatops.Outbound { return chatops.Outbound{Status: status} }

// serveChat is one platform webhook: verify, then act on the command and answer it.
func (s *Server) serveChat(ctx context.Context, p chatops.Platform, r Request) chatops.Outbound {
	log := s.log.With("platform", p.Name())
	if missing := p.Missing(); missing != "" {
		log.WarnContext(ctx, "platform not configured: answering 401", "missing", missing)
		return bare(http.StatusUnauthorized)
	}
	deadline, ok := Deadlines[p.Name()]
	if !ok {
		deadline = 3 * time.Second
	}
	// The webhook's deadline is the platform's, or the invocation's when that comes first;
	// it runs on the real clock (Now, verification's clock, may be a test's).
	ctx, cancelPlatform := context.WithTimeout(ctx, deadline)
	defer cancelPlatform()
	ctx, cancel := op.Invocation(ctx, answerMargin)
	defer cancel()

	msg, answer, err := p.Receive(chatops.Inbound{Method: r.Method, Header: r.Header, Query: r.Query, Body: r.Body, Now: s.opts.Now()})
	switch {
	case errors.Is(err, chatops.ErrIgnored):
		log.InfoContext(ctx, "ignored", "reason", err.Error())
		return bare(http.StatusOK)
	case err != nil:
		// Anything but "ignored" fails closed: nothing is done for an unverified request.
		log.WarnContext(ctx, "request not verified: answering 401", "reason", err.Error())
		return bare(http.StatusUnauthorized)
	case answer != nil:
		log.InfoContext(ctx, "handshake answered")
		return *answer
	case msg == nil:
		return bare(http.StatusOK)
	}
	log = log.With("jobId", msg.JobID(), "user", msg.User)
	base := s.opts.BaseURL
	if base == "" {
		base = r.BaseURL
	}
	text, outcome := s.act(ctx, log, *msg, base)
	out, inBand := p.Answer(*msg, text)
	if !inBand {
		if err := p.Post(ctx, msg.Reply, text); err != nil {
			log.WarnContext(ctx, "could not post the answer into the chat", "outcome", outcome, "error", err.Error())
		}
	}
	log.InfoContext(ctx, "answered", "outcome", outcome, "inBand", inBand)
	return out
}

// act does what a command asks and returns the text to answer it with, and a one-word
// outcome for the log.
func (s *Server) act(ctx context.Context, log *slog.Logger, msg chatops.Message, base string) (text, outcome string) {
	cmd, err := command.Parse(msg.Text, s.opts.Operations)
	if err != nil {
		return op.AsError(err).Message, "usage"
	}
	switch cmd.Kind {
	case command.Help:
		text := command.Usage(s.opts.Operations)
		if why := s.CreateOff(); why != "" {
			text += "\n\n" + why
		}
		return text, "help"
	}
	o, ok := s.ops[cmd.Function]
	if !ok { // Parse knows the same operations; this only guards against a mismatch.
		return "unknown function " + cmd.Function + ": try help", "usage"
	}
	if cmd.Kind == command.HelpFunction {
		return command.Describe(o), "help"
	}
	job := msg.JobID()
	if why := s.CreateOff(); why != "" {
		return why + " Nothing was queued for job " + job + ".", "refused"
	}
	if !s.opts.Allow.Allows(msg.Platform, msg.User, o.Function()) {
		return fmt.Sprintf("%s may not create %s (LBFN_CHATOPS_ALLOW): nothing was queued for job %s.", msg.User, o.Function(), job), "refused"
	}

	replyTo, err := s.replyTo(msg, o.Function(), base)
	if err != nil {
		log.ErrorContext(ctx, "could not seal the reply address", "error", err.Error())
		return fmt.Sprintf("%s job %s: chatops is misconfigured (see its log); nothing was queued.", o.Function(), job), "config"
	}
	request, err := withCommon(cmd.Request, job, replyTo, cmd.DryRun)
	if err != nil {
		return fmt.Sprintf("%s job %s: %v", o.Function(), job, err), "usage"
	}
	req, err := o.Decode(ctx, request)
	if err != nil {
		return violations(o.Function(), job, op.AsError(err)), "invalid"
	}
	if op.CommonOf(req).DryRun {
		return fmt.Sprintf("%s job %s: validated (dry run); nothing was queued or created.", o.Function(), job), "validated"
	}

	if !s.jobs.claim(job, s.opts.Now()) {
		return fmt.Sprintf("%s job %s is already queued; nothing new was queued. Its result will follow here.", o.Function(), job), "duplicate"
	}
	if err := s.enqueue(ctx, o.Function(), request, job); err != nil {
		s.jobs.release(job)
		e := op.AsError(err)
		log.ErrorContext(ctx, "enqueue failed", "function", o.Function(), "errorKind", string(e.Kind), "error", e.Message)
		if e.Kind == op.KindTimeout {
			return fmt.Sprintf("%s job %s: the queue did not confirm in time. It may still run, and its result would follow here; sending the same command again creates a new job.", o.Function(), job), "enqueue_timeout"
		}
		return fmt.Sprintf("%s job %s: could not be queued (%s); nothing will be created. Try again.", o.Function(), job, e.Kind), "enqueue_failed"
	}
	return fmt.Sprintf("%s job %s queued. Its result will follow here.", o.Function(), job), "queued"
}

// createOff says why nobody may create, or "".
func (s *Server) CreateOff() string {
	if s.opts.AllowProblem != "" {
		return "Creating from chat is off: " + s.opts.AllowProblem + "."
	}
	if s.opts.Allow.Empty() {
		return "Creating from chat is off: set LBFN_CHATOPS_ALLOW to say who may create what (e.g. slack:U0123=*)."
	}
	return ""
}

// enqueue sends the request within the enqueue budget (and the platform's deadline), and
// returns when either is spent even if the queue does not: the answer never waits longer.
func (s *Server) enqueue(ctx context.Context, function string, request []byte, job string) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.EnqueueBudget)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.opts.Queue.Enqueue(ctx, function, request, job) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return op.Wrap(op.KindTimeout, ctx.Err(), "the queue did not answer within the enqueue budget")
	}
}

// replyTo returns the address of this job's result route: the base URL and a sealed token
// of the platform's reply address.
func (s *Server) replyTo(msg chatops.Message, function, base string) (string, error) {
	if base == "" {
		return "", errors.New("LBFN_CHATOPS_URL is not set and the request did not say where it arrived")
	}
	now := s.opts.Now()
	expires := now.Add(s.opts.ReplyTTL)
	t := ticket{Platform: msg.Platform, URL: msg.Reply.URL, MessageID: msg.Reply.MessageID,
		JobID: msg.JobID(), Function: function}
	if !msg.Reply.Expires.IsZero() {
		t.ReplyExpires = msg.Reply.Expires.Unix()
		if msg.Reply.Expires.Before(expires) {
			expires = msg.Reply.Expires
		}
	}
	t.Expires = expires.Unix()
	token, err := s.sealer.seal(t)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(base, "/") + "/chatops/result/" + token, nil
}

// withCommon adds the common fields chatops sets to the request object Parse built.
func withCommon(request json.RawMessage, job, replyTo string, dryRun bool) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(request, &fields); err != nil || fields == nil {
		return nil, errors.New("the request must be a JSON object")
	}
	set := func(name string, v any) {
		b, _ := json.Marshal(v)
		fields[name] = b
	}
	set("idempotencyKey", job)
	set("replyTo", replyTo)
	if dryRun {
		set("dryRun", true)
	}
	return json.Marshal(fields)
}

// violations is the answer to a request that breaks the function's rules: every broken rule
// with the JSON path of its field.
func violations(function, job string, e *op.Error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s job %s: not queued, the request breaks the function's rules:", function, job)
	if len(e.Violations) == 0 {
		fmt.Fprintf(&b, "\n• %s", e.Message)
	}
	for _, v := range e.Violations {
		field := v.Field
		if field == "" {
			field = "(the request)"
		}
		fmt.Fprintf(&b, "\n• %s: %s", field, v.Message)
	}
	fmt.Fprintf(&b, "\nSee: help %s", function)
	return b.String()
}
