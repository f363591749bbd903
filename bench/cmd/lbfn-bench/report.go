package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// report is everything one run measured.
type report struct {
	Machine string
	Plan    plan
	Took    time.Duration

	Calls   []callFigures
	Offline []offlineFigures
	Ours    lambdaFigures
	SDK     lambdaFigures
	Empty   lambdaFigures // an empty aws-lambda-go handler: the floor both share
	Batch   batchFigures
	Sizes   []size
	SDKSize size
	Profile string // pprof -top -cum of warm invokes in process, lbfn's lines
}

// describeMachine names the CPU, the cores, the kernel, the Go version and the load when the
// run began (a loaded machine makes every figure noisier).
func describeMachine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := "unknown kernel"
	if b, err := exec.Command("uname", "-sr").Output(); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	load := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	return fmt.Sprintf("%s, %d cores (GOMAXPROCS %d), %s, %s %s/%s, load average %s at the start",
		cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0), kernel, runtime.Version(), runtime.GOOS, runtime.GOARCH, load)
}

// row is one line of the table: a figure of each side, their ratio and the target.
type row struct {
	figure, ours, sdk string
	ratio             float64 // ours/sdk; 0 when there is no SDK side
	target            string
	met               bool
}

func (r row) cells() string {
	ratio, sdk := "", r.sdk
	if r.ratio > 0 {
		ratio = fmt.Sprintf("%.2f", r.ratio)
	}
	if sdk == "" {
		sdk = "–"
	}
	met := "no"
	if r.met {
		met = "yes"
	}
	if r.target == "" {
		met = ""
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s |", r.figure, r.ours, sdk, ratio, r.target, met)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }
func us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/1e3) }
func mb(n int64) string         { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }
func mib(n int64) string        { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
func kb(f float64) string       { return fmt.Sprintf("%.1f kB", f/1e3) }
func count(f float64) string    { return fmt.Sprintf("%.0f", f) }

func ratio[T int64 | float64 | time.Duration](a, b T) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (r *report) rows() []row {
	var rows []row
	ours, sdk := r.Ours, r.SDK
	add := func(figure, o, s string, q float64, target string, limit float64, strict bool) {
		met := q <= limit
		if strict {
			met = q < limit
		}
		rows = append(rows, row{figure, o, s, q, target, met})
	}
	add("warm invoke, median", ms(ours.Warm), ms(sdk.Warm), ratio(ours.Warm, sdk.Warm), "≤ 0.80", 0.80, false)
	add("CPU per warm invoke", ms(ours.WarmCPU), ms(sdk.WarmCPU), ratio(ours.WarmCPU, sdk.WarmCPU), "≤ 0.80", 0.80, false)
	add("cold start to first answer, median", ms(ours.Cold), ms(sdk.Cold), ratio(ours.Cold, sdk.Cold), "≤ 0.85", 0.85, false)
	add("CPU of a process that answered once, median", ms(ours.ColdCPU), ms(sdk.ColdCPU), ratio(ours.ColdCPU, sdk.ColdCPU), "", 0, false)
	add("peak RSS after the warm invokes", mib(ours.PeakRSS), mib(sdk.PeakRSS), ratio(ours.PeakRSS, sdk.PeakRSS), "< 1", 1, true)
	var v3 size
	for _, s := range r.Sizes {
		if s.Name == "huawei-create-master-slave-pool" {
			v3 = s
		}
	}
	add("bootstrap size, arm64 stripped", mb(v3.Bytes), mb(r.SDKSize.Bytes), ratio(v3.Bytes, r.SDKSize.Bytes), "< 1", 1, true)
	for _, c := range r.Calls {
		add("in process, "+c.API+": time per call", us(c.Ours.Wall), us(c.SDK.Wall), ratio(c.Ours.Wall, c.SDK.Wall), "", 0, false)
		add("in process, "+c.API+": CPU per call", us(c.Ours.CPU), us(c.SDK.CPU), ratio(c.Ours.CPU, c.SDK.CPU), "≤ 0.50", 0.5, false)
		add("in process, "+c.API+": allocations per call", count(c.Ours.Allocs), count(c.SDK.Allocs), ratio(c.Ours.Allocs, c.SDK.Allocs), "≤ 0.50", 0.5, false)
		add("in process, "+c.API+": bytes allocated per call", kb(c.Ours.Bytes), kb(c.SDK.Bytes), ratio(c.Ours.Bytes, c.SDK.Bytes), "", 0, false)
		add("in process, "+c.API+": the floor (signed POST through net/http alone): CPU, allocations in the lbfn column",
			us(c.Floor.CPU)+", "+count(c.Floor.Allocs), us(c.SDK.CPU)+", "+count(c.SDK.Allocs), ratio(c.Floor.CPU, c.SDK.CPU), "", 0, false)
	}
	b := r.Batch
	q := ratio(b.Batch, b.One)
	rows = append(rows, row{fmt.Sprintf("SQS batch of %d vs one call, provider %s late", b.Records, b.Latency),
		ms(b.Batch) + " / " + ms(b.One) + fmt.Sprintf(" = %.2f", q), "", 0, "≤ 1.50", q <= 1.5})
	rows = append(rows, row{"peak RSS after the batches (SDK: after as many single calls)", mib(b.PeakRSS), mib(b.SDKPeakRSS),
		ratio(b.PeakRSS, b.SDKPeakRSS), "< 1", b.PeakRSS < b.SDKPeakRSS})
	return rows
}

func (r *report) markdown() string {
	var b strings.Builder
	p := r.Plan
	b.WriteString("# Benchmarks: lbfn against a plain handler on the official Huawei Go SDK\n\n")
	b.WriteString("Written by `make bench` (bench/cmd/lbfn-bench); do not edit by hand. Every figure is from the run below,\n")
	b.WriteString("both sides measured together: sides alternate in every round and each figure is the median of\n")
	b.WriteString("its rounds. The machine is shared with other work, so figures move by tens of per cent from one\n")
	b.WriteString("run to the next; the ratios move less than the absolute figures.\n\n")
	fmt.Fprintf(&b, "- Machine: %s.\n", r.Machine)
	fmt.Fprintf(&b, "- Run: %s (took %s). Reproduce with `make bench`.\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), r.Took.Round(time.Second))
	b.WriteString("- lbfn: the `huawei-create-master-slave-pool` bootstrap (in process: the `huawei-create-pool` and\n")
	b.WriteString("  `huawei-create-master-slave-pool` operations, `op.Run` from the raw request: strict decode, every rule,\n")
	b.WriteString("  encode, sign, send, read). SDK: bench/sdkhandler, the handler a user would write on\n")
	b.WriteString("  `huaweicloud-sdk-go-v3` (`services/elb/v3` CreateMasterSlavePool, aws-lambda-go `lambda.Start`);\n")
	b.WriteString("  in process, the SDK's `CreatePool` and `CreateMasterSlavePool` from the same JSON (`json.Unmarshal` into its model).\n")
	b.WriteString("- Requests: `events/huawei-create-pool/direct.json` and `events/huawei-create-master-slave-pool/direct.json`\n")
	b.WriteString("  (the API pages' examples; the v3 one with private member addresses, as its own rules require), a\n")
	b.WriteString("  pool name of their own on every invoke so that no idempotency store answers one from another.\n")
	b.WriteString("- The emulator (shared/emulator) runs in a child process on loopback and verifies both sides'\n")
	b.WriteString("  SDK-HMAC-SHA256 signatures; its costs are in no figure of the client side.\n")
	fmt.Fprintf(&b, "- Repetitions: in process %d rounds of %d calls per side; Lambda %d cold starts and %d warm invokes\n",
		p.rounds, p.calls, p.starts, p.warm)
	fmt.Fprintf(&b, "  per side; %d rounds of the batch. CPU per warm invoke is the process's CPU (user and system) after\n", p.batchRounds)
	b.WriteString("  the warm invokes, less the median CPU of a process that answered once, divided by the invokes.\n\n")

	b.WriteString("| figure | lbfn | SDK handler | lbfn / SDK | target | met |\n|---|---|---|---|---|---|\n")
	for _, row := range r.rows() {
		b.WriteString(row.cells() + "\n")
	}

	e := r.Empty
	fmt.Fprintf(&b, "\nThe floor both Lambda sides share, an empty aws-lambda-go handler (bench/emptyhandler) measured in\n")
	fmt.Fprintf(&b, "the same rounds: warm invoke %s, CPU per warm invoke %s, cold start %s, peak RSS %s. Above that\n",
		ms(e.Warm), ms(e.WarmCPU), ms(e.Cold), mib(e.PeakRSS))
	fmt.Fprintf(&b, "floor, lbfn / SDK is %.2f for the warm invoke, %.2f for its CPU and %.2f for the cold start.\n",
		ratio(r.Ours.Warm-e.Warm, r.SDK.Warm-e.Warm), ratio(r.Ours.WarmCPU-e.WarmCPU, r.SDK.WarmCPU-e.WarmCPU), ratio(r.Ours.Cold-e.Cold, r.SDK.Cold-e.Cold))
	b.WriteString("\n## Bootstrap sizes (arm64, `-tags lambda.norpc -trimpath -ldflags \"-s -w\"`; target ≤ 7.0 MB each)\n\n")
	b.WriteString("| bootstrap | size | met |\n|---|---|---|\n")
	for _, s := range r.Sizes {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", s.Name, mb(s.Bytes), yes(s.Bytes <= 7_000_000))
	}
	fmt.Fprintf(&b, "| sdkhandler (baseline) | %s | |\n", mb(r.SDKSize.Bytes))

	fmt.Fprintf(&b, "\n## No network: decode, every rule, encode, sign, read the answer (target < 25 µs each)\n\n")
	b.WriteString("`op.Run` of each operation's `events/<function>/direct.json`, its HTTP answer replayed from memory\n")
	b.WriteString("(recorded from the emulator on the first call).\n\n")
	b.WriteString("| operation | time | CPU | allocations | bytes | met |\n|---|---|---|---|---|---|\n")
	for _, o := range r.Offline {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", o.Function, us(o.Cost.Wall), us(o.Cost.CPU),
			count(o.Cost.Allocs), kb(o.Cost.Bytes), yes(o.Cost.Wall < 25*time.Microsecond))
	}
	fmt.Fprintf(&b, "\n## Where a warm invoke goes\n\n")
	fmt.Fprintf(&b, "CPU profile of %d warm invokes of the huawei-create-master-slave-pool handler in process (lambdafn, the\n", r.Plan.profile)
	b.WriteString("provider's answer replayed), `go tool pprof -top -cum`, lbfn's lines and the JSON, HTTP and logging under them:\n\n```\n")
	b.WriteString(r.Profile)
	b.WriteString("```\n")
	fmt.Fprintf(&b, "\nThe SDK handler's one call against the %s-late emulator took %s (lbfn %s).\n",
		r.Batch.Latency, ms(r.Batch.SDKOne), ms(r.Batch.One))
	return b.String()
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}
