// Package lambdatest runs a function binary the way AWS Lambda does, for tests: a fake
// Runtime API on loopback, the binary started with AWS_LAMBDA_RUNTIME_API pointing at it, and
// Invoke to hand it one event and read its answer.
//
//	bin, err := lambdatest.Build(dir, "github.com/lbfn/lbfn/functions/huawei-create-pool")
//	fn, err := lambdatest.Start(bin, []string{"HUAWEICLOUD_SDK_AK=...", ...})
//	defer fn.Close()
//	resp, errType, err := fn.Invoke(event, 10*time.Second)
//
// It serves the real protocol (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
// GET /2018-06-01/runtime/invocation/next with the Lambda-Runtime-Aws-Request-Id,
// Lambda-Runtime-Deadline-Ms and Lambda-Runtime-Invoked-Function-Arn headers, POST
// .../invocation/{id}/response and .../invocation/{id}/error ({"errorType","errorMessage"}),
// POST /2018-06-01/runtime/init/error, and the Extensions API register call aws-lambda-go makes
// for lambda.WithEnableSIGTERM. It is test-only: no function binary links it.
package lambdatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Build compiles the main package pkg (an import path, or a directory path starting with
// "./" or "/") as Lambda's bootstrap is built, with CGO_ENABLED=0 and -tags lambda.norpc, for
// the host, into dir, and returns the binary's path. Build it once (in TestMain) and Start it
// as often as needed.
func Build(dir, pkg string) (string, error) {
	out := filepath.Join(dir, strings.ReplaceAll(strings.Trim(pkg, "./"), "/", "_"))
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("lambdatest: go build %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

// FunctionName is the AWS_LAMBDA_FUNCTION_NAME a started function gets unless env sets one.
const FunctionName = "lbfn-test"

// Function is one running function process and its Runtime API.
type Function struct {
	srv     *httptest.Server
	cmd     *exec.Cmd
	logs    lockedBuffer
	pending chan *invocation
	closing chan struct{}
	exited  chan struct{}
	exitErr error
	nextID  atomic.Int64

	mu        sync.Mutex
	inflight  map[string]*invocation
	initError *Error
	closeOnce sync.Once
}

// Error is a function error as the Runtime API receives it.
type Error struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

type invocation struct {
	id       string
	event    []byte
	deadline time.Time
	done     chan result
}

type result struct {
	body    []byte
	errType string
}

// Start runs the binary with exactly env (nothing of the test process's environment leaks
// in, so no real credential does) plus AWS_LAMBDA_RUNTIME_API, and defaults for
// AWS_LAMBDA_FUNCTION_NAME, AWS_REGION (us-east-1) and AWS_LAMBDA_LOG_FORMAT (JSON) unless env
// sets them. Close stops it.
func Start(binary string, env []string) (*Function, error) {
	f := &Function{
		pending:  make(chan *invocation, 64),
		closing:  make(chan struct{}),
		exited:   make(chan struct{}),
		inflight: map[string]*invocation{},
	}
	f.srv = httptest.NewServer(f.routes())
	full := []string{
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(f.srv.URL, "http://"),
		"AWS_LAMBDA_FUNCTION_NAME=" + FunctionName,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_REGION=us-east-1",
		"AWS_LAMBDA_LOG_FORMAT=JSON",
	}
	full = append(full, env...) // later entries win in os/exec
	f.cmd = exec.Command(binary)
	f.cmd.Env = full
	f.cmd.Stdout = &f.logs
	f.cmd.Stderr = &f.logs
	if err := f.cmd.Start(); err != nil {
		f.srv.Close()
		return nil, fmt.Errorf("lambdatest: starting %s: %v", binary, err)
	}
	go func() {
		f.exitErr = f.cmd.Wait()
		close(f.exited)
	}()
	return f, nil
}

// Invoke hands event to the function with a deadline timeout from now, as Lambda does, and
// waits for its answer. On success response is the payload and errType is empty; on a
// function error response is the errorMessage and errType the errorType. err reports a
// failure of the harness or the process: it exited, reported an init error, or did not
// answer within timeout plus a grace second.
func (f *Function) Invoke(event []byte, timeout time.Duration) (response []byte, errType string, err error) {
	inv := &invocation{
		id:       "req-" + strconv.FormatInt(f.nextID.Add(1), 10),
		event:    event,
		deadline: time.Now().Add(timeout),
		done:     make(chan result, 1),
	}
	f.mu.Lock()
	f.inflight[inv.id] = inv
	initErr := f.initError
	f.mu.Unlock()
	if initErr != nil {
		return nil, "", fmt.Errorf("lambdatest: the function reported an init error %s: %s", initErr.Type, initErr.Message)
	}
	select {
	case f.pending <- inv:
	case <-f.exited:
		return nil, "", f.exitError()
	}
	select {
	case r := <-inv.done:
		return r.body, r.errType, nil
	case <-f.exited:
		return nil, "", f.exitError()
	case <-time.After(timeout + time.Second):
		return nil, "", fmt.Errorf("lambdatest: no answer to %s within %s\n%s", inv.id, timeout, f.Logs())
	}
}

// InvokeJSON is Invoke with the event marshalled from v.
func (f *Function) InvokeJSON(v any, timeout time.Duration) ([]byte, string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, "", err
	}
	return f.Invoke(b, timeout)
}

// Signal sends sig to the process (syscall.SIGTERM: what Lambda sends at shutdown).
func (f *Function) Signal(sig os.Signal) error { return f.cmd.Process.Signal(sig) }

// Exited returns a channel closed when the process has exited, and ExitError then says how:
// nil for status 0.
func (f *Function) Exited() <-chan struct{} { return f.exited }

// ExitError is the process's exit status once Exited is closed: nil for status 0.
func (f *Function) ExitError() error {
	<-f.exited
	return f.exitErr
}

// Logs returns what the process wrote to stdout and stderr so far.
func (f *Function) Logs() string { return f.logs.String() }

// Pid is the process's id, for a benchmark that reads its /proc entries while it runs.
func (f *Function) Pid() int { return f.cmd.Process.Pid }

// ProcessState is the exited process's state once Close has returned (nil before): its
// resource usage gives the CPU time a benchmark reports. (Not the peak RSS: Linux counts the
// parent's in a child's maxrss across fork and exec; read VmHWM through Pid instead.)
func (f *Function) ProcessState() *os.ProcessState {
	select {
	case <-f.exited:
		return f.cmd.ProcessState
	default:
		return nil
	}
}

// Close stops the process and the Runtime API.
func (f *Function) Close() error {
	f.closeOnce.Do(func() {
		close(f.closing)
		_ = f.cmd.Process.Kill()
		<-f.exited
		f.srv.Close()
	})
	return nil
}

func (f *Function) exitError() error {
	return fmt.Errorf("lambdatest: the function exited (%v)\n%s", f.exitErr, f.Logs())
}

func (f *Function) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", f.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.finish(w, r.PathValue("id"), result{body: body})
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var e Error
		_ = json.Unmarshal(body, &e)
		if e.Type == "" {
			e.Type = r.Header.Get("Lambda-Runtime-Function-Error-Type")
		}
		f.finish(w, r.PathValue("id"), result{body: []byte(e.Message), errType: e.Type})
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var e Error
		_ = json.Unmarshal(body, &e)
		f.mu.Lock()
		f.initError = &e
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	// aws-lambda-go registers an internal extension to receive SIGTERM; its event/next call
	// is meant to block for the life of the sandbox.
	mux.HandleFunc("POST /2020-01-01/extension/register", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Lambda-Extension-Identifier", "ext-"+r.Header.Get("Lambda-Extension-Name"))
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{}`)
	})
	mux.HandleFunc("GET /2020-01-01/extension/event/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-f.closing:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	return mux
}

func (f *Function) next(w http.ResponseWriter, r *http.Request) {
	select {
	case inv := <-f.pending:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:"+FunctionName)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0")
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.event)
	case <-f.closing:
		w.WriteHeader(http.StatusServiceUnavailable)
	case <-r.Context().Done():
	}
}

func (f *Function) finish(w http.ResponseWriter, id string, res result) {
	f.mu.Lock()
	inv, ok := f.inflight[id]
	delete(f.inflight, id)
	f.mu.Unlock()
	if !ok {
		http.Error(w, `{"errorType":"InvalidRequestID","errorMessage":"unknown request id"}`, http.StatusBadRequest)
		return
	}
	inv.done <- res
	w.WriteHeader(http.StatusAccepted)
}

// HaveGo reports whether Build can run (the go tool is on PATH).
func HaveGo() bool {
	_, err := exec.LookPath("go")
	return err == nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
