package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	elbv2 "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/elb/v2"
	v2model "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/elb/v2/model"
	elbv3 "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/elb/v3"
	v3model "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/elb/v3/model"

	"github.com/lbfn/lbfn/shared/auth/hwsign"
	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/huaweicloud"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// perOp is what one measured run of n calls cost, per call.
type perOp struct {
	Wall, CPU     time.Duration
	Bytes, Allocs float64
}

// measure runs call n times and returns its cost per call: wall time, the process's CPU time
// (user and system, the garbage collector's included), and the heap allocations.
func measure(n int, call func() error) (perOp, error) {
	for range max(n/10, 1) { // warm the connections, the caches and the heap
		if err := call(); err != nil {
			return perOp{}, err
		}
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0, t0 := cpuTime(), time.Now()
	for range n {
		if err := call(); err != nil {
			return perOp{}, err
		}
	}
	wall, cpu := time.Since(t0), cpuTime()-cpu0
	runtime.ReadMemStats(&m1)
	return perOp{
		Wall:   wall / time.Duration(n),
		CPU:    cpu / time.Duration(n),
		Bytes:  float64(m1.TotalAlloc-m0.TotalAlloc) / float64(n),
		Allocs: float64(m1.Mallocs-m0.Mallocs) / float64(n),
	}, nil
}

// cpuTime is this process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// side is one client measured: a name and one call.
type side struct {
	name string
	call func() error
}

// alternate measures every side once per round, each round in the other order, and returns
// the median of each figure over the rounds, by side.
func alternate(rounds, n int, sides ...side) ([]perOp, error) {
	runs := make([][]perOp, len(sides))
	for r := range rounds {
		for k := range sides {
			i := k
			if r%2 == 1 {
				i = len(sides) - 1 - k
			}
			m, err := measure(n, sides[i].call)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sides[i].name, err)
			}
			runs[i] = append(runs[i], m)
		}
	}
	out := make([]perOp, len(sides))
	for i, rs := range runs {
		out[i] = perOp{
			Wall:   medianDuration(rs, func(p perOp) time.Duration { return p.Wall }),
			CPU:    medianDuration(rs, func(p perOp) time.Duration { return p.CPU }),
			Bytes:  median(rs, func(p perOp) float64 { return p.Bytes }),
			Allocs: median(rs, func(p perOp) float64 { return p.Allocs }),
		}
	}
	return out, nil
}

// event reads events/<function>/<name>.json of the repository.
func event(root, function, name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(root, "events", function, name+".json"))
}

// runOp is one op.Run of raw, failing unless the operation created the resource.
func runOp(o op.Operation, raw []byte) func() error {
	return func() error {
		res := op.Run(context.Background(), o, raw, op.Meta{})
		if !res.OK || res.Status != op.StatusCreated {
			b, _ := json.Marshal(res)
			return fmt.Errorf("%s did not create: %s", o.Function(), b)
		}
		return nil
	}
}

// setEnv sets the variables of env ("NAME=value") in this process, for the operations'
// Client (their FromEnv).
func setEnv(env []string) {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		_ = os.Setenv(k, v)
	}
}

func sdkCredentials() *basic.Credentials {
	return basic.NewCredentialsBuilder().
		WithAk(emulator.DemoAccessKey).
		WithSk(emulator.DemoSecretKey).
		WithProjectId(emulator.DemoProjectID).
		Build()
}

// sdkV2Call is the official SDK's CreatePool on the request raw, decoded as a handler would.
func sdkV2Call(url string, raw []byte) func() error {
	c := elbv2.NewElbClient(elbv2.ElbClientBuilder().WithEndpoints([]string{url}).WithCredential(sdkCredentials()).Build())
	return func() error {
		var body v2model.CreatePoolRequestBody
		if err := json.Unmarshal(raw, &body); err != nil {
			return err
		}
		resp, err := c.CreatePool(&v2model.CreatePoolRequest{Body: &body})
		if err != nil {
			return err
		}
		if resp.Pool == nil || resp.Pool.Id == "" {
			return fmt.Errorf("sdk CreatePool: no pool id in %v", resp)
		}
		return nil
	}
}

// sdkV3Call is the official SDK's CreateMasterSlavePool on the request raw.
func sdkV3Call(url string, raw []byte) func() error {
	c := elbv3.NewElbClient(elbv3.ElbClientBuilder().WithEndpoints([]string{url}).WithCredential(sdkCredentials()).Build())
	return func() error {
		var body v3model.CreateMasterSlavePoolRequestBody
		if err := json.Unmarshal(raw, &body); err != nil {
			return err
		}
		resp, err := c.CreateMasterSlavePool(&v3model.CreateMasterSlavePoolRequest{Body: &body})
		if err != nil {
			return err
		}
		if resp.Pool == nil || resp.Pool.Id == "" {
			return fmt.Errorf("sdk CreateMasterSlavePool: no pool id in %v", resp)
		}
		return nil
	}
}

// callFigures are the in-process figures of one API: ours, the SDK's, and the floor (the same
// signed POST through net/http alone, nothing decoded or checked).
type callFigures struct {
	API              string
	Ours, SDK, Floor perOp
}

// floorCall POSTs the wire body of the request raw to path, signed, through a plain
// http.Client, and reads the answer: what any client must spend per call.
func floorCall(url, path string, raw []byte) func() error {
	var req struct {
		Pool json.RawMessage `json:"pool"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		return func() error { return err }
	}
	body := append(append([]byte(`{"pool":`), req.Pool...), '}')
	signer := &hwsign.Signer{AccessKey: emulator.DemoAccessKey, SecretKey: redact.NewSecret(emulator.DemoSecretKey)}
	client := &http.Client{}
	return func() error {
		hr, err := http.NewRequest(http.MethodPost, url+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("X-Project-Id", emulator.DemoProjectID)
		if err := signer.Sign(hr, body); err != nil {
			return err
		}
		resp, err := client.Do(hr)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusCreated {
			err = fmt.Errorf("floor call answered %d: %s", resp.StatusCode, b)
		}
		return err
	}
}

// measureCalls measures our two Huawei operations and the SDK's calls on the same requests,
// over loopback against the emulator child at url.
func measureCalls(root, url string, rounds, n int) ([]callFigures, error) {
	setEnv(providerEnv(url))
	var out []callFigures
	for _, api := range []struct {
		name, function, path string
		ours                 op.Operation
		sdk                  func(string, []byte) func() error
	}{
		{"v2 CreatePool", "huawei-create-pool", "/v2/" + emulator.DemoProjectID + "/elb/pools", huaweicloud.CreatePool, sdkV2Call},
		{"v3 CreateMasterSlavePool", "huawei-create-master-slave-pool", "/v3/" + emulator.DemoProjectID + "/elb/master-slave-pools",
			huaweicloud.CreateMasterSlavePool, sdkV3Call},
	} {
		raw, err := event(root, api.function, "direct")
		if err != nil {
			return nil, err
		}
		ms, err := alternate(rounds, n, side{"lbfn " + api.name, runOp(api.ours, raw)}, side{"sdk " + api.name, api.sdk(url, raw)},
			side{"floor " + api.name, floorCall(url, api.path, raw)})
		if err != nil {
			return nil, err
		}
		out = append(out, callFigures{API: api.name, Ours: ms[0], SDK: ms[1], Floor: ms[2]})
	}
	return out, nil
}

// replay answers every request with the answer the emulator gave the first request of the
// same method and path, recorded through next: after the first call nothing goes on the
// network, and what is measured is decode, every rule, encode, sign and reading the answer.
type replay struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[string]*recorded
}

type recorded struct {
	status int
	header http.Header
	body   []byte
}

func (r *replay) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.Method + " " + req.URL.Path
	r.mu.Lock()
	a, ok := r.seen[key]
	r.mu.Unlock()
	if !ok {
		resp, err := r.next.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		a = &recorded{status: resp.StatusCode, header: resp.Header, body: body}
		r.mu.Lock()
		r.seen[key] = a
		r.mu.Unlock()
	} else if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{StatusCode: a.status, Header: a.header.Clone(), Body: io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)), Request: req}, nil
}

// offlineFigures is one operation's no-network cost.
type offlineFigures struct {
	Function string
	Cost     perOp
}

// measureOffline measures every operation of the catalog without a network: their HTTP
// clients (which use http.DefaultTransport) get replayed answers.
func measureOffline(root, url string, rounds, n int) ([]offlineFigures, error) {
	setEnv(providerEnv(url))
	saved := http.DefaultTransport
	http.DefaultTransport = &replay{next: saved, seen: map[string]*recorded{}}
	defer func() { http.DefaultTransport = saved }()
	var out []offlineFigures
	for _, o := range catalog.Operations {
		raw, err := event(root, o.Function(), "direct")
		if err != nil {
			return nil, err
		}
		ms, err := alternate(rounds, n, side{o.Function(), runOp(o, raw)})
		if err != nil {
			return nil, err
		}
		out = append(out, offlineFigures{Function: o.Function(), Cost: ms[0]})
	}
	return out, nil
}
