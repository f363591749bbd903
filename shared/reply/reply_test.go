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

	res := &op.Result{OK: true, Function: "jdcloud-create-backend", Provider: "jdcloud", Status: op.StatusCreated, ID: "backend-1", ReplyTo: srv.URL}
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
