package trigger

import (
	"bytes"
	"encoding/json"

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
	ShapeDirect      Shape = "direct"       // anything else: the request itself
)

// Detect recognises an event by its shape. Member names are matched exactly, as the event
// sources write them (encoding/json alone would match "records" to "Records"). None of the
// functions' requests has a member of these names, so a request is never mistaken for an
// event; anything unrecognised is a direct request, which Decode then judges. It reads the
// event once without building anything (of a repeated member, the last counts), so a direct
// request costs one strict parse, in Decode.
func Detect(event []byte) Shape {
	var records, requestContext []byte
	var hasType, hasDetail bool
	if !validate.Members(event, func(name, value []byte) {
		switch string(name) {
		case "Records":
			records = value
		case "requestContext":
			requestContext = value
		case "detail-type":
			hasType = true
		case "detail":
			hasDetail = true
		}
	}) {
		return ShapeDirect
	}
	switch {
	case records != nil:
		n, sqs, sns := 0, true, true
		if !validate.Items(records, func(rec []byte) {
			n++
			sqs = sqs && memberIs(rec, "eventSource", "aws:sqs")
			sns = sns && memberIs(rec, "EventSource", "aws:sns")
		}) || n == 0 {
			return ShapeDirect
		}
		switch {
		case sqs:
			return ShapeSQS
		case sns:
			return ShapeSNS
		}
	case requestContext != nil:
		var http bool
		var domain []byte
		validate.Members(requestContext, func(name, value []byte) {
			switch string(name) {
			case "http":
				http = value[0] == '{'
			case "domainName":
				domain = value
			}
		})
		if !http {
			return ShapeDirect
		}
		if domain != nil && domain[0] == '"' && bytes.Contains(unquote(domain), []byte(".lambda-url.")) {
			return ShapeFunctionURL
		}
		return ShapeHTTP
	case hasType && hasDetail:
		return ShapeEventBridge
	}
	return ShapeDirect
}

// memberIs reports whether the JSON object rec has member name, a string equal to want.
func memberIs(rec []byte, name, want string) bool {
	var value []byte
	if !validate.Members(rec, func(n, v []byte) {
		if string(n) == name {
			value = v
		}
	}) || value == nil {
		return false
	}
	if len(value) == len(want)+2 && value[0] == '"' && string(value[1:len(value)-1]) == want {
		return true
	}
	return value[0] == '"' && string(unquote(value)) == want
}

// unquote returns the text of the JSON string token value, decoding it only when it has
// escapes (event sources write none in these members).
func unquote(value []byte) []byte {
	if bytes.IndexByte(value, '\\') < 0 {
		return value[1 : len(value)-1]
	}
	var s string
	if json.Unmarshal(value, &s) != nil {
		return nil
	}
	return []byte(s)
}
