package trigger_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/trigger"
)

// TestSampleEvents runs aws-lambda-go's own sample events (testdata/aws-lambda-go): the
// triggers lbfn serves are recognised, and every other event source's event answers a
// validation failure that names what it looks like and says it is not a supported trigger,
// rather than judging it as a request.
func TestSampleEvents(t *testing.T) {
	tests := []struct {
		file      string
		shape     trigger.Shape
		looksLike string // for ShapeUnsupported: a fragment of the failure's message
	}{
		{"sqs-event.json", trigger.ShapeSQS, ""},
		{"sns-event.json", trigger.ShapeSNS, ""},
		{"apigw-v2-request-no-authorizer.json", trigger.ShapeHTTP, ""},
		{"lambda-urls-request.json", trigger.ShapeFunctionURL, ""},
		{"s3-event.json", trigger.ShapeUnsupported, "an S3 event notification"},
		{"apigw-request.json", trigger.ShapeUnsupported, "an API Gateway REST API request (payload format 1.0)"},
		{"alb-lambda-target-request-headers-only.json", trigger.ShapeUnsupported, "an Application Load Balancer request"},
		{"kinesis-event.json", trigger.ShapeUnsupported, "a Kinesis Data Streams event"},
		{"dynamodb-event.json", trigger.ShapeUnsupported, "a DynamoDB Streams event"},
		{"kafka-event.json", trigger.ShapeUnsupported, "an Amazon MSK (Kafka) event"},
		{"cloudwatch-logs-event.json", trigger.ShapeUnsupported, "a CloudWatch Logs subscription event"},
		{"activemq-event.json", trigger.ShapeUnsupported, "an Amazon MQ (ActiveMQ) event"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			event, err := os.ReadFile(filepath.Join("testdata", "aws-lambda-go", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := trigger.Detect(event); got != tt.shape {
				t.Fatalf("Detect = %q, want %q", got, tt.shape)
			}
			if tt.shape != trigger.ShapeUnsupported {
				return
			}
			o, client := newFakeOp()
			h := trigger.New(o, trigger.Options{Logger: quietLogger()})
			_, err = h.Handle(context.Background(), event)
			ie, res := invokeErr(t, err)
			want := "the event looks like " + tt.looksLike + ", which is not a supported trigger"
			if ie.Type != "ValidationError" || res.Error.Retryable || !strings.HasPrefix(res.Error.Message, want) {
				t.Errorf("errorType %q, error %+v; want a ValidationError saying %q", ie.Type, res.Error, want)
			}
			if len(res.Error.Violations) != 1 || res.Error.Violations[0].Field != "" {
				t.Errorf("violations %+v, want one on the whole event", res.Error.Violations)
			}
			if n := client.calls.Load(); n != 0 {
				t.Errorf("%d calls for an unsupported event", n)
			}
		})
	}
}
