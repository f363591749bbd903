// Package gcp registers every create function with the Functions Framework for Go, for
// Google Cloud Functions (gen2) and local runs (cmd/main.go):
//
//   - the HTTP function <name>, answering as the Lambda HTTP trigger does (the same
//     code: trigger.NewHTTPHandler);
//   - the CloudEvent function <name>-pubsub, for a Pub/Sub trigger: message.data is the
//     request and the Pub/Sub message id its idempotency key. It returns an error, so that
//     Pub/Sub delivers the message again, only for a retryable failure or a creation still in
//     progress (the redelivery resumes it with the same CTyun clientToken); a permanent
//     failure is published to LBFN_FAILURE_TOPIC when set, and logged in full either way. A
//     final result is posted to the request's replyTo, as on Lambda.
//
// Credentials come from the environment (Secret Manager secrets mapped to README.md's
// variables by `gcloud functions deploy --set-secrets`; see deploy/gcp/deploy.sh).
package gcp

import (
	"log/slog"
	"net/http"
	"os"
	"sync"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/reply"
	"github.com/lbfn/lbfn/shared/trigger"
)

// Operations are the functions this package registers: every one in the catalog.
var Operations = catalog.Operations

// PubSubSuffix ends the name of each function's CloudEvent (Pub/Sub) entry.
const PubSubSuffix = "-pubsub"

func init() {
	log := newLogger()
	for _, o := range Operations {
		f := &Function{op: o, log: log}
		functions.HTTP(o.Function(), f.ServeHTTP)
		functions.CloudEvent(o.Function()+PubSubSuffix, f.HandlePubSub)
	}
}

// Function serves one operation on both entries. Its set-up (settings and failure topic)
// runs on first use and again after a failure, so a broken setting answers a config failure
// naming it instead of crashing the instance.
type Function struct {
	op  op.Operation
	log *slog.Logger

	mu    sync.Mutex
	ready *setup
}

type setup struct {
	http  http.Handler
	run   op.Operation         // op, or one that answers the set-up's config failure
	topic trigger.FailureQueue // nil: no failure topic
	// bounds are a Pub/Sub delivery's time: LBFN_REQUEST_TIMEOUT, so that a long CTyun
	// creation answers in_progress before the platform's own timeout ends the instance's
	// request, less LBFN_DEADLINE_MARGIN (trigger.Options.RequestContext).
	bounds trigger.Options
	// runner runs each Pub/Sub delivery with the store.
	runner op.Runner
	// replier posts final results to replyTo.
	replier reply.Poster
}

// NewFunction returns the entries of o, for tests and other registrations.
func NewFunction(o op.Operation, log *slog.Logger) *Function {
	return &Function{op: o, log: log}
}

func (f *Function) setup() *setup {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ready != nil {
		return f.ready
	}
	opts, err := trigger.LoadOptions()
	var topic *Topic
	if err == nil {
		topic, err = LoadTopic()
	}
	if err != nil {
		f.log.Error("configuration failed: answering it as a config failure", "function", f.op.Function(),
			"provider", f.op.Provider(), "errorKind", string(op.KindConfig), "error", err.Error())
		broken := trigger.Unconfigured(f.op, err)
		return &setup{http: trigger.NewHTTPHandler(broken, trigger.Options{Logger: f.log}), run: broken, runner: op.Runner{Logger: f.log}}
	}
	opts.Logger = f.log
	s := &setup{http: trigger.NewHTTPHandler(f.op, opts), run: f.op,
		bounds: trigger.Options{RequestTimeout: opts.RequestTimeout, DeadlineMargin: opts.DeadlineMargin},
		runner: op.Runner{Store: opts.Store, Logger: f.log}, replier: opts.Replier}
	if topic != nil { // a nil *Topic in the interface would not compare equal to nil
		s.topic = topic
		s.runner.FollowUp = true // a permanent failure is published after the call
	}
	f.ready = s
	return s
}

// ServeHTTP is the HTTP function <name>.
func (f *Function) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.setup().http.ServeHTTP(w, r)
}

// newLogger logs JSON lines that Cloud Logging reads as structured entries: "severity" and
// "message" are its field names.
func newLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.LevelKey:
				a.Key = "severity"
			case slog.MessageKey:
				a.Key = "message"
			}
			return a
		},
	}))
}
