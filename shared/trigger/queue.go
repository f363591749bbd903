package trigger

import (
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lbfn/lbfn/shared/op"
)

// BatchError is the error of an SQS batch in which every record failed: Lambda then returns
// the whole batch to the queue (the Powertools rule), which the partial answer would too.
type BatchError struct {
	Records int
}

func (e *BatchError) Error() string {
	return "every record of the batch failed (" + strconv.Itoa(e.Records) + "); see the log lines of each"
}

// handleSQS runs the records of a batch concurrently, up to SQSConcurrency at once, and
// answers which ones SQS must deliver again: retryable failures, in_progress results (the
// redelivered message resumes the same creation under the same idempotency key, and comes
// back after the result's retryAfterSeconds when Options.Visibility is set), and
// permanent failures that could not be put on the failure queue (the queue's redrive policy
// then moves them to its DLQ). Nothing is dropped. Only when every record really failed is
// the answer a *BatchError: a creation still in progress (here, or elsewhere under the same
// key) is listed so SQS delivers it again, but it is not a failure.
func (h *Handler) handleSQS(ctx context.Context, event []byte) (any, error) {
	var e events.SQSEvent
	if err := json.Unmarshal(event, &e); err != nil {
		return direct(h.eventFailure("sqs", err))
	}
	verdicts := make([]recordVerdict, len(e.Records))
	sem := make(chan struct{}, h.opts.SQSConcurrency)
	var wg sync.WaitGroup
	for i, rec := range e.Records {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			verdicts[i] = h.sqsRecord(ctx, rec)
		}()
	}
	wg.Wait()

	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	failed := 0
	for i, v := range verdicts {
		if v == recordDone {
			continue
		}
		if v == recordFailed {
			failed++
		}
		id := e.Records[i].MessageId
		if id == "" {
			// Lambda fails the whole batch on a malformed identifier: say so plainly.
			return nil, &BatchError{Records: len(e.Records)}
		}
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	if failed == len(e.Records) && failed > 0 {
		return nil, &BatchError{Records: len(e.Records)}
	}
	return resp, nil
}

// recordVerdict is what becomes of one SQS record.
type recordVerdict int

const (
	recordDone       recordVerdict = iota // finished with: deleted from the queue
	recordFailed                          // failed, to be delivered again (or moved to the DLQ)
	recordInProgress                      // not failed, but not done: delivered again to continue
)

// sqsRecord runs one record and says what becomes of it.
func (h *Handler) sqsRecord(ctx context.Context, rec events.SQSMessage) recordVerdict {
	meta := op.Meta{Trigger: "sqs", MessageID: rec.MessageId, Delivery: receiveCount(rec)}
	body := []byte(rec.Body)
	res := h.run(ctx, body, meta, h.opts.Visibility != nil || h.opts.FailureQueue != nil)
	switch {
	case res.OK && res.Status == op.StatusInProgress:
		h.redeliverAfter(ctx, rec, res)
		return recordInProgress
	case res.OK:
		return recordDone
	case res.Err().Kind == op.KindInProgress:
		return recordInProgress // the creation runs elsewhere; this delivery looks again later
	case res.Err().Retryable:
		return recordFailed
	}
	if h.keep(ctx, meta, body, res) != nil {
		return recordFailed
	}
	return recordDone
}

// receiveCount is how many times SQS has delivered rec, this time included: its
// ApproximateReceiveCount, which is the queue's, so it counts the deliveries to every process
// and instance. 0 (unknown) when missing or unreadable.
func receiveCount(rec events.SQSMessage) int {
	n, err := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// redeliverAfter asks SQS to deliver a record still in progress again when its result says to
// look again (retryAfterSeconds), rather than after the queue's visibility timeout, which
// must outlast a whole invocation and so is far longer than a creation needs between looks.
// A failure is logged and otherwise ignored: the record still comes back, only later.
func (h *Handler) redeliverAfter(ctx context.Context, rec events.SQSMessage, res *op.Result) {
	if h.opts.Visibility == nil || res.RetryAfterSeconds <= 0 {
		return
	}
	after := time.Duration(res.RetryAfterSeconds) * time.Second
	if err := h.opts.Visibility.ChangeVisibility(ctx, rec.EventSourceARN, rec.ReceiptHandle, after); err != nil {
		h.log.WarnContext(ctx, "could not bring the message back sooner: it returns after the queue's visibility timeout",
			"function", res.Function, "trigger", "sqs", "messageId", rec.MessageId, "error", err.Error())
	}
}

// A VisibilityChanger sets when SQS delivers a received message again: timeout from now (SQS
// ChangeMessageVisibility on the queue queueARN names). sqsapi.Client is the SQS one.
type VisibilityChanger interface {
	ChangeVisibility(ctx context.Context, queueARN, receiptHandle string, timeout time.Duration) error
}

// handleSNS runs each record (SNS sends one) and returns an error when one failed in a way
// worth retrying, or is still in progress, so Lambda's asynchronous retries run it again.
// A permanent failure goes to the failure queue; without one it is logged in full (request
// and result), and when sending it fails the error asks for a retry, so it ends in the
// function's own DLQ or on-failure destination rather than nowhere.
func (h *Handler) handleSNS(ctx context.Context, event []byte) (any, error) {
	var e events.SNSEvent
	if err := json.Unmarshal(event, &e); err != nil {
		return direct(h.eventFailure("sns", err))
	}
	results := make([]*op.Result, 0, len(e.Records))
	var retry error
	for _, rec := range e.Records {
		meta := op.Meta{Trigger: "sns", MessageID: rec.SNS.MessageID}
		body := []byte(rec.SNS.Message)
		res := h.run(ctx, body, meta, h.opts.FailureQueue != nil)
		results = append(results, res)
		switch {
		case res.OK && res.Status == op.StatusInProgress:
			if retry == nil {
				retry = inProgressError(res)
			}
		case res.OK:
		case res.Err().Retryable:
			if retry == nil {
				retry = invokeError(res)
			}
		default:
			if err := h.keep(ctx, meta, body, res); err != nil && h.opts.FailureQueue != nil && retry == nil {
				retry = invokeError(res)
			}
		}
	}
	if retry != nil {
		return nil, retry
	}
	return results, nil
}

// InProgressError is the error of an asynchronous event (SNS) whose creation is not done
// yet: returning it makes Lambda deliver the event again, which resumes the creation.
type InProgressError struct {
	Result *op.Result
}

func (e *InProgressError) Error() string { return string(marshal(e.Result)) }

func inProgressError(res *op.Result) error { return &InProgressError{Result: res} }

// FailureReport is the message a permanent failure leaves on the failure queue.
type FailureReport struct {
	Trigger   string `json:"trigger"`
	MessageID string `json:"messageId,omitempty"`
	// Request is the request as received: its JSON when it is JSON, else a string.
	Request json.RawMessage `json:"request"`
	Result  *op.Result      `json:"result"`
}

// NewFailureReport builds the report of a permanent failure of the request body, and the
// message attributes (function, provider, kind, trigger, messageId) that let a failure queue
// or topic be filtered without parsing the body.
func NewFailureReport(meta op.Meta, body []byte, res *op.Result) (FailureReport, map[string]string) {
	request := json.RawMessage(body)
	if !json.Valid(body) {
		request = marshal(string(body))
	}
	attrs := map[string]string{
		"function":  res.Function,
		"provider":  res.Provider,
		"kind":      string(res.Err().Kind),
		"trigger":   meta.Trigger,
		"messageId": meta.MessageID,
	}
	return FailureReport{Trigger: meta.Trigger, MessageID: meta.MessageID, Request: request, Result: res}, attrs
}

// maxLoggedRequest caps the request a logged report carries: one log line stays far below
// what a log service keeps of an entry (Cloud Logging: 256 KB; CloudWatch Logs: 256 KB per
// event), whatever size the message was.
const maxLoggedRequest = 8 << 10

// LogValue is how a report is logged: in full, but for the request's replyTo, which is
// replaced by "(redacted)" (a chat's response URL works as a bearer token, see package reply),
// and for a request longer than maxLoggedRequest, which is cut there into a string, with
// requestBytes giving its size. The report sent to a failure queue keeps the request whole,
// so a replay still answers the chat.
func (r FailureReport) LogValue() slog.Value {
	size := len(r.Request)
	r.Request = redactReplyTo(r.Request)
	if len(r.Request) <= maxLoggedRequest {
		return slog.AnyValue(jsonValue(marshal(r)))
	}
	cut := r.Request[:maxLoggedRequest]
	for i := 0; i < utf8.UTFMax && len(cut) > 0 && !utf8.RuneStart(r.Request[len(cut)]); i++ {
		cut = cut[:len(cut)-1] // never split a character
	}
	logged := struct {
		FailureReport
		RequestBytes     int  `json:"requestBytes"`
		RequestTruncated bool `json:"requestTruncated"`
	}{FailureReport: r, RequestBytes: size, RequestTruncated: true}
	logged.Request = marshal(string(cut) + "…")
	return slog.AnyValue(jsonValue(marshal(logged)))
}

// replyToMember finds a replyTo member and its string value in a body that is not valid JSON
// (so cannot be redacted member by member).
var replyToMember = regexp.MustCompile(`"replyTo"\s*:\s*"(?:[^"\\]|\\.)*"?`)

// redactReplyTo returns request with the value of its top-level replyTo member replaced (in
// a body that was not JSON, kept as a string, every replyTo member found in its text).
func redactReplyTo(request json.RawMessage) json.RawMessage {
	var members map[string]json.RawMessage
	if json.Unmarshal(request, &members) != nil {
		var text string
		if json.Unmarshal(request, &text) == nil && replyToMember.MatchString(text) {
			return marshal(replyToMember.ReplaceAllString(text, `"replyTo":"(redacted)"`))
		}
		return request
	}
	if _, ok := members["replyTo"]; !ok {
		return request
	}
	members["replyTo"] = json.RawMessage(`"(redacted)"`)
	return marshal(members)
}

// keep puts a permanent failure on the failure queue. Its error says the failure is not kept
// there (no queue, or the send failed), so the caller must have it delivered again.
func (h *Handler) keep(ctx context.Context, meta op.Meta, body []byte, res *op.Result) error {
	report, attrs := NewFailureReport(meta, body, res)
	if h.opts.FailureQueue == nil {
		h.log.ErrorContext(ctx, "permanent failure: no failure queue (LBFN_FAILURE_QUEUE_URL), left to the event source's redrive",
			"function", res.Function, "trigger", meta.Trigger, "messageId", meta.MessageID,
			"errorKind", string(res.Err().Kind), "failure", report)
		return errNoQueue
	}
	err := h.opts.FailureQueue.Send(ctx, string(marshal(report)), attrs)
	if err != nil {
		h.log.ErrorContext(ctx, "permanent failure: sending it to the failure queue failed, left to the event source's redrive",
			"function", res.Function, "trigger", meta.Trigger, "messageId", meta.MessageID, "error", err.Error())
		return err
	}
	h.log.InfoContext(ctx, "permanent failure sent to the failure queue",
		"function", res.Function, "trigger", meta.Trigger, "messageId", meta.MessageID, "errorKind", string(res.Err().Kind))
	return nil
}

type noQueueError struct{}

func (noQueueError) Error() string { return "no failure queue configured" }

var errNoQueue error = noQueueError{}

// jsonValue logs as embedded JSON with slog's JSON handler and as its text with the text one.
type jsonValue []byte

func (v jsonValue) MarshalJSON() ([]byte, error) { return v, nil }
func (v jsonValue) MarshalText() ([]byte, error) { return v, nil }
