package trigger_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/trigger"
)

// TestReplyTo checks that a request's replyTo receives its final result exactly once, and
// nothing while the creation is in progress or will be retried.
func TestReplyTo(t *testing.T) {
	var mu sync.Mutex
	var posted []op.Result
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var res op.Result
		if err := json.Unmarshal(b, &res); err != nil {
			t.Errorf("posted body is not a result: %v", err)
		}
		mu.Lock()
		posted = append(posted, res)
		mu.Unlock()
	}))
	defer srv.Close()

	tests := []struct {
		outcome string
		posts   bool
	}{
		{"", true},             // created
		{"conflict", true},     // a permanent failure
		{"in_progress", false}, // not final yet
		{"unavailable", false}, // will be retried
		{"not_found", true},    // a permanent failure
		{"dry-run", true},      // validated is final too
		// An invalid request's replyTo is not trusted (it is part of what failed validation);
		// chatops validates before it enqueues, so the chat already saw such an error.
		{"validation-fail", false},
	}
	for _, tt := range tests {
		t.Run(tt.outcome, func(t *testing.T) {
			mu.Lock()
			posted = nil
			mu.Unlock()
			o, _ := newFakeOp()
			h := trigger.New(o, trigger.Options{Logger: quietLogger()})
			req := map[string]any{"name": "a", "replyTo": srv.URL + "/reply"}
			switch tt.outcome {
			case "dry-run":
				req["dryRun"] = true
			case "validation-fail":
				req["name"] = ""
			default:
				req["outcome"] = tt.outcome
			}
			_, _ = h.Handle(context.Background(), mustJSON(t, req))
			mu.Lock()
			defer mu.Unlock()
			if got := len(posted) == 1; got != tt.posts || len(posted) > 1 {
				t.Fatalf("posted %d results, want posted=%v", len(posted), tt.posts)
			}
			if tt.posts && posted[0].Function != "fake-create-thing" {
				t.Errorf("posted %+v", posted[0])
			}
		})
	}
}
