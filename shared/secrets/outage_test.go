package secrets

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/op"
)

// TestApplyOutageIsRetryable: Secrets Manager failing, throttling, hanging or unreachable is a
// passing outage (retryable, so a queued request waits for it instead of going to the failure
// queue), answered inside the deadline less the margin; a refusal stays config.
func TestApplyOutageIsRetryable(t *testing.T) {
	answer := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc // nil: nothing listens
		kind    op.Kind
	}{
		{"500", answer(500, `{"__type":"InternalServiceError","message":"oops"}`), op.KindUnavailable},
		{"503 not JSON", answer(503, `<html>Service Unavailable</html>`), op.KindUnavailable},
		{"throttled as 400", answer(400, `{"__type":"ThrottlingException","message":"Rate exceeded"}`), op.KindThrottled},
		{"429", answer(429, `{"__type":"TooManyRequests","message":"slow down"}`), op.KindThrottled},
		{"hanging", func(_ http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // so the server sees the client go away
			<-r.Context().Done()
		}, op.KindUnavailable},
		{"unreachable", nil, op.KindUnavailable},
		{"no such secret", answer(400, `{"__type":"ResourceNotFoundException","message":"not found"}`), op.KindConfig},
		{"access denied", answer(400, `{"__type":"AccessDeniedException","message":"not authorized"}`), op.KindConfig},
		{"bad signature", answer(403, `{"__type":"InvalidSignatureException","message":"bad"}`), op.KindConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setup(t, &fakeSecretsManager{t: t})
			if tt.handler != nil {
				srv := httptest.NewServer(tt.handler)
				defer srv.Close()
				t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)
			} else {
				srv := httptest.NewServer(http.NotFoundHandler())
				srv.Close() // its port now refuses connections
				t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)
			}
			t.Setenv(ARNVariable, arnA)
			// The invocation's context, as its entry point makes it: the margin before the
			// platform's deadline is kept by the context alone.
			invocation, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			ctx, cancelWork := op.Invocation(invocation, 500*time.Millisecond)
			defer cancelWork()
			err := apply(ctx, http.DefaultClient)
			var e *op.Error
			if !errors.As(err, &e) || e.Kind != tt.kind || e.Retryable != tt.kind.Retryable() {
				t.Fatalf("err %v, want kind %s, retryable %v", err, tt.kind, tt.kind.Retryable())
			}
			if invocation.Err() != nil {
				t.Error("Apply answered after the invocation's deadline: the margin was not kept")
			}
		})
	}
}
