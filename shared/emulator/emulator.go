// Package emulator is a faithful fake of the three clouds' load-balancer APIs, served as one
// http.Handler on the real paths: it verifies signatures with its own credentials, enforces
// the documented rules, answers with the providers' own bodies and status codes, remembers
// what was created, walks CTyun policies through in_progress to done, and injects faults on
// request. Tests, `make run` and the benchmarks use it; no function binary links it.
package emulator

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lbfn/lbfn/shared/redact"
)

// Demo credentials, accepted by default and printed by `make run`. DemoProjectID is the
// default Huawei project; like LocalStack's accounts, the demo credentials own every
// well-formed project id unless Options.HuaweiProjects binds them to some.
const (
	DemoAccessKey = "LBFNEMULATORAK"
	DemoSecretKey = "LBFNEMULATORSK"
	DemoProjectID = "0123456789abcdef0123456789abcdef"
)

// Options configures an Emulator. The zero value uses the demo credentials.
type Options struct {
	AccessKey string
	SecretKey redact.Secret
	// SecurityToken, when set, is required on Huawei requests (temporary credentials).
	SecurityToken redact.Secret
	// HuaweiProjects, when set, are the only Huawei projects the credentials have access to
	// (a strict binding, as a real account has); empty, they have access to any well-formed
	// project id (32 lower-case letters and digits), so the providers' own examples, with
	// their own project ids, work as they are.
	HuaweiProjects []string
	// CTyunPolls is how many in_progress answers a new CTyun clientToken gets before done.
	// Zero means 2; a negative value means done at once.
	CTyunPolls int
	// CTyunDoneAfter, when set, makes a clientToken answer in_progress until this long after
	// its first request, whatever the count (for benchmarks of the poll cadence).
	CTyunDoneAfter time.Duration
	// Now is the emulator's clock, for signature date checks. Default time.Now.
	Now func() time.Time
}

// Emulator is the fake cloud. Create one with New.
type Emulator struct {
	opts Options
	mux  *http.ServeMux

	mu       sync.Mutex
	faults   []Fault
	plan     FaultPlan
	requests []Recorded
	state    map[string]any // per-provider state, keyed by provider name; see each provider's file
}

// New returns an emulator serving all three providers.
func New(opts Options) *Emulator {
	if opts.AccessKey == "" {
		opts.AccessKey, opts.SecretKey = DemoAccessKey, redact.NewSecret(DemoSecretKey)
	}
	if opts.CTyunPolls == 0 {
		opts.CTyunPolls = 2
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Emulator{opts: opts, mux: http.NewServeMux(), state: map[string]any{}}
	for _, register := range providers {
		register(e)
	}
	return e
}

// providers are the registration functions of each provider's file, run by New.
var providers []func(*Emulator)

// handle registers h for pattern (a net/http ServeMux pattern) under provider's name.
func (e *Emulator) handle(provider, pattern string, h func(w http.ResponseWriter, r *http.Request, body []byte)) {
	e.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		e.serve(provider, w, r, h)
	})
}

// Recorded is one request the emulator received.
type Recorded struct {
	Provider string
	Method   string
	Path     string
	Header   http.Header
	Body     []byte
	Status   int // the status answered, 0 when the connection was dropped
}

// Fault is one injected failure. Faults are queued and each one is consumed by the next
// request that matches it.
type Fault struct {
	// Provider limits the fault to "jdcloud", "huaweicloud" or "ctyun"; empty matches any.
	Provider string
	// Latency delays the answer (or the drop).
	Latency time.Duration
	// Status answers this HTTP status instead of handling the request (429, 500, 503, 504).
	Status int
	// RetryAfter is sent as Retry-After (seconds) with Status.
	RetryAfter string
	// Drop closes the connection without answering and without handling the request.
	Drop bool
	// DropAfterHandling handles the request (creating the resource) and then closes the
	// connection without answering: the ambiguous failure.
	DropAfterHandling bool
}

// Inject queues faults.
func (e *Emulator) Inject(faults ...Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, faults...)
}

// A FaultPlan chooses the fault, if any, of a request that no queued fault matched: random
// fault injection at a rate, for soak tests. It sees the request as received (provider is
// "jdcloud", "huaweicloud" or "ctyun") and must be safe for concurrent use.
type FaultPlan func(provider string, r *http.Request) (Fault, bool)

// SetFaultPlan makes plan choose the faults of requests no queued fault matches; nil removes it.
func (e *Emulator) SetFaultPlan(plan FaultPlan) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.plan = plan
}

// Resource is one thing the emulator holds because a create made it.
type Resource struct {
	Provider string // "jdcloud", "huaweicloud" or "ctyun"
	// Collection is what it was created in: JD Cloud's "backends", a Huawei collection's
	// path ("/v3/{project_id}/elb/master-slave-pools"), CTyun's "policies".
	Collection string
	Name       string
	ID         string
}

// Resources returns every backend, pool and (done) policy created so far, for tests that
// count what a run made.
func (e *Emulator) Resources() []Resource {
	var all []Resource
	for _, b := range e.JDCloudBackends() {
		all = append(all, Resource{Provider: jdProvider, Collection: "backends", Name: b.Body.BackendName, ID: b.BackendID})
	}
	return append(append(all, e.huaweiResources()...), e.ctyunResources()...)
}

// Requests returns every request received so far.
func (e *Emulator) Requests() []Recorded {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Recorded(nil), e.requests...)
}

// RequestCount returns how many requests reached the emulator for provider ("" for all).
func (e *Emulator) RequestCount(provider string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, r := range e.requests {
		if provider == "" || r.Provider == provider {
			n++
		}
	}
	return n
}

// ServeHTTP implements http.Handler.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mux.ServeHTTP(w, r)
}

func (e *Emulator) takeFault(provider string) (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, f := range e.faults {
		if f.Provider == "" || f.Provider == provider {
			e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
			return f, true
		}
	}
	return Fault{}, false
}

// serve records the request, applies any fault, and runs h on a buffered writer so that a
// fault can still drop the connection after the request was handled.
func (e *Emulator) serve(provider string, w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request, []byte)) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rec := Recorded{Provider: provider, Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body}
	e.mu.Lock()
	idx := len(e.requests)
	e.requests = append(e.requests, rec)
	e.mu.Unlock()
	setStatus := func(status int) {
		e.mu.Lock()
		e.requests[idx].Status = status
		e.mu.Unlock()
	}

	f, faulty := e.takeFault(provider)
	if !faulty {
		e.mu.Lock()
		plan := e.plan
		e.mu.Unlock()
		if plan != nil {
			f, faulty = plan(provider, r)
		}
	}
	if faulty && f.Latency > 0 {
		select {
		case <-time.After(f.Latency):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case faulty && f.Drop:
		drop(w)
		return
	case faulty && f.Status != 0:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeFaultBody(provider, w, f.Status)
		setStatus(f.Status)
		return
	}

	buf := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h(buf, r, body)
	if faulty && f.DropAfterHandling {
		drop(w)
		return
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.WriteHeader(buf.status)
	_, _ = w.Write(buf.body.Bytes())
	setStatus(buf.status)
}

// drop closes the client's connection without a response.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // HTTP/2 or a recorder: abort the stream instead
}

// writeFaultBody answers an injected status with the provider's own error form.
func writeFaultBody(provider string, w http.ResponseWriter, status int) {
	text := http.StatusText(status)
	switch provider {
	case "jdcloud":
		code := strings.ToUpper(strings.ReplaceAll(text, " ", "_"))
		if status == http.StatusTooManyRequests {
			code = "HTTP_RATE_LIMIT_EXCEEDED"
		}
		writeJSON(w, status, map[string]any{"requestId": newID("req"),
			"error": map[string]any{"code": status, "status": code, "message": text}})
	case "huaweicloud":
		code := "ELB.8906"
		if status == http.StatusTooManyRequests {
			code = "APIGW.0308"
		}
		writeJSON(w, status, map[string]any{"error_msg": text, "error_code": code, "request_id": newID("")})
	default:
		// CTyun's gateway answers transport errors outside the 800/900 envelope; a plain page
		// like a real gateway's 502 exercises the non-JSON path.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "<html><body><h1>"+text+"</h1></body></html>")
	}
}

type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}
func (b *bufferedWriter) WriteHeader(status int) {
	if !b.wrote {
		b.status = status
		b.wrote = true
	}
}
