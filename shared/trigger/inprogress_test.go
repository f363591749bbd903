package trigger_test

import (
	"context"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/trigger"
)

// heldStore is an idempotency store in which another execution holds every key.
type heldStore struct{}

func (heldStore) Claim(context.Context, string, string, time.Time) (*op.Result, error) {
	return nil, op.ErrInProgress
}
func (heldStore) Complete(context.Context, string, string, *op.Result) error { return nil }
func (heldStore) Release(context.Context, string) error                      { return nil }

// TestDirectInProgressElsewhere: a creation already running elsewhere fails with its own
// error name, retryable, so a state machine can retry it without retrying real conflicts.
func TestDirectInProgressElsewhere(t *testing.T) {
	o, client := newFakeOp()
	h := trigger.New(o, trigger.Options{Logger: quietLogger(), Store: heldStore{}})
	_, err := h.Handle(context.Background(), []byte(`{"name":"a","idempotencyKey":"k1"}`))
	ie, res := invokeErr(t, err)
	if ie.Type != "InProgressError" || res.Error.Kind != op.KindInProgress || !res.Error.Retryable {
		t.Errorf("errorType %q, error %+v; want a retryable InProgressError", ie.Type, res.Error)
	}
	if status, _, _ := httpCall(t, h, nil, "apigw", `{"name":"a","idempotencyKey":"k1"}`, nil); status != 409 {
		t.Errorf("HTTP status %d, want 409", status)
	}
	if n := client.calls.Load(); n != 0 {
		t.Errorf("%d calls while the creation runs elsewhere, want none", n)
	}
}
