package trigger_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/trigger"
)

// TestFailureLogCapsTheRequest: a logged failure report carries at most 8 KiB of its request
// (a 2 MiB message was one 2 MB log line; Cloud Logging keeps 256 KB of an entry), says how
// big the request was, and never shows a replyTo, even in a body that is not JSON.
func TestFailureLogCapsTheRequest(t *testing.T) {
	const replyTo = "https://hooks.slack.com/commands/T0/B0/s3cr3t"
	big := `{"name":"` + strings.Repeat("é", 1<<20) + `"}` // 2 MiB, two bytes a character
	tests := []struct {
		name      string
		body      string
		wantBytes int  // requestBytes logged; 0: the request is logged whole
		wantWhole bool // the request is logged as it was (replyTo aside)
	}{
		{name: "small", body: `{"name":"a"}`, wantWhole: true},
		{name: "2 MiB", body: big, wantBytes: len(big)},
		{name: "2 MiB with a replyTo", body: `{"replyTo":"` + replyTo + `","name":"` + strings.Repeat("x", 2<<20) + `"}`,
			wantBytes: 2<<20 + len(`{"replyTo":"`+replyTo+`","name":""}`)},
		{name: "not JSON, with a replyTo", body: `{"replyTo":"` + replyTo + `", oops`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := op.Failure("fake-create-thing", "fakecloud", op.Errorf(op.KindValidation, "bad"))
			report, _ := trigger.NewFailureReport(op.Meta{Trigger: "pubsub", MessageID: "m1"}, []byte(tt.body), res)
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Error("permanent failure", "failure", report)
			line := buf.Bytes()
			if len(line) > 16<<10 {
				t.Errorf("log line of %d bytes, want at most 16 KiB", len(line))
			}
			if bytes.Contains(line, []byte("s3cr3t")) {
				t.Errorf("the log reveals the replyTo: %s", line)
			}
			var entry struct {
				Failure struct {
					Request          json.RawMessage `json:"request"`
					RequestBytes     int             `json:"requestBytes"`
					RequestTruncated bool            `json:"requestTruncated"`
					Result           *op.Result      `json:"result"`
				} `json:"failure"`
			}
			if err := json.Unmarshal(line, &entry); err != nil {
				t.Fatalf("not one JSON line: %v", err)
			}
			f := entry.Failure
			if f.Result == nil || f.Result.Error.Kind != op.KindValidation {
				t.Errorf("the result is not logged: %s", line)
			}
			if f.RequestBytes != tt.wantBytes || f.RequestTruncated != (tt.wantBytes > 0) {
				t.Errorf("requestBytes %d truncated %v, want %d", f.RequestBytes, f.RequestTruncated, tt.wantBytes)
			}
			if tt.wantWhole && string(f.Request) != tt.body {
				t.Errorf("request logged as %s, want %s", f.Request, tt.body)
			}
			if tt.wantBytes > 0 {
				var excerpt string
				if err := json.Unmarshal(f.Request, &excerpt); err != nil || !strings.HasSuffix(excerpt, "…") ||
					strings.ContainsRune(excerpt, '\uFFFD') {
					t.Errorf("the cut request is not a clean excerpt: %.80s…", f.Request)
				}
			}
		})
	}
}
