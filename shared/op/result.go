package op

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/lbfn/lbfn/shared/validate"
)

// Status says how far an operation got.
type Status string

const (
	StatusCreated    Status = "created"     // the provider created the resource
	StatusValidated  Status = "validated"   // a dry run: the request passed every rule, nothing was sent
	StatusInProgress Status = "in_progress" // still being created: send Request again later
)

// Result is what every function answers, on every trigger.
type Result struct {
	OK        bool   `json:"ok"`
	Function  string `json:"function"`
	Provider  string `json:"provider"`
	Status    Status `json:"status,omitempty"`
	ID        string `json:"id,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	Attempts  int    `json:"attempts,omitempty"`
	// IdempotencyKey is the key this creation ran under, so a caller can see what a
	// redelivery will be matched against.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// Response is the provider's response body as received.
	Response json.RawMessage `json:"response,omitempty"`

	// For in_progress: the token that continues this creation, when to try again, and the
	// request to send again unchanged.
	ClientToken       string          `json:"clientToken,omitempty"`
	RetryAfterSeconds int             `json:"retryAfterSeconds,omitempty"`
	Request           json.RawMessage `json:"request,omitempty"`

	Error *Error `json:"error,omitempty"`
}

// Seconds is d in whole seconds for RetryAfterSeconds, rounded up so that a retry is never
// sooner than asked: any part of a second counts as one.
func Seconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// Failure returns the failed result for err.
func Failure(function, provider string, err error) *Result {
	return &Result{Function: function, Provider: provider, Error: AsError(err)}
}

// Err returns the result's error, or nil when it succeeded.
func (r *Result) Err() *Error {
	if r.OK {
		return nil
	}
	if r.Error == nil {
		return Errorf(KindProvider, "failed without an error")
	}
	return r.Error
}

// MarshalJSON keeps "violations" an array, never null, so clients can range over it.
func (e Error) MarshalJSON() ([]byte, error) {
	type plain Error
	p := plain(e)
	if p.Violations == nil {
		p.Violations = []validate.Violation{}
	}
	return json.Marshal(p)
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}
