package trigger

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// detectByMaps is how Detect judged events before it read them without building anything:
// encoding/json into maps of raw members. Detect must agree with it on every input, shape and
// the name of an unsupported source alike.
func detectByMaps(event []byte) (Shape, string) {
	var top map[string]json.RawMessage
	if json.Unmarshal(event, &top) != nil {
		return ShapeDirect, ""
	}
	isObject := func(raw json.RawMessage) bool { return bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) }
	if raw, ok := top["Records"]; ok {
		var records []map[string]json.RawMessage
		if json.Unmarshal(raw, &records) != nil || len(records) == 0 {
			return ShapeDirect, ""
		}
		from := func(member, source string) bool {
			for _, r := range records {
				var s string
				if json.Unmarshal(r[member], &s) != nil || s != source {
					return false
				}
			}
			return true
		}
		switch {
		case from("eventSource", "aws:sqs"):
			return ShapeSQS, ""
		case from("EventSource", "aws:sns"):
			return ShapeSNS, ""
		}
		var common string
		for i, r := range records {
			var s string
			if json.Unmarshal(r["eventSource"], &s) != nil || s == "" {
				if json.Unmarshal(r["EventSource"], &s) != nil || s == "" {
					return ShapeDirect, ""
				}
			}
			if i > 0 && s != common {
				return ShapeDirect, ""
			}
			common = s
		}
		return ShapeUnsupported, sourceName(common)
	}
	if raw, ok := top["requestContext"]; ok {
		var rc map[string]json.RawMessage
		if json.Unmarshal(raw, &rc) != nil {
			return ShapeDirect, ""
		}
		var method string
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
		case json.Unmarshal(top["httpMethod"], &method) == nil && bytes.HasPrefix(bytes.TrimSpace(top["httpMethod"]), []byte(`"`)):
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
	var source string
	if json.Unmarshal(top["eventSource"], &source) == nil && source != "" {
		return ShapeUnsupported, sourceName(source)
	}
	return ShapeDirect, ""
}

func FuzzDetect(f *testing.F) {
	for _, s := range []string{
		`{"Records":[{"eventSource":"aws:sqs","body":"{}"}]}`, `{"Records":[{"EventSource":"aws:sns"},{"EventSource":"aws:sns"}]}`,
		`{"Records":[{"eventSource":"aws:sqs"},null]}`, `{"Records":[{"eventSource":"aws\u003asqs"}]}`, `{"Records":null}`,
		`{"requestContext":{"http":{"method":"POST"},"domainName":"x.lambda-url.eu-west-1.on.aws"}}`,
		`{"requestContext":{"http":{},"domainName":7}}`, `{"requestContext":[]}`, `{"requestContext":{"http":null}}`,
		`{"detail-type":"x","detail":{}}`, `{"detail":1,"detail-type":null,"Records":[]}`, `{"name":"a"}`, `[1]`, `{"a":1} x`,
		`{"Records":[{"eventSource":"aws:sqs"}],"Records":[]}`, `{"Records":[{"eventSource":"0"}]}`,
		`{"Records":[{"eventSource":"aws:s3"},{"EventSource":"aws:s3"}]}`, `{"requestContext":{"elb":{}}}`,
		`{"requestContext":{},"httpMethod":"GET"}`, `{"requestContext":1,"httpMethod":"GET"}`, `{"awslogs":{"data":""}}`,
		`{"eventSource":"aws:kafka","records":{}}`, `{"eventSource":""}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		got, gotName := detect(event)
		want, wantName := detectByMaps(event)
		if got != want || gotName != wantName {
			t.Fatalf("detect(%q) = %s %q, encoding/json maps say %s %q", event, got, gotName, want, wantName)
		}
	})
}
