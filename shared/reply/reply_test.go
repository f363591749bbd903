package reply_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/reply"
)

func TestFinal(t *testing.T) {
	tests := []struct {
		name string
		res  *op.Result
		want bool
	}{
		{"created", &op.Result{OK: true, Status: op.StatusCreated}, true},
		{"validated", &op.Result{OK: true, Status: op.StatusValidated}, true},
		{"in progress", &op.Result{OK: true, Status: op.StatusInProgress}, false},
		{"permanent failure", &op.Result{Error: op.Errorf(op.KindConflict, "exists")}, true},
		{"retryable failure", &op.Result{Error: op.Errorf(op.KindUnavailable, "503")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reply.Final(tt.res); got != tt.want {
				t.Errorf("Final = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPost(t *testing.T) {
	var calls atomic.Int32
	var got op.Result
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("got %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("body is not a result: %v", err)
		}
	}))
	defer srv.Close()

	res := &op.Result{OK: true, Function: "jdcloud-create-backend", Provider: "jdcloud", Status: op.StatusCreated, ID: "backend-1"}
	if err := (reply.Poster{}).Post(context.Background(), srv.URL, res); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 || got.ID != "backend-1" || !got.OK {
		t.Errorf("calls = %d, posted %+v", calls.Load(), got)
	}
}

func TestPostFailureHidesURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	}))
	url := srv.URL + "/hooks/secret-token"
	err := (reply.Poster{}).Post(context.Background(), url, &op.Result{OK: true})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("err = %v, want the 403", err)
	}
	srv.Close()
	err = (reply.Poster{}).Post(context.Background(), url, &op.Result{OK: true})
	if err == nil || strings.Contains(err.Error(), "secret-token") {
		t.Fatalf("err = %v: want an error without the URL", err)
	}
}

// TestPostNeverFollowsARedirect: a reply server answering 3xx toward the metadata address, a
// private address or another loopback server gets a failed post, and nothing follows it.
func TestPostNeverFollowsARedirect(t *testing.T) {
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed.Add(1) }))
	defer target.Close()
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, location := range []string{"http://169.254.169.254/latest/meta-data/iam/", "http://10.0.0.1/", target.URL + "/next"} {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				http.Redirect(w, r, location, status)
			}))
			err := (reply.Poster{}).Post(context.Background(), srv.URL+"/reply", &op.Result{OK: true})
			srv.Close()
			if err == nil || !strings.Contains(err.Error(), "redirect") {
				t.Errorf("%d to %s: err %v, want a failed post naming the redirect", status, location, err)
			}
			if calls.Load() != 1 {
				t.Errorf("%d to %s: %d posts, want 1", status, location, calls.Load())
			}
		}
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("a redirect was followed %d times", n)
	}
}

// TestPostRefusesTheRuntimeAPI: a reply URL naming the Lambda Runtime API's address, by
// number or by name, is refused and never reached, though it is loopback.
func TestPostRefusesTheRuntimeAPI(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) }))
	defer srv.Close()
	hostport := strings.TrimPrefix(srv.URL, "http://")
	t.Setenv("AWS_LAMBDA_RUNTIME_API", hostport)
	_, port, _ := strings.Cut(hostport, ":")
	for _, u := range []string{srv.URL + "/2018-06-01/runtime/invocation/next", "http://localhost:" + port + "/x"} {
		if err := (reply.Poster{}).Post(context.Background(), u, &op.Result{OK: true}); err == nil || !strings.Contains(err.Error(), "Runtime API") {
			t.Errorf("%s: err %v, want the Runtime API refused", u, err)
		}
	}
	if calls.Load() != 0 {
		t.Errorf("the Runtime API got %d posts", calls.Load())
	}
}

// TestPostRefusesAddresses: what validation refuses is refused by Post too, before any call.
func TestPostRefusesAddresses(t *testing.T) {
	for _, u := range []string{"https://169.254.169.254/x", "https://[fd00:ec2::254]/x", "https://metadata.google.internal/x",
		"https://10.0.0.1/x", "http://user:pass@127.0.0.1:1/x", "https://[fe80::1]/x", "https://0.0.0.0/x"} {
		err := (reply.Poster{}).Post(context.Background(), u, &op.Result{OK: true})
		if err == nil || strings.Contains(err.Error(), "pass") {
			t.Errorf("%s: err %v, want a refusal that does not quote the URL", u, err)
		}
	}
}

// TestPostFitsTheDeadline: a reply server that never answers is given up on at the context's
// deadline, with an error that says so.
func TestPostFitsTheDeadline(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := (reply.Poster{}).Post(ctx, srv.URL, &op.Result{OK: true})
	if err == nil || !strings.Contains(err.Error(), "timeout") || strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("a post that was never answered: err %v, want a timeout that does not quote the URL", err)
	}
}
