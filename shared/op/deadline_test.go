package op

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// badStore is a Store whose Complete and Release fail or hang.
type badStore struct {
	hang bool // wait for the context instead of answering
	err  error
	// completeDeadline is the deadline Complete was given.
	completeDeadline time.Time
	completes        int
	releases         int
}

func (s *badStore) Claim(context.Context, string, string, time.Time) (*Result, error) {
	return nil, nil
}

func (s *badStore) wait(ctx context.Context) error {
	if s.hang {
		<-ctx.Done()
		return Wrap(KindUnavailable, ctx.Err(), "idempotency store: no answer")
	}
	return s.err
}

func (s *badStore) Complete(ctx context.Context, _, _ string, _ *Result) error {
	s.completes++
	s.completeDeadline, _ = ctx.Deadline()
	return s.wait(ctx)
}

func (s *badStore) Release(ctx context.Context, _ string) error {
	s.releases++
	return s.wait(ctx)
}

// TestRunnerStoreWaitsFitTheDeadline: a store that hangs or fails after the creation does not
// make the answer late, the answer stays created (the resource exists), and the lost record
// is logged as a warning naming the key.
func TestRunnerStoreWaitsFitTheDeadline(t *testing.T) {
	tests := []struct {
		name  string
		store *badStore
	}{
		{"store hangs", &badStore{hang: true}},
		{"store answers 500", &badStore{err: Errorf(KindUnavailable, "idempotency store: DynamoDB PutItem failed: HTTP 500")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			r := Runner{Store: tt.store, Reserve: 600 * time.Millisecond,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			// The invocation's context, as its entry point makes it (Invocation).
			invocation, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			ctx, cancelWork := Invocation(invocation, 500*time.Millisecond)
			defer cancelWork()
			deadline, _ := ctx.Deadline()
			o := newTestOp()
			res, _ := r.Run(ctx, o, []byte(`{"name":"a"}`), Meta{MessageID: "m-7"})
			if invocation.Err() != nil {
				t.Error("Run answered after the invocation's deadline")
			}
			if !res.OK || res.Status != StatusCreated || res.ID != "id-1" {
				t.Errorf("result %+v, want created", res)
			}
			if !tt.store.completeDeadline.Equal(deadline) {
				t.Errorf("Complete's deadline %v, want the caller's %v", tt.store.completeDeadline, deadline)
			}
			if want := deadline.Add(-600 * time.Millisecond); !o.callDeadline.Equal(want) {
				t.Errorf("the call's deadline %v, want deadline - reserve %v", o.callDeadline, want)
			}
			line := logs.String()
			if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "idempotencyKey=m-7") || !strings.Contains(line, "could not be stored") {
				t.Errorf("log %q: want a warning naming the key", line)
			}
		})
	}
}

// TestRunnerReleaseFailureLogged: a key that could not be released after a failure is
// logged, and the failure is still the answer.
func TestRunnerReleaseFailureLogged(t *testing.T) {
	var logs bytes.Buffer
	store := &badStore{err: errors.New("DynamoDB DeleteItem: HTTP 500")}
	r := Runner{Store: store, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	o := newTestOp()
	o.err = Errorf(KindConflict, "exists")
	res, _ := r.Run(context.Background(), o, []byte(`{"name":"a"}`), Meta{MessageID: "m-8"})
	if res.OK || res.Err().Kind != KindConflict || store.releases != 1 {
		t.Errorf("result %+v, releases %d", res, store.releases)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "idempotencyKey=m-8") {
		t.Errorf("log %q: want a warning naming the key", logs.String())
	}
}

// TestRunnerReserve: the call's context ends early only when something must follow it (a
// store outside memory, a reply), by at most half the time left.
func TestRunnerReserve(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	tests := []struct {
		name    string
		runner  Runner
		request string
		want    time.Time
	}{
		{"nothing after the call", Runner{}, `{"name":"a"}`, deadline},
		{"memory store", Runner{Store: &MemoryStore{}}, `{"name":"a"}`, deadline},
		{"remote store", Runner{Store: &badStore{}}, `{"name":"a"}`, deadline.Add(-DefaultReserve)},
		{"reply", Runner{}, `{"name":"a","replyTo":"https://chat.example/r"}`, deadline.Add(-DefaultReserve)},
		{"reply, no reserve", Runner{Reserve: -1}, `{"name":"a","replyTo":"https://chat.example/r"}`, deadline},
		{"the caller's follow-up", Runner{FollowUp: true}, `{"name":"a"}`, deadline.Add(-DefaultReserve)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			o := newTestOp()
			tt.runner.Logger = slog.New(slog.DiscardHandler)
			tt.runner.Run(ctx, o, []byte(tt.request), Meta{})
			if !o.callDeadline.Equal(tt.want) {
				t.Errorf("call deadline %v, want %v", o.callDeadline, tt.want)
			}
		})
	}
	// A short invocation keeps at least half its time for the call.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	o := newTestOp()
	start := time.Now()
	Runner{Store: &badStore{}, Reserve: time.Hour, Logger: slog.New(slog.DiscardHandler)}.Run(ctx, o, []byte(`{"name":"a"}`), Meta{})
	if d, _ := ctx.Deadline(); o.callDeadline.Before(start.Add(d.Sub(start) / 2)) {
		t.Errorf("the call got less than half the time: deadline %v", o.callDeadline)
	}
}

// TestInvocation: the margin is kept before the deadline once; a context without a deadline
// is left without one.
func TestInvocation(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	tests := []struct {
		name   string
		margin time.Duration
		want   time.Time
	}{
		{"default", 0, deadline.Add(-DefaultMargin)},
		{"set", 2 * time.Second, deadline.Add(-2 * time.Second)},
		{"none", -1, deadline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			ctx, done := Invocation(parent, tt.margin)
			defer done()
			if got, _ := ctx.Deadline(); !got.Equal(tt.want) {
				t.Errorf("deadline %v, want %v", got, tt.want)
			}
		})
	}
	ctx, done := Invocation(context.Background(), time.Second)
	defer done()
	if _, ok := ctx.Deadline(); ok {
		t.Error("a context without a deadline got one")
	}
}
