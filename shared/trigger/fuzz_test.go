package trigger_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/trigger"
)

// FuzzHandle feeds arbitrary events to every trigger: no panic, and every answer is either
// JSON or a function error Lambda can report.
func FuzzHandle(f *testing.F) {
	f.Add(sqsEvent(f, record{"m1", `{"name":"a"}`}, record{"m2", `x`}))
	f.Add(snsEvent(f, "s1", `{"name":"a","outcome":"conflict"}`))
	f.Add(eventBridgeEvent(f, "e1", `{"name":"a"}`))
	f.Add(apiGatewayEvent(f, `{"name":"a"}`, map[string]string{"Idempotency-Key": "k"}, true))
	f.Add(functionURLEvent(f, `{"name":"a","dryRun":true}`, nil, false))
	f.Add([]byte(`{"name":"a","outcome":"in_progress"}`))
	f.Add([]byte(`{"Records":[{"eventSource":"aws:sqs","messageId":7}]}`))
	f.Add([]byte(`{"requestContext":{"http":{}},"body":"@@","isBase64Encoded":true}`))
	f.Add([]byte(`{"detail-type":1,"detail":[]}`))
	f.Add([]byte(`{"Records":[{"eventSource":"aws:s3"},{"EventSource":"aws:s3"}]}`))
	f.Add([]byte(`{"requestContext":{"elb":{}},"httpMethod":"GET"}`))
	f.Add([]byte(`{"eventSource":"aws:kafka","records":{}}`))
	o, _ := newFakeOp()
	q := &fakeQueue{}
	h := trigger.New(o, trigger.Options{Logger: quietLogger(), FailureQueue: q, WebhookSecret: redact.NewSecret("")})
	f.Fuzz(func(t *testing.T, event []byte) {
		b, err := h.Invoke(context.Background(), event)
		if err != nil {
			var ie messages.InvokeResponse_Error
			var be *trigger.BatchError
			var ip *trigger.InProgressError
			if !errors.As(err, &ie) && !errors.As(err, &be) && !errors.As(err, &ip) {
				t.Fatalf("error %T: %v", err, err)
			}
			return
		}
		if !json.Valid(b) {
			t.Fatalf("answer is not JSON: %q", b)
		}
	})
}
