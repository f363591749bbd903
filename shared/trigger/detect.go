package trigger

import (
	"bytes"
	"encoding/json"
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
	ShapeDirect      Shape = "direct"       // anything else: the request itself
)

// Detect recognises an event by its shape. Member names are matched exactly, as the event
// sources write them (encoding/json alone would match "records" to "Records"). None of the
// functions' requests has a member of these names, so a request is never mistaken for an
// event; anything unrecognised is a direct request, which Decode then judges.
func Detect(event []byte) Shape {
	var top map[string]json.RawMessage
	if json.Unmarshal(event, &top) != nil {
		return ShapeDirect
	}
	if raw, ok := top["Records"]; ok {
		var records []map[string]json.RawMessage
		if json.Unmarshal(raw, &records) != nil || len(records) == 0 {
			return ShapeDirect
		}
		switch {
		case allFrom(records, "eventSource", "aws:sqs"):
			return ShapeSQS
		case allFrom(records, "EventSource", "aws:sns"):
			return ShapeSNS
		}
		return ShapeDirect
	}
	if raw, ok := top["requestContext"]; ok {
		var rc map[string]json.RawMessage
		if json.Unmarshal(raw, &rc) == nil && isObject(rc["http"]) {
			var domain string
			_ = json.Unmarshal(rc["domainName"], &domain)
			if strings.Contains(domain, ".lambda-url.") {
				return ShapeFunctionURL
			}
			return ShapeHTTP
		}
		return ShapeDirect
	}
	_, hasType := top["detail-type"]
	_, hasDetail := top["detail"]
	if hasType && hasDetail {
		return ShapeEventBridge
	}
	return ShapeDirect
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

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}
