package trigger

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// detectByMaps is how Detect judged events before it read them without building anything:
// encoding/json into maps of raw members. Detect must agree with it on every input.
func detectByMaps(event []byte) Shape {
	var top map[string]json.RawMessage
	if json.Unmarshal(event, &top) != nil {
		return ShapeDirect
	}
	if raw, ok := top["Records"]; ok {
		var records []map[string]json.RawMessage
		if json.Unmarshal(raw, &records) != nil || len(records) == 0 {
			return ShapeDirect
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
			return ShapeSQS
		case from("EventSource", "aws:sns"):
			return ShapeSNS
		}
		return ShapeDirect
	}
	if raw, ok := top["requestContext"]; ok {
		var rc map[string]json.RawMessage
		if json.Unmarshal(raw, &rc) == nil && bytes.HasPrefix(bytes.TrimSpace(rc["http"]), []byte("{")) {
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

func FuzzDetect(f *testing.F) {
	for _, s := range []string{
		`{"Records":[{"eventSource":"aws:sqs","body":"{}"}]}`, `{"Records":[{"EventSource":"aws:sns"},{"EventSource":"aws:sns"}]}`,
		`{"Records":[{"eventSource":"aws:sqs"},null]}`, `{"Records":[{"eventSource":"aws\u003asqs"}]}`, `{"Records":null}`,
		`{"requestContext":{"http":{"method":"POST"},"domainName":"x.lambda-url.eu-west-1.on.aws"}}`,
		`{"requestContext":{"http":{},"domainName":7}}`, `{"requestContext":[]}`, `{"requestContext":{"http":null}}`,
		`{"detail-type":"x","detail":{}}`, `{"detail":1,"detail-type":null,"Records":[]}`, `{"name":"a"}`, `[1]`, `{"a":1} x`,
		`{"Records":[{"eventSource":"aws:sqs"}],"Records":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		if got, want := Detect(event), detectByMaps(event); got != want {
			t.Fatalf("Detect(%q) = %s, encoding/json maps say %s", event, got, want)
		}
	})
}
