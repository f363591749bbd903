package trigger_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/trigger"
)

// TestFailureLogHidesReplyTo checks that a permanent failure logged in full (no failure queue)
// does not log the request's replyTo: a chat's response URL works as a bearer token.
func TestFailureLogHidesReplyTo(t *testing.T) {
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer chat.Close()
	const token = "s3cr3t-reply-token"
	replyTo := chat.URL + "/commands/T0/B0/" + token
	for _, tt := range []struct{ name, event string }{
		{"sqs", string(sqsEvent(t, record{"ok", `{"name":"a"}`}, record{"bad", `{"name":"d","outcome":"conflict","replyTo":"` + replyTo + `"}`}))},
		{"sns", string(snsEvent(t, "bad", `{"name":"","replyTo":"`+replyTo+`"}`))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			o, _ := newFakeOp()
			h := trigger.New(o, trigger.Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
			if _, err := h.Handle(context.Background(), []byte(tt.event)); err != nil {
				t.Fatal(err)
			}
			logs := buf.String()
			if !strings.Contains(logs, `"failure":{`) || !strings.Contains(logs, `"replyTo":"(redacted)"`) {
				t.Errorf("the failure is not logged in full with replyTo redacted: %s", logs)
			}
			if strings.Contains(logs, token) {
				t.Errorf("the log reveals the replyTo URL: %s", logs)
			}
		})
	}
}
