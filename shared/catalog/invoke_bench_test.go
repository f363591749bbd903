package catalog_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/trigger"
)

// replayed answers every request with the answer the emulator gave the first request of the
// same method and path, so that after the first call a benchmark measures the client alone:
// decode, every rule, encode, sign, send through net/http's client and read the answer.
type replayed struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[string]*httptest.ResponseRecorder
}

func (r *replayed) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.Method + " " + req.URL.Path
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.seen[key]
	if !ok {
		resp, err := r.next.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		rec = httptest.NewRecorder()
		rec.Code = resp.StatusCode
		for k, vs := range resp.Header {
			rec.Header()[k] = vs
		}
		if _, err := io.Copy(rec.Body, resp.Body); err != nil {
			return nil, err
		}
		r.seen[key] = rec
	} else if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{StatusCode: rec.Code, Header: rec.Header().Clone(), Request: req,
		Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), ContentLength: int64(rec.Body.Len())}, nil
}

// offline points every provider at an in-process emulator (CTyun done on the first call) and
// makes the default transport, which the operations' HTTP clients use, replay its answers.
// The catalog's operations build their clients once per process, on their first call, so the
// emulator and the replay stay for the rest of the process.
func offline(b *testing.B) {
	offlineOnce.Do(func() {
		srv := httptest.NewServer(emulator.New(emulator.Options{CTyunPolls: -1}))
		for k, v := range map[string]string{
			"JDCLOUD_ACCESS_KEY": emulator.DemoAccessKey, "JDCLOUD_SECRET_KEY": emulator.DemoSecretKey, "JDCLOUD_LB_ENDPOINT": srv.URL,
			"HUAWEICLOUD_SDK_AK": emulator.DemoAccessKey, "HUAWEICLOUD_SDK_SK": emulator.DemoSecretKey,
			"HUAWEICLOUD_SDK_PROJECT_ID": emulator.DemoProjectID, "HUAWEICLOUD_ELB_ENDPOINT": srv.URL,
			"CTYUN_AK": emulator.DemoAccessKey, "CTYUN_SK": emulator.DemoSecretKey, "CTYUN_ELB_ENDPOINT": srv.URL,
		} {
			if err := os.Setenv(k, v); err != nil {
				b.Fatal(err)
			}
		}
		http.DefaultTransport = &replayed{next: http.DefaultTransport, seen: map[string]*httptest.ResponseRecorder{}}
	})
}

var offlineOnce sync.Once

func readEvent(b *testing.B, function, name string) []byte {
	raw, err := os.ReadFile(filepath.Join(root, "events", function, name+".json"))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkRunOffline is op.Run of every operation's sample request (events/<function>/
// direct.json) with the provider's answer replayed from memory: the no-network cost of a
// call, from the raw request to the result.
func BenchmarkRunOffline(b *testing.B) {
	offline(b)
	for _, o := range catalog.Operations {
		raw := readEvent(b, o.Function(), "direct")
		b.Run(o.Function(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := op.Run(context.Background(), o, raw, op.Meta{}); !res.OK {
					b.Fatalf("%+v", res.Error)
				}
			}
		})
	}
}

// BenchmarkInvoke is a warm Lambda invoke of every operation as its bootstrap serves it, from
// the event's bytes to the answer's, the provider's answer replayed: the trigger's decoding,
// the run under an in-memory idempotency store (its records expiring at once, so that every
// invoke creates), the outcome's JSON log line and the answer's encoding. Direct is the
// request alone (Step Functions, aws lambda invoke); SQS is a batch of two records.
func BenchmarkInvoke(b *testing.B) {
	offline(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour) // an invocation has a deadline
	defer cancel()
	for _, o := range catalog.Operations {
		h := trigger.New(o, trigger.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
			Store: &op.MemoryStore{TTL: time.Nanosecond}})
		for _, name := range []string{"direct", "sqs"} {
			event := readEvent(b, o.Function(), name)
			b.Run(o.Function()+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					out, err := h.Invoke(ctx, event)
					if err != nil || bytes.Contains(out, []byte("itemIdentifier")) {
						b.Fatalf("%s %v", out, err)
					}
				}
			})
		}
	}
}
