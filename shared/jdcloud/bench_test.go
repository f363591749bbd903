package jdcloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/lbfn/lbfn/shared/auth/jdsign"
	"github.com/lbfn/lbfn/shared/jdcloud"
)

// BenchmarkSignValidateEncode is everything a call costs before the network: strict decode
// and every rule, the wire body, and the signature.
func BenchmarkSignValidateEncode(b *testing.B) {
	raw := patched(b, `{"algorithm":"RoundRobin","description":"bench","targetGroupIds":["tg-1"],`+
		`"healthCheckSpec":{"protocol":"Tcp","intervalSeconds":10,"healthyThresholdCount":3}}`)
	s := &jdsign.Signer{Credentials: jdsign.Credentials{AccessKey: "AK", SecretKey: "SK"}, Service: "lb", Region: "cn-north-1"}
	b.ReportAllocs()
	for b.Loop() {
		req, err := jdcloud.CreateBackend.Decode(context.Background(), raw)
		if err != nil {
			b.Fatal(err)
		}
		body, err := json.Marshal(&req.(*jdcloud.CreateBackendRequest).CreateBackendBody)
		if err != nil {
			b.Fatal(err)
		}
		hr, _ := http.NewRequest("POST", "https://lb.jdcloud-api.com/v1/regions/cn-north-1/backends/", bytes.NewReader(body))
		hr.Header.Set("Content-Type", "application/json")
		if err := s.Sign(hr, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateBackendEmulator is one full call over loopback HTTP to the emulator, which
// verifies the signature and runs the same rules.
func BenchmarkCreateBackendEmulator(b *testing.B) {
	_, c := newEmulator(b, nil)
	req := decode(b, `{}`)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req.BackendName = "bench-" + strconv.Itoa(i) // a new backend each time, no conflict
		if _, err := c.CreateBackend(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
