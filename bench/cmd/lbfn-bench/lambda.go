package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lbfn/lbfn/shared/lambdatest"
)

// lambdaFlags are the flags of the Lambda bootstraps (the Makefile's LAMBDA_FLAGS).
var lambdaFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w"}

// build compiles the main package pkg of the module in dir for goos/goarch as Lambda's
// bootstrap is built, into out.
func build(dir, pkg, goos, goarch, out string) error {
	cmd := exec.Command("go", append(append([]string{"build"}, lambdaFlags...), "-o", out, pkg)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s (%s/%s): %v\n%s", pkg, goos, goarch, err, b)
	}
	return nil
}

// size is one bootstrap's size, arm64 stripped.
type size struct {
	Name  string
	Bytes int64
}

// measureSizes builds every function of root/functions and the SDK handler for arm64.
func measureSizes(root, benchDir, tmp string) (ours []size, sdk size, err error) {
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil {
		return nil, size{}, err
	}
	sort.Strings(mains)
	stat := func(name, dir, pkg string) (size, error) {
		out := filepath.Join(tmp, "arm64-"+name)
		if err := build(dir, pkg, "linux", "arm64", out); err != nil {
			return size{}, err
		}
		fi, err := os.Stat(out)
		if err != nil {
			return size{}, err
		}
		return size{name, fi.Size()}, nil
	}
	for _, m := range mains {
		fn := filepath.Base(filepath.Dir(m))
		s, err := stat(fn, root, "./functions/"+fn)
		if err != nil {
			return nil, size{}, err
		}
		ours = append(ours, s)
	}
	sdk, err = stat("sdkhandler", benchDir, "./sdkhandler")
	return ours, sdk, err
}

// function is one Lambda binary measured: how to start it and what it is sent.
type function struct {
	name  string
	bin   string
	env   []string
	check func(resp []byte) error
}

// cpuOf is an exited process's CPU time, user and system.
func cpuOf(f *lambdatest.Function) time.Duration {
	ps := f.ProcessState()
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}

// peakRSS is a running process's peak resident set (VmHWM). Not rusage's maxrss, which Linux
// carries over from the parent across fork and exec: every child would report this
// program's own.
func peakRSS(f *lambdatest.Function) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(f.Pid()) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

const invokeTimeout = 30 * time.Second

// invoke sends one event and checks the answer.
func (fn *function) invoke(f *lambdatest.Function, ev []byte) (time.Duration, error) {
	t0 := time.Now()
	resp, errType, err := f.Invoke(ev, invokeTimeout)
	d := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("%s: %v", fn.name, err)
	}
	if errType != "" {
		return 0, fmt.Errorf("%s answered %s: %s", fn.name, errType, resp)
	}
	if err := fn.check(resp); err != nil {
		return 0, fmt.Errorf("%s: %v", fn.name, err)
	}
	return d, nil
}

// events makes n distinct direct events from base (a direct.json): a pool name of its own
// each, so that no idempotency store could answer one from another.
type eventSource struct {
	base map[string]any
	n    int
}

func newEventSource(raw []byte) (*eventSource, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if _, ok := m["pool"].(map[string]any); !ok {
		return nil, fmt.Errorf("the event has no pool object")
	}
	return &eventSource{base: m}, nil
}

func (s *eventSource) next() []byte {
	s.n++
	s.base["pool"].(map[string]any)["name"] = "bench-" + strconv.Itoa(s.n)
	b, _ := json.Marshal(s.base)
	return b
}

// sqsBatch is an SQS event of n records, each a distinct creation.
func (s *eventSource) sqsBatch(n int) []byte {
	var e events.SQSEvent
	for range n {
		body := s.next()
		e.Records = append(e.Records, events.SQSMessage{
			MessageId: "bench-msg-" + strconv.Itoa(s.n), ReceiptHandle: "rh-" + strconv.Itoa(s.n), Body: string(body),
			Attributes:  map[string]string{"ApproximateReceiveCount": "1"},
			EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:lbfn-bench", AWSRegion: "us-east-1",
		})
	}
	b, _ := json.Marshal(e)
	return b
}

// lambdaFigures are one function's figures through the Runtime API.
type lambdaFigures struct {
	Cold        time.Duration // median, process start to first answer
	ColdCPU     time.Duration // median CPU of a process that answered once
	Warm        time.Duration // median warm invoke
	WarmCPU     time.Duration // CPU per warm invoke
	PeakRSS     int64         // of the process that served the warm invokes
	Invocations int
}

// measureLambda measures cold starts (starts times per side, sides alternating) and then
// warm invokes (warm per side, alternating, both processes alive at once).
func measureLambda(fns []*function, sources []*eventSource, starts, warm int) ([]lambdaFigures, error) {
	colds := make([][]time.Duration, len(fns))
	coldCPU := make([][]time.Duration, len(fns))
	for r := range starts {
		for k := range fns {
			i := k
			if r%2 == 1 {
				i = len(fns) - 1 - k
			}
			ev := sources[i].next()
			runtime.GC() // keep this process's collector out of the child's start
			t0 := time.Now()
			f, err := lambdatest.Start(fns[i].bin, fns[i].env)
			if err != nil {
				return nil, err
			}
			_, err = fns[i].invoke(f, ev)
			d := time.Since(t0)
			f.Close()
			if err != nil {
				return nil, err
			}
			colds[i] = append(colds[i], d)
			coldCPU[i] = append(coldCPU[i], cpuOf(f))
		}
	}

	procs := make([]*lambdatest.Function, len(fns))
	for i, fn := range fns {
		f, err := lambdatest.Start(fn.bin, fn.env)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		procs[i] = f
		if _, err := fn.invoke(f, sources[i].next()); err != nil {
			return nil, err
		}
	}
	lat := make([][]time.Duration, len(fns))
	evs := make([][][]byte, len(fns))
	for i := range fns {
		for range warm {
			evs[i] = append(evs[i], sources[i].next())
		}
	}
	for r := range warm {
		for k := range fns {
			i := k
			if r%2 == 1 {
				i = len(fns) - 1 - k
			}
			d, err := fns[i].invoke(procs[i], evs[i][r])
			if err != nil {
				return nil, err
			}
			lat[i] = append(lat[i], d)
		}
	}
	out := make([]lambdaFigures, len(fns))
	for i, f := range procs {
		rss := peakRSS(f)
		f.Close()
		cold := medianOf(coldCPU[i])
		out[i] = lambdaFigures{
			Cold: medianOf(colds[i]), ColdCPU: cold, Warm: medianOf(lat[i]),
			WarmCPU: (cpuOf(f) - cold) / time.Duration(warm), PeakRSS: rss, Invocations: warm + 1,
		}
	}
	return out, nil
}

// batchFigures compare an SQS batch with one call against a slow provider.
type batchFigures struct {
	Records    int
	Latency    time.Duration
	One, Batch time.Duration // medians
	PeakRSS    int64
	SDKOne     time.Duration // the SDK handler's one call against the same emulator
	SDKPeakRSS int64
	Rounds     int
}

// measureBatch sends rounds single calls and rounds batches of records to ours (alternating),
// and rounds single calls to the SDK handler, against an emulator answering latency late.
func measureBatch(ours, sdk *function, oursSrc, sdkSrc *eventSource, records, rounds int, latency time.Duration) (batchFigures, error) {
	bf := batchFigures{Records: records, Latency: latency, Rounds: rounds}
	fo, err := lambdatest.Start(ours.bin, ours.env)
	if err != nil {
		return bf, err
	}
	defer fo.Close()
	fs, err := lambdatest.Start(sdk.bin, sdk.env)
	if err != nil {
		return bf, err
	}
	defer fs.Close()
	if _, err := ours.invoke(fo, oursSrc.next()); err != nil {
		return bf, err
	}
	if _, err := sdk.invoke(fs, sdkSrc.next()); err != nil {
		return bf, err
	}
	batch := &function{name: ours.name + " (SQS batch)", check: func(resp []byte) error {
		var r events.SQSEventResponse
		if err := json.Unmarshal(resp, &r); err != nil || len(r.BatchItemFailures) != 0 {
			return fmt.Errorf("the batch did not fully succeed: %s", resp)
		}
		return nil
	}}
	var one, many, sdkOne []time.Duration
	for r := range rounds {
		steps := []func() error{
			func() error { d, err := ours.invoke(fo, oursSrc.next()); one = append(one, d); return err },
			func() error {
				d, err := batch.invoke(fo, oursSrc.sqsBatch(records))
				many = append(many, d)
				return err
			},
			func() error { d, err := sdk.invoke(fs, sdkSrc.next()); sdkOne = append(sdkOne, d); return err },
		}
		if r%2 == 1 {
			steps[0], steps[1] = steps[1], steps[0]
		}
		for _, s := range steps {
			if err := s(); err != nil {
				return bf, err
			}
		}
	}
	bf.PeakRSS, bf.SDKPeakRSS = peakRSS(fo), peakRSS(fs)
	bf.One, bf.Batch, bf.SDKOne = medianOf(one), medianOf(many), medianOf(sdkOne)
	return bf, nil
}

// checkOurs accepts our result of a successful creation.
func checkOurs(resp []byte) error {
	var r struct {
		OK     bool   `json:"ok"`
		Status string `json:"status"`
		ID     string `json:"id"`
	}
	if err := json.Unmarshal(resp, &r); err != nil || !r.OK || r.Status != "created" || r.ID == "" {
		return fmt.Errorf("not a created result: %s", resp)
	}
	return nil
}

// checkSDK accepts the SDK's CreateMasterSlavePoolResponse with a pool id.
func checkSDK(resp []byte) error {
	var r struct {
		Pool struct {
			ID string `json:"id"`
		} `json:"pool"`
	}
	if err := json.Unmarshal(resp, &r); err != nil || r.Pool.ID == "" {
		return fmt.Errorf("no pool id in %s", bytes.TrimSpace(resp))
	}
	return nil
}
