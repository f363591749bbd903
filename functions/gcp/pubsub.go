package gcp

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/reply"
	"github.com/lbfn/lbfn/shared/trigger"
	"github.com/lbfn/lbfn/shared/validate"
)

// pushMessage is the data of a Pub/Sub CloudEvent (google.cloud.pubsub.topic.v1.messagePublished).
type pushMessage struct {
	Message struct {
		Data        []byte            `json:"data"` // base64 in the JSON
		Attributes  map[string]string `json:"attributes"`
		MessageID   string            `json:"messageId"`
		MessageID2  string            `json:"message_id"` // the push format carries both spellings
		PublishTime string            `json:"publishTime"`
	} `json:"message"`
	Subscription string `json:"subscription"`
}

// RetryError is what the Pub/Sub entry returns to have a message delivered again: a
// retryable failure, a creation still in progress, or a permanent failure that could not be
// published to the failure topic. Result is the outcome, for callers; HandlePubSub logs its
// details itself.
type RetryError struct {
	Result *op.Result
	// Reason, when set, says why a result that is not retryable is delivered again.
	Reason string
}

// Error is one short line that holds nothing of the request (no replyTo) and no '%': the
// Functions Framework prints it as a format string (fmt.Fprintf(os.Stderr, err.Error())).
func (e *RetryError) Error() string {
	what := e.Reason
	switch {
	case what != "":
	case e.Result.OK:
		what = "still in progress"
	default:
		what = string(e.Result.Err().Kind) + " failure, retryable"
	}
	return strings.ReplaceAll(e.Result.Function+": "+what+"; Pub/Sub delivers the message again", "%", "")
}

// HandlePubSub is the CloudEvent function <name>-pubsub.
func (f *Function) HandlePubSub(ctx context.Context, e event.Event) error {
	s := f.setup()
	// LBFN_REQUEST_TIMEOUT bounds the delivery even under the platform's own deadline: the
	// earlier of the two applies, so a long CTyun creation answers in_progress before the
	// platform ends the request.
	ctx, cancel := s.bounds.RequestContext(ctx)
	defer cancel()
	var msg pushMessage
	if err := json.Unmarshal(e.Data(), &msg); err != nil || msg.Message.Data == nil {
		// Not a Pub/Sub message at all: it will never succeed, so it is kept, not retried.
		res := op.Failure(f.op.Function(), f.op.Provider(), op.Invalid([]validate.Violation{
			{Field: "", Message: "the CloudEvent's data is not a Pub/Sub message with message.data"}}))
		return f.keep(ctx, s, op.Meta{Trigger: "pubsub", MessageID: e.ID()}, e.Data(), res)
	}
	id := firstNonEmpty(msg.Message.MessageID, msg.Message.MessageID2, e.ID())
	meta := op.Meta{Trigger: "pubsub", MessageID: id}
	res, route := s.runner.Run(ctx, s.run, msg.Message.Data, meta)
	f.reply(ctx, s, res, route)
	switch {
	case res.OK && res.Status == op.StatusInProgress:
		f.log.InfoContext(ctx, "creation in progress: asking Pub/Sub to deliver the message again",
			"function", res.Function, "messageId", id, "clientToken", res.ClientToken, "retryAfterSeconds", res.RetryAfterSeconds)
		return &RetryError{Result: res}
	case res.OK:
		f.log.InfoContext(ctx, "done", "function", res.Function, "messageId", id, "status", string(res.Status), "id", res.ID)
		return nil
	case res.Err().Retryable:
		f.log.WarnContext(ctx, "retryable failure: asking Pub/Sub to deliver the message again",
			"function", res.Function, "messageId", id, "errorKind", string(res.Err().Kind), "error", res.Err().Message)
		return &RetryError{Result: res}
	default:
		return f.keep(ctx, s, meta, msg.Message.Data, res)
	}
}

// reply posts a final result (done, or failed for good) to the replyTo its request named, as
// the Lambda triggers do; nothing is posted while a redelivery will still run it. The reply is
// a courtesy to whoever asked: a failed post is logged, and the outcome stands.
func (f *Function) reply(ctx context.Context, s *setup, res *op.Result, route op.Route) {
	if route.ReplyTo == "" || !reply.Final(res) {
		return
	}
	if err := s.replier.Post(ctx, route.ReplyTo, res); err != nil {
		f.log.WarnContext(ctx, "could not post the result to replyTo",
			"function", res.Function, "idempotencyKey", res.IdempotencyKey, "error", err.Error())
	}
}

// keep records a permanent failure: published to the failure topic when there is one, and
// logged in full either way. It returns an error (a redelivery) only when the failure topic
// is configured but the publish failed, so the failure is never silently dropped.
func (f *Function) keep(ctx context.Context, s *setup, meta op.Meta, body []byte, res *op.Result) error {
	report, attrs := trigger.NewFailureReport(meta, body, res)
	b, _ := json.Marshal(report)
	if s.topic == nil {
		f.log.ErrorContext(ctx, "permanent failure (no LBFN_FAILURE_TOPIC): not retried",
			"function", res.Function, "messageId", meta.MessageID, "errorKind", string(res.Err().Kind), "failure", report)
		return nil
	}
	err := s.topic.Send(ctx, string(b), attrs)
	if err != nil {
		f.log.ErrorContext(ctx, "permanent failure: publishing it to the failure topic failed, asking for a redelivery",
			"function", res.Function, "messageId", meta.MessageID, "errorKind", string(res.Err().Kind), "error", err.Error())
		return &RetryError{Result: res, Reason: "permanent failure not published to the failure topic"}
	}
	f.log.ErrorContext(ctx, "permanent failure published to the failure topic: not retried",
		"function", res.Function, "messageId", meta.MessageID, "errorKind", string(res.Err().Kind))
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
