package trigger

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/lbfn/lbfn/shared/validate"
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
// event; anything unrecognised is a direct request, which Decode then judges. It reads the
// event once without building anything (of a repeated member, the last counts), so a direct
// request costs one strict parse, in Decode.
func Detect(event []byte) Shape {
	shape, _ := detect(event)
	return shape
}

// detect is Detect, and for ShapeUnsupported the name of the event source it looks like.
func detect(event []byte) (Shape, string) {
	var records, requestContext, httpMethod, awslogs, eventSource []byte
	var hasType, hasDetail bool
	if !validate.Members(event, func(name, value []byte) {
		switch string(name) {
		case "Records":
			records = value
		case "requestContext":
			requestContext = value
		case "httpMethod":
			httpMethod = value
		case "awslogs":
			awslogs = value
		case "eventSource":
			eventSource = value
		case "detail-type":
			hasType = true
		case "detail":
			hasDetail = true
		}
	}) {
		return ShapeDirect, ""
	}
	switch {
	case records != nil:
		return detectRecords(records)
	case requestContext != nil:
		var http, elb bool
		var domain []byte
		if !validate.Members(requestContext, func(name, value []byte) {
			switch string(name) {
			case "http":
				http = value[0] == '{'
			case "elb":
				elb = value[0] == '{'
			case "domainName":
				domain = value
			}
		}) {
			return ShapeDirect, ""
		}
		switch {
		case http:
			if domain != nil && domain[0] == '"' && bytes.Contains(unquote(domain), []byte(".lambda-url.")) {
				return ShapeFunctionURL, ""
			}
			return ShapeHTTP, ""
		case elb:
			return ShapeUnsupported, "an Application Load Balancer request"
		case httpMethod != nil && httpMethod[0] == '"':
			return ShapeUnsupported, "an API Gateway REST API request (payload format 1.0)"
		}
		return ShapeDirect, ""
	case hasType && hasDetail:
		return ShapeEventBridge, ""
	case awslogs != nil && awslogs[0] == '{':
		return ShapeUnsupported, "a CloudWatch Logs subscription event"
	}
	// Amazon MSK, self-managed Kafka and Amazon MQ put eventSource at the top, beside
	// "records" (or "messages").
	if source := stringValue(eventSource); source != "" {
		return ShapeUnsupported, sourceName(source)
	}
	return ShapeDirect, ""
}

// detectRecords recognises a Records array: SQS and SNS, else the event source every record
// shares (an unsupported trigger), else a direct request.
func detectRecords(records []byte) (Shape, string) {
	n, sqs, sns := 0, true, true
	common, shared := "", true
	if !validate.Items(records, func(rec []byte) {
		n++
		var lower, upper []byte
		validate.Members(rec, func(name, value []byte) {
			switch string(name) {
			case "eventSource":
				lower = value
			case "EventSource":
				upper = value
			}
		})
		sqs = sqs && stringIs(lower, "aws:sqs")
		sns = sns && stringIs(upper, "aws:sns")
		source := stringValue(lower)
		if source == "" {
			source = stringValue(upper)
		}
		if source == "" || (n > 1 && source != common) {
			shared = false
		}
		common = source
	}) || n == 0 {
		return ShapeDirect, ""
	}
	switch {
	case sqs:
		return ShapeSQS, ""
	case sns:
		return ShapeSNS, ""
	case shared:
		return ShapeUnsupported, sourceName(common)
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

// stringIs reports whether value is a JSON string token equal to want.
func stringIs(value []byte, want string) bool {
	if len(value) == len(want)+2 && value[0] == '"' && string(value[1:len(value)-1]) == want {
		return true
	}
	return len(value) > 0 && value[0] == '"' && string(unquote(value)) == want
}

// stringValue is the text of the JSON string token value, "" for anything else.
func stringValue(value []byte) string {
	if len(value) == 0 || value[0] != '"' {
		return ""
	}
	return string(unquote(value))
}

// unquote returns the text of the JSON string token value, decoding it only when it has
// escapes or invalid UTF-8 (event sources write neither in these members), which encoding/json
// would replace.
func unquote(value []byte) []byte {
	if bytes.IndexByte(value, '\\') < 0 && utf8.Valid(value) {
		return value[1 : len(value)-1]
	}
	var s string
	if json.Unmarshal(value, &s) != nil {
		return nil
	}
	return []byte(s)
}
