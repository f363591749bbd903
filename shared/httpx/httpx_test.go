package httpx

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/op"
)

// fast is a policy whose backoff is too short to slow the tests down.
func fast(attempts int) Policy {
	return Policy{MaxAttempts: attempts, InitialInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond, Jitter: -1}
}

// script answers the statuses in order, then 201; it records what each attempt carried.
type script struct {
	mu       sync.Mutex
	statuses []int
	header   http.Header // sent with every scripted status
	bodies   [][]byte
	headers  []http.Header
	arrivals []time.Time
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.bodies)
	s.bodies = append(s.bodies, body)
	s.headers = append(s.headers, r.Header.Clone())
	s.arrivals = append(s.arrivals, time.Now())
	s.mu.Unlock()
	if n < len(s.statuses) {
		for k, v := range s.header {
			w.Header()[k] = v
		}
		w.WriteHeader(s.statuses[n])
		_, _ = io.WriteString(w, `{"error":"`+strconv.Itoa(s.statuses[n])+`"}`)
		return
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, `{"id":"x"}`)
}

// seen returns what the attempts carried so far.
func (s *script) seen() (bodies [][]byte, headers []http.Header, arrivals []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...), append([]http.Header(nil), s.headers...), append([]time.Time(nil), s.arrivals...)
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

func serve(t testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func post(url string) Request {
	return Request{Method: http.MethodPost, URL: url + "/v2/pools", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"pool":{"name":"p"}}`)}
}

func TestRetriedStatuses(t *testing.T) {
	for _, status := range []int{429, 500, 502, 503, 504} {
		s := &script{statuses: []int{status, status}}
		c := &Client{Policy: fast(4)}
		resp, err := c.Do(context.Background(), post(serve(t, s)), nil, nil)
		if err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		if resp.StatusCode != 201 || resp.Attempts != 3 || s.count() != 3 || string(resp.Body) != `{"id":"x"}` {
			t.Errorf("%d twice then 201: got %d after %d attempts (%d requests), body %s", status, resp.StatusCode, resp.Attempts, s.count(), resp.Body)
		}
	}
}

func TestNotRetriedStatuses(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 409, 501} {
		s := &script{statuses: []int{status, status, status}}
		c := &Client{Policy: fast(4)}
		resp, err := c.Do(context.Background(), post(serve(t, s)), nil, nil)
		if err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		if resp.StatusCode != status || resp.Attempts != 1 || s.count() != 1 {
			t.Errorf("%d: got %d after %d attempts (%d requests), want exactly one request", status, resp.StatusCode, resp.Attempts, s.count())
		}
		if want := `{"error":"` + strconv.Itoa(status) + `"}`; string(resp.Body) != want {
			t.Errorf("%d: body %s", status, resp.Body)
		}
	}
}

func TestMaxAttempts(t *testing.T) {
	for _, n := range []int{1, 2, 5} {
		s := &script{statuses: []int{503, 503, 503, 503, 503, 503, 503}}
		c := &Client{Policy: fast(n)}
		resp, err := c.Do(context.Background(), post(serve(t, s)), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 503 || resp.Attempts != n || s.count() != n {
			t.Errorf("MaxAttempts %d: got %d after %d attempts (%d requests)", n, resp.StatusCode, resp.Attempts, s.count())
		}
	}
}

// The same bytes go out every time; the signer signs each attempt afresh and sees those bytes.
func TestSameBodyFreshSignature(t *testing.T) {
	s := &script{statuses: []int{503, 429, 500}}
	req := post(serve(t, s))
	var signed [][]byte
	sign := func(r *http.Request, body []byte) error {
		signed = append(signed, body)
		if r.Header.Get("X-Signature") != "" {
			t.Error("the signer sees a header left by the previous attempt")
		}
		r.Header.Set("X-Signature", "sig-"+strconv.Itoa(len(signed)))
		return nil
	}
	c := &Client{Policy: fast(4), UserAgent: "lbfn-test/1"}
	resp, err := c.Do(context.Background(), req, sign, nil)
	if err != nil || resp.StatusCode != 201 || resp.Attempts != 4 {
		t.Fatalf("Do = %+v, %v", resp, err)
	}
	if len(signed) != 4 {
		t.Fatalf("signer called %d times for 4 attempts", len(signed))
	}
	bodies, headers, _ := s.seen()
	for i := range 4 {
		if string(bodies[i]) != string(req.Body) || string(signed[i]) != string(req.Body) {
			t.Errorf("attempt %d sent %q, signed %q, want %q", i+1, bodies[i], signed[i], req.Body)
		}
		h := headers[i]
		if got := h.Get("X-Signature"); got != "sig-"+strconv.Itoa(i+1) {
			t.Errorf("attempt %d signature %q", i+1, got)
		}
		if h.Get("Content-Type") != "application/json" || h.Get("User-Agent") != "lbfn-test/1" {
			t.Errorf("attempt %d headers %v", i+1, h)
		}
		if h.Get("Content-Length") != "" && h.Get("Content-Length") != strconv.Itoa(len(req.Body)) {
			t.Errorf("attempt %d Content-Length %s", i+1, h.Get("Content-Length"))
		}
	}
	if req.Header.Get("X-Signature") != "" {
		t.Error("Do let the signer change the caller's headers")
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	tests := []struct {
		name  string
		value func() string
	}{
		{"seconds", func() string { return "1" }},
		// Three seconds on, to the second: still two seconds or more away when the 429
		// is read, however slowly.
		{"HTTP date", func() string { return time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			value := tt.value()
			s := &script{statuses: []int{429}, header: http.Header{"Retry-After": {value}}}
			c := &Client{Policy: fast(3)}
			resp, err := c.Do(context.Background(), post(serve(t, s)), nil, nil)
			if err != nil || resp.StatusCode != 201 || resp.Attempts != 2 {
				t.Fatalf("Do = %+v, %v", resp, err)
			}
			// Lower bounds only (the backoff alone would have waited a millisecond): a
			// delay of seconds comes no sooner after the first answer, a date no sooner
			// than that date.
			_, _, arrivals := s.seen()
			if date, err := http.ParseTime(value); err == nil {
				if arrivals[1].Before(date) {
					t.Errorf("second attempt %v before the Retry-After date", date.Sub(arrivals[1]))
				}
			} else if gap := arrivals[1].Sub(arrivals[0]); gap < 900*time.Millisecond {
				t.Errorf("second attempt %v after the first, before the Retry-After", gap)
			}
		})
	}
}

func TestRetryAfterBeyondPolicyGivesUp(t *testing.T) {
	for _, status := range []int{429, 503} {
		s := &script{statuses: []int{status, status}, header: http.Header{"Retry-After": {"120"}}}
		c := &Client{Policy: fast(4)} // MaxRetryAfter defaults to 30s
		resp, err := c.Do(context.Background(), post(serve(t, s)), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != status || resp.Attempts != 1 || s.count() != 1 || resp.Header.Get("Retry-After") != "120" {
			t.Errorf("%d with Retry-After 120: got %d after %d attempts", status, resp.StatusCode, resp.Attempts)
		}
	}
	// Nor does it sleep past the deadline for one within the policy.
	s := &script{statuses: []int{429, 429}, header: http.Header{"Retry-After": {"25"}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := (&Client{Policy: fast(4)}).Do(ctx, post(serve(t, s)), nil, nil)
	if err != nil || resp.StatusCode != 429 || s.count() != 1 || ctx.Err() != nil {
		t.Errorf("Retry-After beyond the deadline: %+v, %v, ctx %v", resp, err, ctx.Err())
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		value string
		min   time.Duration
		max   time.Duration
	}{
		{"", 0, 0},
		{"0", 0, 0},
		{"7", 7 * time.Second, 7 * time.Second},
		{" 3 ", 3 * time.Second, 3 * time.Second},
		{"-1", 0, 0},
		{"soon", 0, 0},
		{"1.5", 0, 0},
		{"99999999999999", time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)},
		{time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), 0, 0},
		{time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 58 * time.Minute, time.Hour},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		if got := RetryAfter(h); got < tt.min || got > tt.max {
			t.Errorf("RetryAfter(%q) = %v, want in [%v, %v]", tt.value, got, tt.min, tt.max)
		}
	}
}

// Retries stop at the caller's deadline: no backoff sleeps past it, so a provider answering
// 503 for ever is given up on after the attempts that fit, not after MaxAttempts.
func TestDeadlineRespected(t *testing.T) {
	s := &script{statuses: make([]int, 1000)}
	for i := range s.statuses {
		s.statuses[i] = 503
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	p := Policy{MaxAttempts: 1000, InitialInterval: 20 * time.Millisecond, MaxInterval: 40 * time.Millisecond, Jitter: -1}
	resp, err := (&Client{Policy: p}).Do(ctx, post(serve(t, s)), nil, nil)
	if err != nil {
		// On a slow machine the last attempt may still be waiting at the deadline, and give up.
		if e := opError(t, resp, err); e.Kind != op.KindTimeout || e.Attempts < 2 || e.Attempts >= 1000 {
			t.Fatalf("Do = %+v, want the last 503 or a timeout after several attempts", e)
		}
		return
	}
	if resp.StatusCode != 503 || resp.Attempts < 2 || resp.Attempts >= 1000 || s.count() != resp.Attempts {
		t.Errorf("got %d after %d attempts (%d requests)", resp.StatusCode, resp.Attempts, s.count())
	}
}

// A deadline already past sends nothing and is a retryable timeout.
func TestDeadlinePast(t *testing.T) {
	s := &script{}
	past, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	resp, err := (&Client{Policy: fast(4)}).Do(past, post(serve(t, s)), nil, nil)
	if e := opError(t, resp, err); e.Kind != op.KindTimeout || !e.Retryable || e.Attempts != 0 || s.count() != 0 {
		t.Errorf("past deadline: %+v after %d requests", e, s.count())
	}
}

// A provider that never answers is given up on at the caller's deadline: a retryable timeout,
// ambiguous since the request was written.
func TestHungProviderEndsAtDeadline(t *testing.T) {
	release := make(chan struct{})
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := (&Client{Policy: fast(4)}).Do(ctx, post(url), nil, nil)
	e := opError(t, resp, err)
	if e.Kind != op.KindTimeout || !e.Retryable || e.Attempts != 1 || !Ambiguous(err) {
		t.Errorf("hung provider: %+v ambiguous=%v", e, Ambiguous(err))
	}
}

// An http.Client Timeout bounds each attempt, not the call: an attempt cut off by it is a
// provider that did not answer (unavailable, ambiguous once written), retried only when the
// policy allows ambiguous retries, while the caller's own deadline is untouched.
func TestClientTimeoutBoundsEachAttempt(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int32
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.ReadAll(r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer close(release)
	for _, tt := range []struct {
		name      string
		ambiguous bool
		attempts  int
	}{{"not retried", false, 1}, {"retried when ambiguous retries are safe", true, 3}} {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			p := fast(3)
			p.RetryAmbiguous = tt.ambiguous
			c := &Client{HTTP: &http.Client{Timeout: 50 * time.Millisecond}, Policy: p}
			resp, err := c.Do(context.Background(), post(url), nil, nil)
			e := opError(t, resp, err)
			if e.Kind != op.KindUnavailable || e.Attempts != tt.attempts || int(hits.Load()) != tt.attempts || !Ambiguous(err) {
				t.Errorf("got %+v after %d requests, ambiguous=%v", e, hits.Load(), Ambiguous(err))
			}
			if c.HTTP.Timeout != 50*time.Millisecond {
				t.Error("Do changed the caller's http.Client")
			}
		})
	}
}

func TestConnectionRefusedRetried(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	resp, err := (&Client{Policy: fast(3)}).Do(context.Background(), post("http://"+addr), nil, nil)
	e := opError(t, resp, err)
	if e.Kind != op.KindUnavailable || !e.Retryable || e.Attempts != 3 || Ambiguous(err) {
		t.Errorf("connection refused: %+v ambiguous=%v", e, Ambiguous(err))
	}
}

// failingTransport fails before anything is written, then hands over to the real transport.
type failingTransport struct {
	mu    sync.Mutex
	fails int
}

func (f *failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return nil, errors.New("connection closed before the request was written")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestFailureBeforeWriteRetried(t *testing.T) {
	s := &script{}
	c := &Client{HTTP: &http.Client{Transport: &failingTransport{fails: 2}}, Policy: fast(4)}
	resp, err := c.Do(context.Background(), post(serve(t, s)), nil, nil)
	if err != nil || resp.StatusCode != 201 || resp.Attempts != 3 || s.count() != 1 {
		t.Errorf("Do = %+v, %v after %d requests", resp, err, s.count())
	}
	c = &Client{HTTP: &http.Client{Transport: &failingTransport{fails: 10}}, Policy: fast(2)}
	_, err = c.Do(context.Background(), post(serve(t, s)), nil, nil)
	if e := opError(t, nil, err); e.Kind != op.KindUnavailable || e.Attempts != 2 || Ambiguous(err) {
		t.Errorf("always failing before write: %+v", e)
	}
}

// closer reads the whole request, so it reached the provider, then drops the connection.
type closer struct {
	mu sync.Mutex
	n  int
}

func (c *closer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.ReadAll(r.Body)
	c.mu.Lock()
	c.n++
	c.mu.Unlock()

	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestAmbiguousFailure(t *testing.T) {
	for _, retry := range []bool{false, true} {
		h := &closer{}
		p := fast(3)
		p.RetryAmbiguous = retry
		resp, err := (&Client{Policy: p}).Do(context.Background(), post(serve(t, h)), nil, nil)
		e := opError(t, resp, err)
		want := 1
		if retry {
			want = 3
		}
		h.mu.Lock()
		n := h.n
		h.mu.Unlock()
		if e.Kind != op.KindUnavailable || !e.Retryable || e.Attempts != want || n != want || !Ambiguous(err) {
			t.Errorf("RetryAmbiguous=%v: %+v after %d requests, ambiguous=%v; want %d", retry, e, n, Ambiguous(err), want)
		}
	}
	if Ambiguous(nil) || Ambiguous(errors.New("x")) || Ambiguous(op.Errorf(op.KindUnavailable, "x")) {
		t.Error("Ambiguous true for an error that is not an unanswered write")
	}
}

func TestLocalFailures(t *testing.T) {
	s := &script{}
	url := serve(t, s)
	c := &Client{Policy: fast(3)}
	_, err := c.Do(context.Background(), post(url), func(*http.Request, []byte) error { return errors.New("no key") }, nil)
	if e := opError(t, nil, err); e.Kind != op.KindConfig || e.Retryable || e.Attempts != 0 {
		t.Errorf("signer failure: %+v", e)
	}
	_, err = c.Do(context.Background(), Request{Method: "POST", URL: "http://[::1"}, nil, nil)
	if e := opError(t, nil, err); e.Kind != op.KindConfig || e.Attempts != 0 {
		t.Errorf("bad URL: %+v", e)
	}
	if s.count() != 0 {
		t.Errorf("%d requests sent", s.count())
	}
}

func TestCancelled(t *testing.T) {
	s := &script{statuses: []int{503, 503, 503}}
	ctx, cancel := context.WithCancel(context.Background())
	p := Policy{MaxAttempts: 4, InitialInterval: time.Minute, Jitter: -1}
	go func() {
		for s.count() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := (&Client{Policy: p}).Do(ctx, post(serve(t, s)), nil, nil)
	if e := opError(t, nil, err); e.Kind != op.KindUnavailable || !e.Retryable || e.Attempts != 1 {
		t.Errorf("cancelled while waiting: %+v", e)
	}
}

func TestCustomRetryable(t *testing.T) {
	s := &script{statuses: []int{409, 503}}
	retryConflict := func(r *Response) (bool, time.Duration) { return r.StatusCode == 409, 0 }
	resp, err := (&Client{Policy: fast(4)}).Do(context.Background(), post(serve(t, s)), nil, retryConflict)
	if err != nil || resp.StatusCode != 503 || resp.Attempts != 2 {
		t.Errorf("Do = %+v, %v", resp, err)
	}
}

func TestPolicyDefaults(t *testing.T) {
	p := Policy{}.withDefaults()
	want := Policy{MaxAttempts: 4, InitialInterval: 200 * time.Millisecond, MaxInterval: 5 * time.Second,
		Multiplier: 2, Jitter: 0.5, MaxRetryAfter: 30 * time.Second}
	if p != want {
		t.Errorf("defaults %+v, want %+v", p, want)
	}
	if j := (Policy{Jitter: -1}).withDefaults().Jitter; j != 0 {
		t.Errorf("negative jitter gives %v, want none", j)
	}
	if j := (Policy{Jitter: 3}).withDefaults().Jitter; j != 1 {
		t.Errorf("jitter 3 gives %v, want 1", j)
	}
}

func opError(t *testing.T, resp *Response, err error) *op.Error {
	t.Helper()
	if resp != nil {
		t.Fatalf("got a response %d, want an error", resp.StatusCode)
	}
	var e *op.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *op.Error", err, err)
	}
	return e
}

func BenchmarkDo(b *testing.B) {
	url := serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"pool":{"id":"8ee9f6b5-c5d0-4d5a-9d0a-1b0e5c1f6a2b","name":"web"}}`)
	}))
	c := &Client{}
	req := post(url)
	sign := func(r *http.Request, body []byte) error { r.Header.Set("Authorization", "test"); return nil }
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Do(context.Background(), req, sign, nil)
		if err != nil || resp.StatusCode != 201 {
			b.Fatal(resp, err)
		}
	}
}
