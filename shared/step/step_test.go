package step_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lbfn/lbfn/shared/step"
)

// fast is a millisecond policy without jitter, so tests take no time and waits are exact.
var fast = step.Policy{First: time.Millisecond, Growth: 2, Cap: 4 * time.Millisecond, MaxSteps: 50}

// after returns a step that answers NotYet n times, then Done(n+1), recording the attempt
// numbers it saw.
func after(n int, seen *[]int) func(context.Context, int) (step.Verdict[int], error) {
	return func(_ context.Context, attempt int) (step.Verdict[int], error) {
		*seen = append(*seen, attempt)
		if attempt <= n {
			return step.NotYet[int](0), nil
		}
		return step.Done(attempt), nil
	}
}

func TestRunUntilDone(t *testing.T) {
	for _, n := range []int{0, 1, 3, 10} {
		var seen []int
		got, stats, err := step.Run(context.Background(), fast, after(n, &seen))
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if got != n+1 || stats.Steps != n+1 || len(seen) != n+1 {
			t.Errorf("n=%d: got %d after %d steps (%v), want %d", n, got, stats.Steps, seen, n+1)
		}
		for i, a := range seen {
			if a != i+1 {
				t.Errorf("n=%d: attempt numbers %v, want 1, 2, …", n, seen)
				break
			}
		}
	}
}

func TestStepErrorStopsAtOnce(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	_, stats, err := step.Run(context.Background(), fast, func(context.Context, int) (step.Verdict[string], error) {
		calls++
		if calls == 2 {
			return step.Verdict[string]{}, boom
		}
		return step.NotYet[string](0), nil
	})
	if !errors.Is(err, boom) || calls != 2 || stats.Steps != 2 {
		t.Errorf("err=%v calls=%d steps=%d, want boom after 2", err, calls, stats.Steps)
	}
	if errors.Is(err, step.ErrNotDone) {
		t.Error("a step's own failure must not read as not done")
	}
}

func TestMaxSteps(t *testing.T) {
	p := fast
	p.MaxSteps = 3
	var seen []int
	_, stats, err := step.Run(context.Background(), p, after(100, &seen))
	var nd *step.NotDoneError
	if !errors.As(err, &nd) || nd.Reason != step.ReasonMaxSteps {
		t.Fatalf("err = %v, want NotDoneError for max steps", err)
	}
	if nd.Steps != 3 || stats.Steps != 3 || len(seen) != 3 {
		t.Errorf("steps = %d/%d/%d, want 3", nd.Steps, stats.Steps, len(seen))
	}
	if nd.RetryAfter <= 0 || nd.RetryAfter > p.Cap {
		t.Errorf("RetryAfter = %v, want in (0, %v]", nd.RetryAfter, p.Cap)
	}
}

// The loop answers before the deadline: it never sleeps past it. The test
// runs in a synctest bubble, whose clock moves only when every goroutine waits, so each step
// takes exactly the 5ms it sleeps and the waits are exact however loaded the machine is.
func TestDeadlineFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := step.Policy{First: 10 * time.Millisecond, Growth: 1.5, Cap: 40 * time.Millisecond, MaxSteps: 1000}
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
		defer cancel()
		limit, _ := ctx.Deadline()
		const stepTakes = 5 * time.Millisecond
		var seen []int
		var lastEnd time.Time
		_, stats, err := step.Run(ctx, p, func(ctx context.Context, attempt int) (step.Verdict[int], error) {
			seen = append(seen, attempt)
			time.Sleep(stepTakes)
			lastEnd = time.Now()
			return step.NotYet[int](0), nil
		})
		returned := time.Now()
		var nd *step.NotDoneError
		if !errors.As(err, &nd) || nd.Reason != step.ReasonDeadline || !errors.Is(err, step.ErrNotDone) {
			t.Fatalf("err = %v, want NotDoneError for the deadline", err)
		}
		if nd.Steps < 2 || nd.Steps != stats.Steps || nd.Steps != len(seen) {
			t.Errorf("steps = %d (stats %d, seen %d), want ≥2 and all equal", nd.Steps, stats.Steps, len(seen))
		}
		if nd.RetryAfter <= 0 || nd.RetryAfter > p.Cap {
			t.Errorf("RetryAfter = %v, want in (0, %v]", nd.RetryAfter, p.Cap)
		}
		// It stopped at once after the last step, because the wait it declined and one more
		// step would have crossed the deadline, and not a step earlier than that.
		if !returned.Equal(lastEnd) {
			t.Errorf("returned %v after the last step, want at once", returned.Sub(lastEnd))
		}
		if !lastEnd.Add(nd.RetryAfter + stepTakes).After(limit) {
			t.Errorf("stopped at %v with %v and a %v step still fitting before the limit %v",
				lastEnd.Sub(limit), nd.RetryAfter, stepTakes, limit)
		}
		if !returned.Before(limit) || ctx.Err() != nil {
			t.Errorf("returned %v after the deadline", returned.Sub(limit))
		}
	})
}

func TestNoTimeAtAll(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Millisecond))
	defer cancel()
	p := fast
	calls := 0
	_, _, err := step.Run(ctx, p, func(context.Context, int) (step.Verdict[int], error) {
		calls++
		return step.Done(1), nil
	})
	var nd *step.NotDoneError
	if !errors.As(err, &nd) || nd.Steps != 0 || calls != 0 {
		t.Fatalf("err=%v calls=%d, want NotDoneError with no step run", err, calls)
	}
	if nd.RetryAfter != p.First {
		t.Errorf("RetryAfter = %v, want the first interval %v", nd.RetryAfter, p.First)
	}
}

// A step still running at the deadline is cut short; its failure then means "not done", not
// a failure of the task. In a synctest bubble the context expires at exactly its deadline,
// whatever the load.
func TestStepCutShortAtDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		deadline, _ := ctx.Deadline()
		steps := 0
		_, _, err := step.Run(ctx, fast, func(sctx context.Context, attempt int) (step.Verdict[int], error) {
			steps++
			if dl, ok := sctx.Deadline(); !ok || !dl.Equal(deadline) {
				t.Errorf("step deadline = %v, want the run's own %v", dl, deadline)
			}
			<-sctx.Done()
			return step.Verdict[int]{}, sctx.Err()
		})
		var nd *step.NotDoneError
		if !errors.As(err, &nd) || nd.Reason != step.ReasonDeadline || !errors.Is(err, context.DeadlineExceeded) || steps != 1 {
			t.Fatalf("err = %v after %d steps, want NotDoneError wrapping the step's deadline error after 1", err, steps)
		}
		if now := time.Now(); !now.Equal(deadline) {
			t.Errorf("Run returned %v from the deadline, want at it", now.Sub(deadline))
		}
	})
}

// A step that fails because the caller cancelled (not because the deadline came) ends the run
// with that failure: nothing is "not done" about a run nobody waits for.
func TestCancelDuringStep(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	_, _, err := step.Run(ctx, fast, func(sctx context.Context, attempt int) (step.Verdict[int], error) {
		cancel()
		<-sctx.Done()
		return step.Verdict[int]{}, sctx.Err()
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, step.ErrNotDone) {
		t.Errorf("err = %v, want context.Canceled and not a NotDoneError", err)
	}
}

func TestCancelWhileWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := step.Policy{First: time.Hour, MaxSteps: 5, Cap: time.Hour}
	_, _, err := step.Run(ctx, p, func(context.Context, int) (step.Verdict[int], error) {
		cancel()
		return step.NotYet[int](0), nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// The waits follow First·Growthⁿ up to Cap, and NotYet(d) overrides one wait (capped). In a
// synctest bubble the steps take no time and the sleeps last exactly their duration.
func TestCadence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := step.Policy{First: 10 * time.Millisecond, Growth: 2, Cap: 40 * time.Millisecond, MaxSteps: 6}
		var stamps []time.Time
		_, _, err := step.Run(context.Background(), p, func(_ context.Context, attempt int) (step.Verdict[int], error) {
			stamps = append(stamps, time.Now())
			if attempt == 2 {
				return step.NotYet[int](time.Hour), nil // capped to 40ms
			}
			return step.NotYet[int](0), nil
		})
		if !errors.Is(err, step.ErrNotDone) || len(stamps) != p.MaxSteps {
			t.Fatalf("err = %v after %d steps", err, len(stamps))
		}
		want := []time.Duration{10, 40, 40, 40, 40} // 10, then the override, then 40 = cap
		for i, w := range want {
			if got := stamps[i+1].Sub(stamps[i]); got != w*time.Millisecond {
				t.Errorf("wait %d = %v, want %v", i+1, got, w*time.Millisecond)
			}
		}
	})
}

func TestDefaults(t *testing.T) {
	// The zero policy is the default cadence; a done-at-once task runs one step without waiting.
	got, stats, err := step.Run(context.Background(), step.Policy{}, func(context.Context, int) (step.Verdict[string], error) {
		return step.Done("ok"), nil
	})
	if err != nil || got != "ok" || stats.Steps != 1 {
		t.Errorf("got %q, %d steps, %v", got, stats.Steps, err)
	}
}
