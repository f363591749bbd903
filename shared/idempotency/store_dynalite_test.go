package idempotency

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// clock is a settable clock shared by the stores of one test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// storedResult is a finished creation as a provider answered it, with characters JSON
// encoders like to rewrite.
var storedResult = &op.Result{OK: true, Function: "huawei-create-pool", Provider: "huaweicloud",
	Status: op.StatusCreated, ID: "pool-1", RequestID: "req-1", Attempts: 2, IdempotencyKey: "k",
	Response: json.RawMessage(`{"pool":{"id":"pool-1","name":"a<b>&c","description":"中文","members":[]}}`)}

// TestStoreOnDynamoDB runs the Powertools rules against a real DynamoDB implementation, with
// two stores on one table standing for two Lambda instances.
func TestStoreOnDynamoDB(t *testing.T) {
	endpoint := dynaliteEndpoint(t)
	type step struct {
		advance time.Duration // clock moves first
		store   int           // 0 or 1: which instance acts
		do      string        // "claim", "complete", "release"
		hash    string
		lease   time.Duration // claim: lease from now; default 1 minute
		want    string        // claim: "claimed", "replay", "in_progress", "key_reused"
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"first claim", []step{
			{store: 0, do: "claim", hash: "h1", want: "claimed"},
		}},
		{"concurrent claim is in progress", []step{
			{store: 0, do: "claim", hash: "h1", want: "claimed"},
			{store: 1, do: "claim", hash: "h1", want: "in_progress"},
			{store: 0, do: "claim", hash: "h1", want: "in_progress"},
		}},
		{"claim after the lease passed", []step{
			{store: 0, do: "claim", hash: "h1", lease: time.Minute, want: "claimed"},
			{advance: 59 * time.Second, store: 1, do: "claim", hash: "h1", want: "in_progress"},
			{advance: 2 * time.Second, store: 1, do: "claim", hash: "h1", want: "claimed"},
			{store: 0, do: "claim", hash: "h1", want: "in_progress"},
		}},
		{"complete then claim replays", []step{
			{store: 0, do: "claim", hash: "h1", want: "claimed"},
			{store: 0, do: "complete", hash: "h1"},
			{store: 1, do: "claim", hash: "h1", want: "replay"},
			{advance: 59 * time.Minute, store: 0, do: "claim", hash: "h1", want: "replay"},
		}},
		{"different request under a completed key", []step{
			{store: 0, do: "claim", hash: "h1", want: "claimed"},
			{store: 0, do: "complete", hash: "h1"},
			{store: 1, do: "claim", hash: "h2", want: "key_reused"},
		}},
		{"different request under a claimed key", []step{
			{store: 0, do: "claim", hash: "h1", want: "claimed"},
			{store: 1, do: "claim", hash: "h2", want: "key_reused"},
		}},
		{"release frees the key", []step{
			{store: 0, do: "claim", hash: "h1", want: "claimed"},
			{store: 0, do: "release"},
			{store: 1, do: "claim", hash: "h1", want: "claimed"},
		}},
		{"release of a free key", []step{
			{store: 0, do: "release"},
			{store: 1, do: "claim", hash: "h1", want: "claimed"},
		}},
		{"expired record is reclaimed, before DynamoDB's TTL deletes it", []step{
			{store: 0, do: "claim", hash: "h1", want: "claimed"},
			{store: 0, do: "complete", hash: "h1"},
			{advance: time.Hour + time.Second, store: 1, do: "claim", hash: "h2", want: "claimed"},
			{store: 0, do: "claim", hash: "h2", want: "in_progress"},
		}},
		{"a claim outlives a TTL shorter than its lease", []step{
			{store: 0, do: "claim", hash: "h1", lease: 3 * time.Hour, want: "claimed"},
			{advance: 2 * time.Hour, store: 1, do: "claim", hash: "h1", want: "in_progress"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			table := newTable(t, endpoint)
			clk := &clock{t: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)}
			var stores [2]*DynamoDBStore
			for i := range stores {
				s, err := New(testSettings(endpoint, table), testClient())
				if err != nil {
					t.Fatal(err)
				}
				s.Now = clk.Now
				stores[i] = s
			}
			ctx := context.Background()
			const key = "huawei-create-pool#msg-1"
			for i, st := range tt.steps {
				clk.Add(st.advance)
				s := stores[st.store]
				switch st.do {
				case "claim":
					lease := st.lease
					if lease == 0 {
						lease = time.Minute
					}
					res, err := s.Claim(ctx, key, st.hash, clk.Now().Add(lease))
					if got := outcome(res, err); got != st.want {
						t.Fatalf("step %d: claim = %s (%v), want %s", i, got, err, st.want)
					}
					if res != nil {
						want, _ := json.Marshal(storedResult)
						got, _ := json.Marshal(res)
						if !bytes.Equal(got, want) {
							t.Fatalf("step %d: replayed\n%s\nwant\n%s", i, got, want)
						}
					}
				case "complete":
					if err := s.Complete(ctx, key, st.hash, storedResult); err != nil {
						t.Fatalf("step %d: complete: %v", i, err)
					}
				case "release":
					if err := s.Release(ctx, key); err != nil {
						t.Fatalf("step %d: release: %v", i, err)
					}
				}
			}
		})
	}
}

func outcome(res *op.Result, err error) string {
	switch {
	case errors.Is(err, op.ErrInProgress):
		return "in_progress"
	case errors.Is(err, op.ErrKeyReused):
		return "key_reused"
	case err != nil:
		return "error"
	case res != nil:
		return "replay"
	}
	return "claimed"
}

// TestStoreConcurrentClaims races claims of one key from many instances: exactly one wins.
func TestStoreConcurrentClaims(t *testing.T) {
	endpoint := dynaliteEndpoint(t)
	table := newTable(t, endpoint)
	const n = 8
	var wins, busy atomic.Int32
	var wg sync.WaitGroup
	for range n {
		s, err := New(testSettings(endpoint, table), testClient())
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			res, err := s.Claim(context.Background(), "f#race", "h", time.Now().Add(time.Minute))
			switch outcome(res, err) {
			case "claimed":
				wins.Add(1)
			case "in_progress":
				busy.Add(1)
			default:
				t.Errorf("claim: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || busy.Load() != n-1 {
		t.Errorf("%d claims won and %d were in progress, want 1 and %d", wins.Load(), busy.Load(), n-1)
	}
}

// createReq is the fake operation's request.
type createReq struct {
	op.Common
	Name string `json:"name"`
}

// fakeCreate is an operation that counts its creations and can be held mid-call.
type fakeCreate struct {
	calls   atomic.Int32
	hold    chan struct{} // when set, Execute waits for it to close
	entered chan struct{}
}

func (f *fakeCreate) operation() op.Operation {
	return &op.Spec[createReq, struct{}]{
		FunctionName: "fake-create",
		ProviderName: "fake",
		Client:       func() (struct{}, error) { return struct{}{}, nil },
		Validate:     func(r *createReq, v *validate.Report) { v.RequiredString("name", &r.Name) },
		Send: func(ctx context.Context, _ struct{}, r *createReq, call op.Call) (op.Result, error) {
			n := f.calls.Add(1)
			if f.hold != nil {
				f.entered <- struct{}{}
				<-f.hold
			}
			return op.Result{ID: "res-" + string(rune('0'+n)), RequestID: "req",
				Response: json.RawMessage(`{"name":"` + r.Name + `"}`)}, nil
		},
	}
}

// TestRunnerAcrossInstances drives op.Runner in two "processes" (separate runners, stores
// and operations) on one table: the second delivery replays the first creation.
func TestRunnerAcrossInstances(t *testing.T) {
	endpoint := dynaliteEndpoint(t)
	table := newTable(t, endpoint)
	newRunner := func() (op.Runner, *fakeCreate, op.Operation) {
		s, err := New(testSettings(endpoint, table), testClient())
		if err != nil {
			t.Fatal(err)
		}
		f := &fakeCreate{}
		return op.Runner{Store: s}, f, f.operation()
	}
	r1, f1, o1 := newRunner()
	r2, f2, o2 := newRunner()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	meta := op.Meta{Trigger: "sqs", MessageID: "m-1"}

	first, _ := r1.Run(ctx, o1, []byte(`{"name":"a"}`), meta)
	if !first.OK || first.Status != op.StatusCreated {
		t.Fatalf("first: %+v", first.Error)
	}
	again, _ := r2.Run(ctx, o2, []byte(`{"name":"a"}`), meta)
	if f1.calls.Load() != 1 || f2.calls.Load() != 0 {
		t.Errorf("calls %d and %d, want 1 and 0", f1.calls.Load(), f2.calls.Load())
	}
	want, _ := json.Marshal(first)
	got, _ := json.Marshal(again)
	if !bytes.Equal(got, want) {
		t.Errorf("replay\n%s\nwant\n%s", got, want)
	}

	reused, _ := r2.Run(ctx, o2, []byte(`{"name":"b"}`), meta)
	if e := reused.Err(); e.Kind != op.KindValidation || len(e.Violations) != 1 || e.Violations[0].Field != "idempotencyKey" {
		t.Errorf("same key, other request: %+v", e)
	}
	if f2.calls.Load() != 0 {
		t.Errorf("a reused key called the provider")
	}
}

// TestRunnerInProgressAcrossInstances: while one instance creates, another's delivery of the
// same creation is a retryable conflict and does not call the provider.
func TestRunnerInProgressAcrossInstances(t *testing.T) {
	endpoint := dynaliteEndpoint(t)
	table := newTable(t, endpoint)
	s1, _ := New(testSettings(endpoint, table), testClient())
	s2, _ := New(testSettings(endpoint, table), testClient())
	slow := &fakeCreate{hold: make(chan struct{}), entered: make(chan struct{}, 1)}
	other := &fakeCreate{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	meta := op.Meta{Trigger: "sqs", MessageID: "m-2"}

	done := make(chan *op.Result, 1)
	go func() {
		res, _ := op.Runner{Store: s1}.Run(ctx, slow.operation(), []byte(`{"name":"a"}`), meta)
		done <- res
	}()
	select {
	case <-slow.entered:
	case res := <-done:
		t.Fatalf("the first delivery did not create: %+v", res.Error)
	}
	busy, _ := op.Runner{Store: s2}.Run(ctx, other.operation(), []byte(`{"name":"a"}`), meta)
	if e := busy.Err(); e.Kind != op.KindInProgress || !e.Retryable || e.Kind.TypeName() != "InProgressError" {
		t.Errorf("concurrent delivery: %+v", e)
	}
	close(slow.hold)
	if res := <-done; !res.OK {
		t.Fatalf("first: %+v", res.Error)
	}
	if other.calls.Load() != 0 {
		t.Errorf("the concurrent delivery called the provider")
	}
	if res, _ := (op.Runner{Store: s2}).Run(ctx, other.operation(), []byte(`{"name":"a"}`), meta); !res.OK || res.ID != "res-1" {
		t.Errorf("after the first finished: %+v", res)
	}
}
