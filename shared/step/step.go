// Package step runs a task that finishes in steps: each step either finishes with a result,
// says "not yet, try again later", or fails. It is the loop behind asynchronous create calls
// that must be re-sent until the provider says done (CTyun's async-create-policy), but knows
// nothing of any provider.
//
// The loop never sleeps into the caller's deadline: when the next step could not finish
// before the context's deadline, or the deadline cuts a step short, Run stops and returns a
// *NotDoneError carrying how many steps ran and when to try again, so a later invocation can
// pick the work up where this one left it. The caller keeps the time it needs to answer by
// giving Run a context that ends that much earlier; Run keeps no margin of its own.
package step

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Verdict is what one step decides. Make one with Done or NotYet.
type Verdict[T any] struct {
	done  bool
	value T
	after time.Duration
}

// Done ends the run with v.
func Done[T any](v T) Verdict[T] { return Verdict[T]{done: true, value: v} }

// NotYet asks for another step after d, or after the policy's next interval when d is zero
// (d is still capped by Policy.Cap, so a provider cannot stall the loop).
func NotYet[T any](d time.Duration) Verdict[T] { return Verdict[T]{after: d} }

// Policy paces the steps: the wait before step n+1 grows from First by Growth per step up to
// Cap, each wait randomised by ±Jitter, for at most MaxSteps steps.
type Policy struct {
	First    time.Duration // first wait; default 1s
	Growth   float64       // factor per step, at least 1; default 1.5
	Cap      time.Duration // longest wait; default 5s
	Jitter   float64       // randomisation factor in [0, 1); zero means none
	MaxSteps int           // steps in all, the first included; default 100
}

// DefaultPolicy polls soon at first and backs off to about five seconds: 0, 1, 2.5, 4.75,
// 8.1, then every ~5 s; with 100 steps it gives up after about eight minutes.
var DefaultPolicy = Policy{
	First:    time.Second,
	Growth:   1.5,
	Cap:      5 * time.Second,
	Jitter:   0.2,
	MaxSteps: 100,
}

// withDefaults fills the fields that have no meaningful zero from DefaultPolicy.
func (p Policy) withDefaults() Policy {
	if p.First <= 0 {
		p.First = DefaultPolicy.First
	}
	if p.Growth < 1 {
		p.Growth = DefaultPolicy.Growth
	}
	if p.Cap <= 0 {
		p.Cap = DefaultPolicy.Cap
	}
	if p.Cap < p.First {
		p.Cap = p.First
	}
	if p.Jitter < 0 || p.Jitter >= 1 {
		p.Jitter = DefaultPolicy.Jitter
	}
	if p.MaxSteps <= 0 {
		p.MaxSteps = DefaultPolicy.MaxSteps
	}
	return p
}

// Stats says what a run did, whatever its end.
type Stats struct {
	Steps   int           // steps run
	Elapsed time.Duration // from the start of Run to its return
}

// Why a run stopped before its task was done.
const (
	ReasonDeadline = "deadline" // the next step would not finish before the deadline, or the deadline cut one short
	ReasonMaxSteps = "max steps"
)

// ErrNotDone matches every *NotDoneError with errors.Is.
var ErrNotDone = errors.New("step: not done")

// NotDoneError says the run stopped before its task was done, though nothing failed: the
// same task may be continued later.
type NotDoneError struct {
	Reason     string        // ReasonDeadline or ReasonMaxSteps
	Steps      int           // steps run
	RetryAfter time.Duration // the wait the loop would have made next
	// Err is the failure of a step the context's deadline cut short.
	Err error
}

func (e *NotDoneError) Error() string {
	return fmt.Sprintf("step: not done after %d steps (%s); try again after %v", e.Steps, e.Reason, e.RetryAfter)
}

func (e *NotDoneError) Is(target error) bool { return target == ErrNotDone }
func (e *NotDoneError) Unwrap() error        { return e.Err }

// Run calls step with attempt = 1, 2, … until it returns Done, an error, or the policy or the
// deadline ends the run. A step's error is returned as it is, at once, unless ctx's deadline
// had passed by then: the step was cut short, the task may well go on, and the run ends with
// a *NotDoneError wrapping the step's error. Cancelling ctx ends the run with ctx's error.
func Run[T any](ctx context.Context, p Policy, step func(ctx context.Context, attempt int) (Verdict[T], error)) (T, Stats, error) {
	p = p.withDefaults()
	start := time.Now()
	var zero T
	var stats Stats
	finish := func(err error) (T, Stats, error) {
		stats.Elapsed = time.Since(start)
		return zero, stats, err
	}
	limit, bounded := ctx.Deadline()

	intervals := &backoff.ExponentialBackOff{
		InitialInterval:     p.First,
		RandomizationFactor: p.Jitter,
		Multiplier:          p.Growth,
		MaxInterval:         p.Cap,
	}
	intervals.Reset()
	next := p.First // the wait before the next step, as the caller would see it

	var longestStep time.Duration
	for {
		if bounded && time.Until(limit) <= longestStep {
			// Not even one more step fits (on the first pass: no time at all).
			return finish(&NotDoneError{Reason: ReasonDeadline, Steps: stats.Steps, RetryAfter: next})
		}
		stats.Steps++
		began := time.Now()
		v, err := step(ctx, stats.Steps)
		longestStep = max(longestStep, time.Since(began))
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return finish(&NotDoneError{Reason: ReasonDeadline, Steps: stats.Steps, RetryAfter: next, Err: err})
			}
			return finish(err)
		}
		if v.done {
			stats.Elapsed = time.Since(start)
			return v.value, stats, nil
		}

		wait := min(intervals.NextBackOff(), p.Cap)
		if v.after > 0 {
			wait = min(v.after, p.Cap)
		}
		next = wait
		if stats.Steps >= p.MaxSteps {
			return finish(&NotDoneError{Reason: ReasonMaxSteps, Steps: stats.Steps, RetryAfter: wait})
		}
		// Sleep only if the step after the wait can still finish before the deadline, judged
		// by the longest step so far.
		if bounded && time.Now().Add(wait+longestStep).After(limit) {
			return finish(&NotDoneError{Reason: ReasonDeadline, Steps: stats.Steps, RetryAfter: wait})
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return finish(&NotDoneError{Reason: ReasonDeadline, Steps: stats.Steps, RetryAfter: wait})
			}
			return finish(ctx.Err())
		case <-timer.C:
		}
	}
}
