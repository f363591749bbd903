// Package op defines what a create operation is, the result every function answers with, and
// the one error type every layer returns. Dry runs and idempotency keys are handled here, once,
// for every operation.
package op

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/lbfn/lbfn/shared/validate"
)

// Kind classifies a failure. The names are those of error.kind in README.md ("The result").
type Kind string

const (
	KindValidation  Kind = "validation"  // the request breaks a documented rule; nothing was sent
	KindConfig      Kind = "config"      // missing credentials or settings
	KindAuth        Kind = "auth"        // the provider refused the credentials or signature
	KindNotFound    Kind = "not_found"   // a referenced resource does not exist
	KindConflict    Kind = "conflict"    // the resource exists or the target is busy
	KindInProgress  Kind = "in_progress" // the same creation is running elsewhere (its idempotency key is held)
	KindQuota       Kind = "quota"       // an account quota is exhausted
	KindThrottled   Kind = "throttled"   // the provider asked us to slow down
	KindProvider    Kind = "provider"    // any other refusal (4xx, CTyun 900)
	KindUnavailable Kind = "unavailable" // 5xx or a network failure
	KindTimeout     Kind = "timeout"     // the deadline came first
)

// Kinds lists every kind, in the order of the README's table.
var Kinds = []Kind{KindValidation, KindConfig, KindAuth, KindNotFound, KindConflict, KindInProgress, KindQuota,
	KindThrottled, KindProvider, KindUnavailable, KindTimeout}

// TypeName is the error type name a Step Functions Retry or Catch matches: "ValidationError",
// "NotFoundError", ...
func (k Kind) TypeName() string {
	var b strings.Builder
	for _, part := range strings.Split(string(k), "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String() + "Error"
}

// Retryable reports whether a failure of this kind may succeed when tried again unchanged. An
// in_progress failure does: the execution holding the key finishes, or its lease ends.
func (k Kind) Retryable() bool {
	switch k {
	case KindInProgress, KindThrottled, KindUnavailable, KindTimeout:
		return true
	}
	return false
}

// HTTPStatus is the status the HTTP trigger answers a failure of this kind with.
func (k Kind) HTTPStatus() int {
	switch k {
	case KindValidation:
		return http.StatusBadRequest
	case KindNotFound:
		return http.StatusNotFound
	case KindConflict, KindInProgress, KindQuota:
		// 409 for a request whose key is still being processed, as the IETF Idempotency-Key
		// header draft answers it.
		return http.StatusConflict
	case KindThrottled:
		return http.StatusTooManyRequests
	case KindConfig:
		return http.StatusInternalServerError
	case KindAuth, KindProvider:
		return http.StatusBadGateway
	case KindUnavailable:
		return http.StatusServiceUnavailable
	case KindTimeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// Error is the one error type of lbfn. Every layer returns it (or wraps a cause in it), and
// the result JSON carries it as "error". It never holds a secret.
type Error struct {
	Kind    Kind   `json:"kind"`
	Message string `json:"message"`
	// Retryable is Kind.Retryable() (Errorf, Wrap and AsError set it so) but for two
	// documented exceptions, both made where the error is made: a refusal that says it
	// passes though its kind does not (a Huawei 409 for a load balancer being updated, see
	// huaweicloud's responseError), and a create that may have happened without an
	// idempotency token (see huaweicloud's reconcile), which is never retryable whatever its
	// kind, since a blind retry could create a second resource. TestRetryableIsTheKinds
	// (immutable_test.go) holds every error the module builds to that.
	Retryable       bool                 `json:"retryable"`
	Violations      []validate.Violation `json:"violations"`
	ProviderCode    string               `json:"providerCode"`
	ProviderMessage string               `json:"providerMessage"`
	HTTPStatus      int                  `json:"httpStatus"`
	RequestID       string               `json:"requestId"`
	// Attempts is how many requests were sent before giving up (0: none).
	Attempts int `json:"-"`
	// Err is the underlying cause, for errors.Is and logs; it is not part of the JSON.
	Err error `json:"-"`
}

func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Kind)
	}
	return string(e.Kind) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// An *Error is a value once made: AsError hands back the very error it was given, which a
// result, a log line or a store may hold too, so code that did not make an error derives a
// changed copy with the With methods below and never assigns to its fields
// (TestNoCodeChangesAnErrorOnceMade in immutable_test.go finds any code that does).

// WithAttempts returns a copy of e that says n requests were sent.
func (e *Error) WithAttempts(n int) *Error {
	c := *e
	c.Attempts = n
	return &c
}

// WithMessage returns a copy of e with the message msg.
func (e *Error) WithMessage(msg string) *Error {
	c := *e
	c.Message = msg
	return &c
}

// WithText returns a copy of e with both texts (message and providerMessage) passed through
// f, and the *Error values among its causes likewise, so a copy can be made safe to show
// (package redact) without touching the original.
func (e *Error) WithText(f func(string) string) *Error {
	c := *e
	c.Message, c.ProviderMessage = f(e.Message), f(e.ProviderMessage)
	if cause, ok := e.Err.(*Error); ok && cause != nil {
		c.Err = cause.WithText(f)
	}
	return &c
}

// Errorf returns an error of the given kind, retryable when the kind is.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: sprintf(format, args...), Retryable: kind.Retryable()}
}

// Wrap returns an error of the given kind with cause err; the message is msg, or err's text
// when msg is empty.
func Wrap(kind Kind, err error, msg string) *Error {
	if msg == "" && err != nil {
		msg = err.Error()
	}
	return &Error{Kind: kind, Message: msg, Retryable: kind.Retryable(), Err: err}
}

// Invalid returns the validation error for a list of violations: the message is the first
// violation (with a count of the rest, those the list leaves out too), the list carries them.
func Invalid(vs []validate.Violation) *Error {
	msg := "invalid request"
	if len(vs) > 0 {
		msg = vs[0].String()
		if n := validate.Count(vs); n > 1 {
			msg += sprintf(" (and %d more)", n-1)
		}
	}
	return &Error{Kind: KindValidation, Message: msg, Violations: vs}
}

// AsError returns err as an *Error, classifying errors that are not one: a context deadline is
// a timeout, a cancellation is unavailable (the caller went away; try again), anything else is
// unavailable.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		if e == nil { // a typed nil *Error returned as error: still a failure, and no panic
			return &Error{Kind: KindUnavailable, Message: "failed without an error", Retryable: true}
		}
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Wrap(KindTimeout, err, "deadline exceeded before the provider answered")
	}
	return Wrap(KindUnavailable, err, "")
}
