// Command lbfn-bench measures lbfn against a plain handler on Huawei's official Go SDK, both
// sides in the same run, and writes the side-by-side table (docs/BENCHMARKS.md through
// `make bench`):
//
//   - per call in this process, over loopback against the emulator (run in a child process,
//     so only the client's costs count): our huawei-create-pool and
//     huawei-create-master-slave-pool operations from the raw request, and the SDK's
//     CreatePool and CreateMasterSlavePool from the same JSON;
//   - decode, every rule, encode, sign and reading the answer of every operation, with the
//     network replaced by a recorded answer;
//   - through a fake Lambda Runtime API (shared/lambdatest): cold start (process start to
//     first answer), warm invoke latency, CPU per invoke and peak RSS of the
//     huawei-create-master-slave-pool bootstrap and of bench/sdkhandler;
//   - an SQS batch against an emulator answering 100 ms late, against one call;
//   - the bootstrap sizes, arm64, stripped, built as Lambda's are.
//
// Sides alternate in every round and each figure is the median of its rounds: the machine
// may be shared, and alternating spreads its noise over both sides alike.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

func main() {
	var (
		child   = flag.Bool("emulator", false, "serve the emulator and print its URL (the child this program starts)")
		latency = flag.Duration("latency", 0, "with -emulator: answer every request this late")
		root    = flag.String("root", "..", "the lbfn repository")
		out     = flag.String("out", "", "write the Markdown report to this file")
		quick   = flag.Bool("quick", false, "few repetitions: check that everything runs, not for figures")
	)
	flag.Parse()
	if *child {
		serveEmulator(*latency)
		return
	}
	p := plan{rounds: 7, calls: 400, offline: 4000, starts: 41, warm: 1000, batchRounds: 9, profile: 20000}
	if *quick {
		p = plan{rounds: 1, calls: 20, offline: 100, starts: 2, warm: 10, batchRounds: 1, profile: 2000}
	}
	if err := run(*root, *out, p); err != nil {
		fmt.Fprintln(os.Stderr, "lbfn-bench:", err)
		os.Exit(1)
	}
}

// plan is how many repetitions each measurement makes.
type plan struct {
	rounds, calls, offline int // in-process: rounds of calls (network) or offline calls
	starts, warm           int // cold starts per side, warm invokes per side
	batchRounds            int
	profile                int // warm invokes profiled in process
}

func run(root, out string, p plan) error {
	began := time.Now()
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	benchDir := filepath.Join(root, "bench")
	tmp, err := os.MkdirTemp("", "lbfn-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	r := report{Machine: describeMachine(), Plan: p}

	step := func(what string) { fmt.Fprintf(os.Stderr, "[%5.1fs] %s\n", time.Since(began).Seconds(), what) }
	step("building the bootstraps (host to run, arm64 for size)")
	oursBin, sdkBin, emptyBin := filepath.Join(tmp, "ours"), filepath.Join(tmp, "sdk"), filepath.Join(tmp, "empty")
	if err := build(root, "./functions/huawei-create-master-slave-pool", runtime.GOOS, runtime.GOARCH, oursBin); err != nil {
		return err
	}
	if err := build(benchDir, "./sdkhandler", runtime.GOOS, runtime.GOARCH, sdkBin); err != nil {
		return err
	}
	if err := build(benchDir, "./emptyhandler", runtime.GOOS, runtime.GOARCH, emptyBin); err != nil {
		return err
	}
	if r.Sizes, r.SDKSize, err = measureSizes(root, benchDir, tmp); err != nil {
		return err
	}

	fast, err := startCloud(0)
	if err != nil {
		return err
	}
	defer fast.Close()
	step("per call in process, over loopback")
	if r.Calls, err = measureCalls(root, fast.URL, p.rounds, p.calls); err != nil {
		return err
	}
	step("decode, rules, encode, sign: no network")
	if r.Offline, err = measureOffline(root, fast.URL, p.rounds, p.offline); err != nil {
		return err
	}

	step("profile of warm invokes in process")
	if r.Profile, err = profileInvoke(root, fast.URL, tmp, p.profile); err != nil {
		return err
	}

	raw, err := event(root, "huawei-create-master-slave-pool", "direct")
	if err != nil {
		return err
	}
	newSources := func() ([]*eventSource, error) {
		a, err := newEventSource(raw)
		if err != nil {
			return nil, err
		}
		b, err := newEventSource(raw)
		if err != nil {
			return nil, err
		}
		c, err := newEventSource(raw)
		return []*eventSource{a, b, c}, err
	}
	fns := func(url string) []*function {
		return []*function{
			{name: "huawei-create-master-slave-pool", bin: oursBin, env: providerEnv(url), check: checkOurs},
			{name: "sdkhandler", bin: sdkBin, env: providerEnv(url), check: checkSDK},
			{name: "emptyhandler", bin: emptyBin, env: providerEnv(url), check: func([]byte) error { return nil }},
		}
	}
	step("Lambda: cold starts and warm invokes")
	srcs, err := newSources()
	if err != nil {
		return err
	}
	lf, err := measureLambda(fns(fast.URL), srcs, p.starts, p.warm)
	if err != nil {
		return err
	}
	r.Ours, r.SDK, r.Empty = lf[0], lf[1], lf[2]
	fast.Close()

	step("Lambda: an SQS batch against a slow provider")
	const batchLatency = 100 * time.Millisecond
	slow, err := startCloud(batchLatency)
	if err != nil {
		return err
	}
	defer slow.Close()
	if srcs, err = newSources(); err != nil {
		return err
	}
	f := fns(slow.URL)
	if r.Batch, err = measureBatch(f[0], f[1], srcs[0], srcs[1], 10, p.batchRounds, batchLatency); err != nil {
		return err
	}
	slow.Close()

	r.Took = time.Since(began)
	text := r.markdown()
	fmt.Print(text)
	if out != "" {
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, []byte(text), 0o644)
	}
	return nil
}
