package huaweicloud_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/op"
)

// canned answers 201 in memory: what is left is decode, validate, encode, sign and httpx.
type canned struct{}

func (canned) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	return &http.Response{StatusCode: 201, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(createdBody)), Request: r}, nil
}

// BenchmarkSignValidateEncode measures one operation without a network: strict decode, every
// rule, the body marshalled once, signed, and the answer read.
func BenchmarkSignValidateEncode(b *testing.B) {
	cfg := demoConfig("http://127.0.0.1:1")
	cfg.HTTP = fastHTTP(canned{})
	opsByAPI := operations(mustClient(b, cfg))
	for _, api := range all {
		b.Run(api, func(b *testing.B) {
			o, raw := opsByAPI[api], []byte(bases[api])
			b.ReportAllocs()
			for b.Loop() {
				if res := op.Run(context.Background(), o, raw, op.Meta{}); !res.OK {
					b.Fatal(res.Error)
				}
			}
		})
	}
}

// BenchmarkCall is a full call against the emulator on loopback: the emulator verifies the
// signature, validates again and stores the pool.
func BenchmarkCall(b *testing.B) {
	_, srv := startEmulator(b, emulator.Options{})
	opsByAPI := operations(mustClient(b, demoConfig(srv.URL)))
	for _, api := range all {
		b.Run(api, func(b *testing.B) {
			o, raw := opsByAPI[api], []byte(bases[api])
			b.ReportAllocs()
			for b.Loop() {
				if res := op.Run(context.Background(), o, raw, op.Meta{}); !res.OK {
					b.Fatal(res.Error)
				}
			}
		})
	}
}
