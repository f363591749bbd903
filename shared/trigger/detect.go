package trigger

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Shape is what kind of event invoked a function.
type Shape string

const (
	ShapeSQS         Shape = "sqs"          // Records[].eventSource == "aws:sqs"
	ShapeSNS         Shape = "sns"          // Records[].EventSource == "aws:sns"
	ShapeHTTP        Shape = "http"         // API Gateway HTTP API v2: requestContext.http
	ShapeFunctionURL Shape = "function_url" // the same, from a Lambda Function URL
	ShapeEventBridge Shape = "eventbridge"  // detail-type and detail
	ShapeUnsupported Shape = "unsupported"  // another event source's event (S3, Kinesis, ALB, ...)
	ShapeDirect      Shape = "direct"       // anything else: the request itself
)

// Detect recognises an event by its shape. Member names are matched exactly, as the event
// sources write them (encoding/json alone would match "records" to "Records"). None of the
// functions' requests has a member of these names, so a request is never mistaken for an
// event; anything unrecognised is a direct request, which Decode then judges.
func Detect(event []byte) Shape {
	shape, _ := detect(event)
	return shape
}

// detect is Detect, and for ShapeUnsupported the name of the event source it looks like.
func detect(event []byte) (Shape, string) {
	var top map[string]json.RawMessage
	if json.Unmarshal(event, &top) != nil {
		return ShapeDirect, ""
	}
	if raw, ok := top["Records"]; ok {
		var records []map[string]json.RawMessage
		if json.Unmarshal(raw, &records) != nil || len(records) == 0 {
			return ShapeDirect, ""
		}
		switch {
		case allFrom(records, "eventSource", "aws:sqs"):
			return ShapeSQS, ""
		case allFrom(records, "EventSource", "aws:sns"):
			return ShapeSNS, ""
		}
		if source := commonSource(records); source != "" {
			return ShapeUnsupported, sourceName(source)
		}
		return ShapeDirect, ""
	}
	if raw, ok := top["requestContext"]; ok {
		var rc map[string]json.RawMessage
		if json.Unmarshal(raw, &rc) != nil {
			return ShapeDirect, ""
		}
		switch {
		case isObject(rc["http"]):
			var domain string
			_ = json.Unmarshal(rc["domainName"], &domain)
			if strings.Contains(domain, ".lambda-url.") {
				return ShapeFunctionURL, ""
			}
			return ShapeHTTP, ""
		case isObject(rc["elb"]):
			return ShapeUnsupported, "an Application Load Balancer request"
		case isString(top["httpMethod"]):
			return ShapeUnsupported, "an API Gateway REST API request (payload format 1.0)"
		}
		return ShapeDirect, ""
	}
	_, hasType := top["detail-type"]
	_, hasDetail := top["detail"]
	if hasType && hasDetail {
		return ShapeEventBridge, ""
	}
	if isObject(top["awslogs"]) {
		return ShapeUnsupported, "a CloudWatch Logs subscription event"
	}
	// Amazon MSK, self-managed Kafka and Amazon MQ put eventSource at the top, beside
	// "records" (or "messages").
	var source string
	if json.Unmarshal(top["eventSource"], &source) == nil && source != "" {
		return ShapeUnsupported, sourceName(source)
	}
	return ShapeDirect, ""
}

// supportedTriggers is what an unsupported event's failure suggests instead.
const supportedTriggers = "SQS, SNS, EventBridge, an API Gateway HTTP API (payload format 2.0), a Lambda Function URL, " +
	"or the request itself (a direct invoke, Step Functions)"

// sourceNames names the event sources lbfn does not serve, by their eventSource.
var sourceNames = map[string]string{
	"aws:s3":           "an S3 event notification",
	"aws:kinesis":      "a Kinesis Data Streams event",
	"aws:dynamodb":     "a DynamoDB Streams event",
	"aws:kafka":        "an Amazon MSK (Kafka) event",
	"SelfManagedKafka": "a self-managed Apache Kafka event",
	"aws:mq":           "an Amazon MQ (ActiveMQ) event",
	"aws:rmq":          "an Amazon MQ (RabbitMQ) event",
	"aws:ses":          "an SES email receiving event",
	"aws:codecommit":   "a CodeCommit trigger event",
}

func sourceName(source string) string {
	if name, ok := sourceNames[source]; ok {
		return name
	}
	if len(source) > 64 {
		source = source[:64]
	}
	return "an event from " + strconv.Quote(source)
}

// commonSource returns the eventSource (or EventSource) every record shares, or "".
func commonSource(records []map[string]json.RawMessage) string {
	var common string
	for i, r := range records {
		var s string
		if json.Unmarshal(r["eventSource"], &s) != nil || s == "" {
			if json.Unmarshal(r["EventSource"], &s) != nil || s == "" {
				return ""
			}
		}
		if i > 0 && s != common {
			return ""
		}
		common = s
	}
	return common
}

func allFrom(records []map[string]json.RawMessage, member, source string) bool {
	for _, r := range records {
		var s string
		if json.Unmarshal(r[member], &s) != nil || s != source {
			return false
		}
	}
	return true
}

func isString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"'
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}
