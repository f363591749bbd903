package ctyun_test

import (
	"context"
	"flag"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/ctyun"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/step"
)

// BenchmarkSignValidateEncode is one whole call: decode and validate the request, encode the
// wire body, sign, send, read CTyun's answer, against an emulator that says done at once.
func BenchmarkSignValidateEncode(b *testing.B) {
	srv := httptest.NewServer(emulator.New(emulator.Options{CTyunPolls: -1}))
	defer srv.Close()
	o := operation(srv.URL)
	raw := []byte(validRequest)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		res := op.Run(context.Background(), o, raw, op.Meta{MessageID: strconv.Itoa(i)})
		if !res.OK || res.Status != op.StatusCreated {
			b.Fatal(res.Error)
		}
	}
}

// BenchmarkFlipToDone measures the default cadence against an emulator that turns a policy
// done T after its first request: how long after the flip we answer, and how many requests
// it took. It runs for real time (about 45 s), so only when -bench names it.
func BenchmarkFlipToDone(b *testing.B) {
	if testing.Short() || !strings.Contains(flag.Lookup("test.bench").Value.String(), "FlipToDone") {
		b.Skip("takes ~45 s of real time: run with -bench FlipToDone")
	}
	for _, T := range []time.Duration{500 * time.Millisecond, 2 * time.Second, 10 * time.Second, 30 * time.Second} {
		b.Run("T="+T.String(), func(b *testing.B) {
			srv := httptest.NewServer(emulator.New(emulator.Options{CTyunDoneAfter: T}))
			defer srv.Close()
			o := operation(srv.URL, func(c *ctyun.Config) { c.Poll = step.DefaultPolicy })
			var lag time.Duration
			calls, n := 0, 0
			for b.Loop() {
				n++
				start := time.Now()
				res := op.Run(context.Background(), o, []byte(validRequest), op.Meta{MessageID: b.Name() + strconv.Itoa(n)})
				if !res.OK || res.Status != op.StatusCreated {
					b.Fatal(res.Error)
				}
				lag += time.Since(start) - T
				calls += res.Attempts
			}
			b.ReportMetric(lag.Seconds()/float64(n), "s-flip-to-answer")
			b.ReportMetric(float64(calls)/float64(n), "calls")
		})
	}
}
