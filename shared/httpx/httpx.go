// Package httpx sends signed requests to the providers: one fresh signature per attempt, the
// exact same body bytes every time, and retries of what is safe to retry (throttling with its
// Retry-After, 5xx, connection failures before the request was written), with exponential
// backoff and jitter, bounded by attempts and by the caller's context deadline.
package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/lbfn/lbfn/shared/op"
)

// Policy bounds the retries of one call.
type Policy struct {
	MaxAttempts     int           // attempts in all, first included; default 4
	InitialInterval time.Duration // first backoff; default 200ms
	MaxInterval     time.Duration // backoff cap; default 5s
	Multiplier      float64       // growth per attempt; default 2
	// Jitter is the randomization factor in (0,1]: default (0) 0.5, so that functions
	// throttled together do not retry together; negative for none.
	Jitter float64
	// MaxRetryAfter is the longest Retry-After honoured; a longer one ends the call (the
	// failure is still retryable by the caller). Default 30s.
	MaxRetryAfter time.Duration
	// RetryAmbiguous allows a retry after the request was written but no answer came, which
	// is safe only when the provider deduplicates (a client token) or the caller reconciles a
	// duplicate (a name conflict looked up afterwards).
	RetryAmbiguous bool
}

func (p Policy) withDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.InitialInterval <= 0 {
		p.InitialInterval = 200 * time.Millisecond
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = 5 * time.Second
	}
	if p.Multiplier < 1 {
		p.Multiplier = 2
	}
	switch {
	case p.Jitter == 0:
		p.Jitter = 0.5
	case p.Jitter < 0:
		p.Jitter = 0
	case p.Jitter > 1:
		p.Jitter = 1
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 30 * time.Second
	}
	return p
}

// Request is one provider call: the same bytes are sent on every attempt.
type Request struct {
	Method string
	URL    string
	Header http.Header // fixed headers; the Signer adds its own per attempt
	Body   []byte
}

// A Signer adds authentication headers to one attempt. It is called before every attempt, so
// dates, nonces and request ids are fresh each time; body is exactly what is sent.
type Signer func(req *http.Request, body []byte) error

// Response is a provider's answer.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// Attempts is how many requests were sent to get this answer.
	Attempts int
}

// Retryable decides whether an answer is worth another attempt, and after how long if the
// provider said (0: use the backoff).
type Retryable func(*Response) (retry bool, after time.Duration)

// DefaultRetryable retries 429 (honouring Retry-After) and 500, 502, 503, 504. Never 401, any
// other 4xx, or 501.
func DefaultRetryable(r *Response) (bool, time.Duration) {
	switch r.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true, RetryAfter(r.Header)
	}
	return false, 0
}

// RetryAfter reads a Retry-After header in seconds or as an HTTP date; 0 when absent.
func RetryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		if s > int64(math.MaxInt64/time.Second) { // would overflow: "never", in effect
			return time.Duration(math.MaxInt64)
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// NewHTTPClient returns the *http.Client of lbfn's outbound calls: timeout bounds one attempt
// (zero: only the context does), and it never follows a redirect. Build every client with it
// (or hand one to Client, which enforces the same).
func NewHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: NoRedirect}
}

// NoRedirect is the CheckRedirect of every client: a 3xx is the answer, handed to the caller
// like any other status (and so reported as a failure of the call), never followed. A
// redirect would carry the request, its signature and its security token to a host nobody
// configured, and a caller-given URL (replyTo) could be bounced to a metadata or private
// address after its checks.
func NoRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// WithoutRedirects returns a copy of hc (nil: a client without a timeout) that never follows
// a redirect, whatever hc's own CheckRedirect says. The copy shares hc's transport.
func WithoutRedirects(hc *http.Client) *http.Client {
	if hc == nil {
		return NewHTTPClient(0)
	}
	c := *hc
	c.CheckRedirect = NoRedirect
	return &c
}

// Client sends requests. The zero value uses a client without a timeout (the context bounds
// each call) and the default Policy. Whatever HTTP client it is given, it never follows a
// redirect.
type Client struct {
	HTTP      *http.Client
	Policy    Policy
	UserAgent string
}

// maxBody bounds what is read of an answer: create responses are small, and a misbehaving
// gateway must not exhaust a function's memory.
const maxBody = 4 << 20

// Do sends req until an answer is final or the policy is spent. It returns the last answer,
// whatever its status, when the provider answered (the caller maps statuses to errors), and
// an *op.Error of kind unavailable or timeout, carrying the attempts made, when no answer came.
func (c *Client) Do(ctx context.Context, req Request, sign Signer, retryable Retryable) (*Response, error) {
	p := c.Policy.withDefaults()
	if retryable == nil {
		retryable = DefaultRetryable
	}
	hc := WithoutRedirects(c.HTTP)
	b := &backoff.ExponentialBackOff{
		InitialInterval:     p.InitialInterval,
		RandomizationFactor: p.Jitter,
		Multiplier:          p.Multiplier,
		MaxInterval:         p.MaxInterval,
	}
	opts := []backoff.RetryOption{backoff.WithBackOff(b), backoff.WithMaxTries(uint(p.MaxAttempts))}
	if deadline, ok := ctx.Deadline(); ok {
		// The library stops when the next wait would cross MaxElapsedTime: that keeps every
		// sleep, Retry-After included, before the deadline. The caller's context already ends
		// early enough for it to answer (see op.Invocation), so no margin is kept here.
		budget := time.Until(deadline)
		if budget <= 0 {
			return nil, &op.Error{Kind: op.KindTimeout, Retryable: true,
				Message: "no time left before the deadline to call the provider"}
		}
		opts = append(opts, backoff.WithMaxElapsedTime(budget))
	}

	var attempts int // requests handed to the transport
	var last *Response
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		resp, err := c.attempt(ctx, hc, req, sign, p, &attempts)
		if err != nil {
			var ae *attemptError
			if errors.As(err, &ae) && ae.retry {
				return struct{}{}, err
			}
			return struct{}{}, backoff.Permanent(err)
		}
		resp.Attempts = attempts
		last = resp
		retry, after := retryable(resp)
		if !retry {
			return struct{}{}, nil
		}
		if after > p.MaxRetryAfter {
			return struct{}{}, backoff.Permanent(errGiveUp)
		}
		return struct{}{}, &statusError{status: resp.StatusCode, after: after}
	}, opts...)

	if last != nil && (err == nil || isStatusOrGiveUp(err)) {
		return last, nil
	}
	var ae *attemptError
	switch {
	case errors.As(err, &ae):
		return nil, &op.Error{Kind: ae.kind, Retryable: ae.kind.Retryable(), Attempts: attempts, Err: ae, Message: ae.message()}
	case errors.Is(err, context.DeadlineExceeded):
		return nil, &op.Error{Kind: op.KindTimeout, Retryable: true, Attempts: attempts, Err: err,
			Message: "deadline exceeded before the provider answered"}
	case errors.Is(err, context.Canceled):
		return nil, &op.Error{Kind: op.KindUnavailable, Retryable: true, Attempts: attempts, Err: err,
			Message: "call cancelled before the provider answered"}
	case err != nil:
		return nil, &op.Error{Kind: op.KindUnavailable, Retryable: true, Attempts: attempts, Err: err, Message: err.Error()}
	}
	return last, nil
}

var errGiveUp = errors.New("retry-after beyond the policy")

func isStatusOrGiveUp(err error) bool {
	var se *statusError
	return errors.As(err, &se) || errors.Is(err, errGiveUp)
}

// statusError asks the backoff loop for another attempt after a retryable answer.
type statusError struct {
	status int
	after  time.Duration
}

func (e *statusError) Error() string { return "HTTP " + strconv.Itoa(e.status) }

// As lets the backoff library see a provider's Retry-After as its own RetryAfterError.
func (e *statusError) As(target any) bool {
	if t, ok := target.(**backoff.RetryAfterError); ok && e.after > 0 {
		*t = &backoff.RetryAfterError{Duration: e.after}
		return true
	}
	return false
}

// attemptError is a failure to get any answer.
type attemptError struct {
	err     error
	kind    op.Kind
	written bool // the request reached the wire: the provider may have acted on it
	retry   bool
}

func (e *attemptError) Error() string { return e.message() }
func (e *attemptError) Unwrap() error { return e.err }

func (e *attemptError) message() string {
	if e.kind == op.KindTimeout {
		return "deadline exceeded before the provider answered"
	}
	if e.written {
		return "connection failed after the request was sent; the provider may have acted on it: " + e.err.Error()
	}
	return "could not reach the provider: " + e.err.Error()
}

// attempt sends req once, counting it in *sent once it is handed to the transport.
func (c *Client) attempt(ctx context.Context, hc *http.Client, req Request, sign Signer, p Policy, sent *int) (*Response, error) {
	var written atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			written.Store(true)
		}
	}}
	// A Timeout on the http.Client makes net/http start a goroutine and a timer for every
	// request; the same bound as a deadline of the attempt's own context costs a timer only.
	// The failure is classified by ctx as before: a slow attempt is not the caller's deadline.
	actx := ctx
	if hc.Timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, hc.Timeout)
		defer cancel() // after the body is read: the Timeout covered that too
		plain := *hc
		plain.Timeout = 0
		hc = &plain
	}
	hr, err := http.NewRequestWithContext(httptrace.WithClientTrace(actx, trace), req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return nil, &attemptError{err: err, kind: op.KindConfig}
	}
	for k, vs := range req.Header {
		hr.Header[k] = append([]string(nil), vs...)
	}
	if c.UserAgent != "" && hr.Header.Get("User-Agent") == "" {
		hr.Header.Set("User-Agent", c.UserAgent)
	}
	if sign != nil {
		if err := sign(hr, req.Body); err != nil {
			return nil, &attemptError{err: fmt.Errorf("signing: %w", err), kind: op.KindConfig}
		}
	}
	*sent++
	resp, err := hc.Do(hr)
	if err != nil {
		ae := &attemptError{err: err, kind: op.KindUnavailable, written: written.Load()}
		if ctx.Err() != nil {
			ae.kind = op.KindTimeout
			if errors.Is(ctx.Err(), context.Canceled) {
				ae.kind = op.KindUnavailable
			}
			return nil, ae
		}
		ae.retry = !ae.written || p.RetryAmbiguous
		var permanent interface{ Permanent() bool }
		if errors.As(err, &permanent) && permanent.Permanent() {
			ae.retry = false // a refused address (package egress) stays refused
		}
		return nil, ae
	}
	defer resp.Body.Close()
	body, err := readAll(io.LimitReader(resp.Body, maxBody), resp.ContentLength)
	if err != nil {
		// The provider answered a status but the body broke off: the request was processed.
		ae := &attemptError{err: err, kind: op.KindUnavailable, written: true, retry: p.RetryAmbiguous}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			ae.kind, ae.retry = op.KindTimeout, false
		}
		return nil, ae
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// readAll is io.ReadAll with a first buffer of the size the answer's Content-Length gives
// (at most maxBody; -1 when unknown): io.ReadAll starts at 512 bytes and grows, three times
// for a 1.5 kB answer.
func readAll(r io.Reader, length int64) ([]byte, error) {
	if length < 0 || length > maxBody {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, length+1) // one byte more, so the read that meets EOF needs no growth
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // longer than it said: grow as io.ReadAll does
		}
	}
}

// Ambiguous reports whether err says a request was written but never answered, so the
// provider may have acted on it: a caller that cannot deduplicate should look before retrying.
func Ambiguous(err error) bool {
	var ae *attemptError
	return errors.As(err, &ae) && ae.written
}
