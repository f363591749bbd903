package gcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/lbfn/lbfn/functions/gcp"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// boundsRequest is the request of boundsOp: outcome chooses what Call does.
type boundsRequest struct {
	op.Common
	Outcome string `json:"outcome"`
}

// boundsOp is an operation that records the deadline its call ran under and answers outcome:
// "in_progress" (with the request to send again) or a failure kind.
func boundsOp(deadline *time.Time) op.Operation {
	return &op.Spec[boundsRequest, struct{}]{
		FunctionName: "fake-create-thing",
		ProviderName: "fakecloud",
		Client:       func() (struct{}, error) { return struct{}{}, nil },
		Validate:     func(*boundsRequest, *validate.Report) {},
		Send: func(ctx context.Context, _ struct{}, r *boundsRequest, call op.Call) (op.Result, error) {
			*deadline, _ = ctx.Deadline()
			if r.Outcome == "in_progress" {
				return op.Result{Status: op.StatusInProgress, ClientToken: "t", RetryAfterSeconds: 1,
					Request: json.RawMessage(`{"outcome":"in_progress","replyTo":"https://hooks.slack.com/commands/T0/B0/s3cr3t"}`)}, nil
			}
			return op.Result{}, op.Errorf(op.Kind(r.Outcome), "fake 100%% %s", r.Outcome)
		},
	}
}

func pubsubEvent(t *testing.T, request string) event.Event {
	t.Helper()
	e := event.New()
	e.SetID("m-1")
	e.SetType("google.cloud.pubsub.topic.v1.messagePublished")
	e.SetSource("//pubsub.googleapis.com/projects/lbfn-test/topics/requests")
	if err := e.SetData("application/json", pubsubData("m-1", []byte(request))); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestPubSubRequestTimeout: LBFN_REQUEST_TIMEOUT bounds a delivery even when the platform has
// already set a later deadline; the earlier one applies.
func TestPubSubRequestTimeout(t *testing.T) {
	t.Setenv("LBFN_REQUEST_TIMEOUT", "40s")
	tests := []struct {
		name     string
		platform time.Duration // the framework's deadline; 0 for none
		wantMax  time.Duration // the call's deadline is at most this far from the start
	}{
		{"no platform deadline", 0, 40 * time.Second},
		{"a later platform deadline", time.Hour, 40 * time.Second},
		{"an earlier platform deadline", 10 * time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var deadline time.Time
			fn := gcp.NewFunction(boundsOp(&deadline), slog.New(slog.DiscardHandler))
			ctx := context.Background()
			start := time.Now()
			if tt.platform > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.platform)
				defer cancel()
			}
			_ = fn.HandlePubSub(ctx, pubsubEvent(t, `{"outcome":"in_progress"}`))
			if deadline.IsZero() || deadline.After(start.Add(tt.wantMax+time.Second)) {
				t.Errorf("the call ran until %v after the start, want at most %v", deadline.Sub(start), tt.wantMax)
			}
		})
	}
}

// TestPubSubDeadlineMargin: the call of a delivery ends LBFN_DEADLINE_MARGIN before the
// platform's deadline, kept once, and DefaultReserve earlier still for the failure topic's
// publish that may follow it.
func TestPubSubDeadlineMargin(t *testing.T) {
	t.Setenv("LBFN_DEADLINE_MARGIN", "2s")
	var deadline time.Time
	fn := gcp.NewFunction(boundsOp(&deadline), slog.New(slog.DiscardHandler))
	platform := time.Now().Add(20 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), platform)
	defer cancel()
	_ = fn.HandlePubSub(ctx, pubsubEvent(t, `{"outcome":"in_progress"}`))
	if want := platform.Add(-2*time.Second - op.DefaultReserve); !deadline.Equal(want) {
		t.Errorf("the call's deadline is %v before the platform's, want %v", platform.Sub(deadline), platform.Sub(want))
	}
}

// TestPubSubRetryErrorIsShort: the error returned to the framework, which prints it as a
// format string, is one short line without '%' and without the request (nor its replyTo);
// the details are logged as one structured line instead.
func TestPubSubRetryErrorIsShort(t *testing.T) {
	for _, outcome := range []string{"in_progress", "unavailable", "throttled"} {
		t.Run(outcome, func(t *testing.T) {
			var deadline time.Time
			var logs bytes.Buffer
			fn := gcp.NewFunction(boundsOp(&deadline), slog.New(slog.NewJSONHandler(&logs, nil)))
			err := fn.HandlePubSub(context.Background(), pubsubEvent(t, `{"outcome":"`+outcome+`","replyTo":"https://hooks.slack.com/commands/T0/B0/s3cr3t"}`))
			var retry *gcp.RetryError
			if !errors.As(err, &retry) {
				t.Fatalf("error %v, want a *RetryError", err)
			}
			text := err.Error()
			for _, bad := range []string{"%", "s3cr3t", "replyTo", "{", "\n"} {
				if strings.Contains(text, bad) {
					t.Errorf("error text %q holds %q", text, bad)
				}
			}
			if len(text) > 200 || !strings.HasPrefix(text, "fake-create-thing: ") {
				t.Errorf("error text %q, want one short line naming the function", text)
			}
			if !strings.Contains(logs.String(), `"messageId":"m-1"`) || strings.Contains(logs.String(), "s3cr3t") {
				t.Errorf("the details are not logged (or reveal the replyTo):\n%s", logs.String())
			}
		})
	}
}
