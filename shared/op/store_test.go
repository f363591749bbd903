package op

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestRunnerReplays checks the exactly-once path: the same creation delivered again answers
// the first result without a second call, whatever the trigger.
func TestRunnerReplays(t *testing.T) {
	o := newTestOp()
	r := Runner{Store: &MemoryStore{}}
	ctx := context.Background()
	first, _ := r.Run(ctx, o, []byte(`{"name":"a"}`), Meta{MessageID: "m-1"})
	again, route := r.Run(ctx, o, []byte(`{"name":"a","replyTo":"https://chat.example/r"}`), Meta{MessageID: "m-1"})
	if !first.OK || !again.OK || again.ID != first.ID || o.calls.Load() != 1 {
		t.Fatalf("first %+v, again %+v, calls %d: want one call and the same id", first, again, o.calls.Load())
	}
	if route.ReplyTo != "https://chat.example/r" || again.IdempotencyKey != "m-1" {
		t.Errorf("replay kept %q %q, want this delivery's replyTo and key", route.ReplyTo, again.IdempotencyKey)
	}
	// Without a key, the request's hash is the key: an identical request is the same creation.
	r.Run(ctx, o, []byte(`{"name":"b"}`), Meta{})
	r.Run(ctx, o, []byte(`{"name":"b"}`), Meta{})
	if o.calls.Load() != 2 {
		t.Errorf("calls = %d, want 2 (one per distinct request)", o.calls.Load())
	}
}

func TestRunnerKeyReused(t *testing.T) {
	o := newTestOp()
	r := Runner{Store: &MemoryStore{}}
	r.Run(context.Background(), o, []byte(`{"name":"a","idempotencyKey":"k"}`), Meta{})
	res, _ := r.Run(context.Background(), o, []byte(`{"name":"other","idempotencyKey":"k"}`), Meta{})
	e := res.Err()
	if e == nil || e.Kind != KindValidation || len(e.Violations) != 1 || e.Violations[0].Field != "idempotencyKey" {
		t.Fatalf("result %+v: want a validation failure on idempotencyKey", res)
	}
	if o.calls.Load() != 1 {
		t.Errorf("calls = %d, want 1: nothing is sent for a reused key", o.calls.Load())
	}
}

// TestRunnerForgetsUnfinished checks that only finished creations are remembered: a failure
// or an in-progress creation releases the key, so the next delivery runs again.
func TestRunnerForgetsUnfinished(t *testing.T) {
	tests := []struct {
		name    string
		outcome Result
		err     error
	}{
		{"retryable failure", Result{}, Errorf(KindUnavailable, "503")},
		{"permanent failure", Result{}, Errorf(KindConflict, "exists")},
		{"in progress", Result{Status: StatusInProgress, ClientToken: "tok"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newTestOp()
			o.outcome, o.err = tt.outcome, tt.err
			r := Runner{Store: &MemoryStore{}}
			r.Run(context.Background(), o, []byte(`{"name":"a"}`), Meta{MessageID: "m"})
			r.Run(context.Background(), o, []byte(`{"name":"a"}`), Meta{MessageID: "m"})
			if o.calls.Load() != 2 {
				t.Errorf("calls = %d, want 2", o.calls.Load())
			}
		})
	}
}

func TestRunnerDryRunBypassesStore(t *testing.T) {
	o := newTestOp()
	s := &MemoryStore{}
	r := Runner{Store: s}
	r.Run(context.Background(), o, []byte(`{"name":"a","dryRun":true}`), Meta{MessageID: "m"})
	res, _ := r.Run(context.Background(), o, []byte(`{"name":"a"}`), Meta{MessageID: "m"})
	if !res.OK || res.Status != StatusCreated || o.calls.Load() != 1 {
		t.Errorf("result %+v, calls %d: a dry run must not claim the key", res, o.calls.Load())
	}
}

func TestMemoryStore(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := &MemoryStore{TTL: time.Minute, Now: func() time.Time { return now }}
	ctx := context.Background()
	done := &Result{OK: true, ID: "id-1"}

	if prev, err := s.Claim(ctx, "k", "h1", now.Add(10*time.Second)); prev != nil || err != nil {
		t.Fatalf("first claim = %v, %v", prev, err)
	}
	if _, err := s.Claim(ctx, "k", "h1", now.Add(10*time.Second)); !errors.Is(err, ErrInProgress) {
		t.Errorf("claim while held = %v, want ErrInProgress", err)
	}
	if _, err := s.Claim(ctx, "k", "h2", now.Add(10*time.Second)); !errors.Is(err, ErrKeyReused) {
		t.Errorf("claim with another request = %v, want ErrKeyReused", err)
	}
	now = now.Add(11 * time.Second) // the lease ran out: the holder died
	if prev, err := s.Claim(ctx, "k", "h1", now.Add(10*time.Second)); prev != nil || err != nil {
		t.Fatalf("claim after the lease = %v, %v", prev, err)
	}
	if err := s.Complete(ctx, "k", "h1", done); err != nil {
		t.Fatal(err)
	}
	if prev, err := s.Claim(ctx, "k", "h1", now.Add(10*time.Second)); prev != done || err != nil {
		t.Errorf("claim after completion = %v, %v, want the stored result", prev, err)
	}
	now = now.Add(2 * time.Minute) // past the TTL: forgotten
	if prev, err := s.Claim(ctx, "k", "h1", now.Add(10*time.Second)); prev != nil || err != nil {
		t.Errorf("claim after the TTL = %v, %v", prev, err)
	}
	if err := s.Release(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if prev, err := s.Claim(ctx, "k", "h2", now.Add(10*time.Second)); prev != nil || err != nil {
		t.Errorf("claim after release = %v, %v", prev, err)
	}
}

// TestMemoryStoreForgetsExpired checks that expired records are dropped as claims go on, so
// that the store stays bounded by what is live, however many creations a process serves.
func TestMemoryStoreForgetsExpired(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := &MemoryStore{TTL: time.Minute, Now: func() time.Time { return now }}
	ctx := context.Background()
	for round := range 20 {
		for i := range 100 {
			key := fmt.Sprintf("k-%d-%d", round, i)
			if _, err := s.Claim(ctx, key, "h", now.Add(10*time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := s.Complete(ctx, key, "h", &Result{OK: true}); err != nil {
				t.Fatal(err)
			}
		}
		now = now.Add(2 * time.Minute) // every record of this round expires
	}
	s.mu.Lock()
	n := len(s.records)
	s.mu.Unlock()
	// At most the last round's 100 live records, plus what may wait for the next sweep: the
	// sweep runs whenever the count doubles, so never more than twice the live ones.
	if n > 2*100+minSweep {
		t.Errorf("%d records kept after 20 rounds of 100 that expired", n)
	}
	if prev, err := s.Claim(ctx, "k-0-0", "other", now.Add(10*time.Second)); prev != nil || err != nil {
		t.Errorf("an expired key was still held: %v, %v", prev, err)
	}
}
