package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/lambdatest"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/trigger"
)

// The fault soak: many requests for every function, delivered in SQS batches to the real
// binaries, while the emulator fails a third of the provider calls. The queue behaves as SQS
// does: a record the function does not finish comes back with its receive count raised, often
// to a new process that never saw it (another instance, a cold start), and is moved to the
// dead-letter queue past maxReceiveCount; a success whose deletion is lost comes back too.
// At the end every request must have made exactly one resource, or be kept, with its error,
// on the failure queue: no duplicate, nothing lost.
//
// The randomness is seeded; the assertions do not depend on timing or on which request meets
// which fault. `make soak` runs it longer: LBFN_SOAK_REQUESTS requests per function, with the
// faults drawn from LBFN_SOAK_SEED.

// soakPlan is how a soak runs.
type soakPlan struct {
	perFunction  int     // requests per function, valid and invalid
	invalidEvery int     // one request in this many breaks a documented rule
	batchSize    int     // records per SQS batch
	maxReceives  int     // the queue's maxReceiveCount: past it, the dead-letter queue
	faultRate    float64 // of provider calls
	freshRate    float64 // of batches handed to a process started for them
	lostDelete   float64 // of finished records delivered again all the same
	seed         uint64
}

func TestSoak(t *testing.T) {
	plan := soakPlan{perFunction: 40, invalidEvery: 10, batchSize: 10, maxReceives: 10,
		faultRate: 0.35, freshRate: 0.5, lostDelete: 0.15, seed: 10}
	if s := os.Getenv("LBFN_SOAK_REQUESTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("LBFN_SOAK_REQUESTS=%q: want a positive number of requests per function", s)
		}
		plan.perFunction = n
	}
	if s := os.Getenv("LBFN_SOAK_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("LBFN_SOAK_SEED=%q: want a number", s)
		}
		plan.seed = n
	}
	runSoak(t, plan)
}

// faultCounter injects faults at a rate and counts them by kind.
type faultCounter struct {
	mu     sync.Mutex
	rng    *rand.Rand
	rate   float64
	counts map[string]int
	calls  int
}

var faultKinds = []string{"429 + Retry-After", "5xx", "closed before the answer", "created, answer lost"}

func (f *faultCounter) plan(string, *http.Request) (emulator.Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.rng.Float64() >= f.rate {
		return emulator.Fault{}, false
	}
	kind := faultKinds[f.rng.IntN(len(faultKinds))]
	f.counts[kind]++
	switch kind {
	case "429 + Retry-After":
		return emulator.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"}, true
	case "5xx":
		statuses := []int{500, 502, 503, 504}
		return emulator.Fault{Status: statuses[f.rng.IntN(len(statuses))]}, true
	case "closed before the answer":
		return emulator.Fault{Drop: true}, true
	}
	return emulator.Fault{DropAfterHandling: true}, true
}

// soakMessage is one request on the simulated source queue.
type soakMessage struct {
	id, body, name string
	valid          bool
	receives       int
	lastProcess    int // the process that had the previous delivery
	deadLettered   bool
}

// soakFigures are what a run counts.
type soakFigures struct {
	mu                                  sync.Mutex
	requests, invalid                   int
	batches, deliveries, redeliveries   int
	freshRedeliveries, deliveredAgain   int
	processes, deadLettered, batchFails int
}

func (f *soakFigures) add(fn func(*soakFigures)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// collections maps an emulator collection to the function that creates in it.
var collections = map[string]string{
	"backends": "jdcloud-create-backend",
	"v2":       "huawei-create-pool",
	"v2.0":     "huawei-create-lbaas-pool",
	"v3":       "huawei-create-master-slave-pool",
	"policies": "ctyun-create-policy",
}

func runSoak(t *testing.T, plan soakPlan) {
	emu, cloud := newCloud(t)
	faults := &faultCounter{rng: rand.New(rand.NewPCG(plan.seed, 1)), rate: plan.faultRate, counts: map[string]int{}}
	emu.SetFaultPlan(faults.plan)
	failures := newFakeSQS(t)
	env := append(failures.env(), "LBFN_SQS_CONCURRENCY=4", "LBFN_CTYUN_MAX_POLLS=2")

	var figures soakFigures
	queues := map[string][]*soakMessage{}
	for _, fn := range functions {
		for i := range plan.perFunction {
			// Names short enough for every provider's rules (JD and CTyun allow 32 characters).
			m := &soakMessage{id: fmt.Sprintf("%s-%04d", fn, i), name: fmt.Sprintf("soak-%s-%d", soakNames[fn], i)}
			if i%plan.invalidEvery == plan.invalidEvery-1 {
				m.body = `{"soakRequest":` + strconv.Itoa(i) + `}` // an unknown field: a validation failure
				figures.invalid++
			} else {
				m.body, m.valid = soakRequest(t, fn, m.name), true
			}
			queues[fn] = append(queues[fn], m)
		}
		figures.requests += plan.perFunction
	}

	start := time.Now()
	var wg sync.WaitGroup
	for n, fn := range functions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			soakFunction(t, fn, cloud, env, plan, rand.New(rand.NewPCG(plan.seed, uint64(n)+2)), queues[fn], &figures)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if t.Failed() {
		return
	}

	// What was made, by function and name.
	made := map[string]int{}
	resources := emu.Resources()
	for _, r := range resources {
		made[collections[r.Collection]+" "+r.Name]++
	}
	kept := map[string]op.Kind{}
	for _, m := range failures.messages() {
		var rep trigger.FailureReport
		if err := json.Unmarshal([]byte(m.Body), &rep); err != nil || rep.Result == nil {
			t.Fatalf("failure queue message is not a report: %s", m.Body)
		}
		kept[rep.MessageID] = rep.Result.Err().Kind
	}
	var valid, duplicates, lost, keptValid int
	for _, fn := range functions {
		for _, m := range queues[fn] {
			n := made[fn+" "+m.name]
			_, isKept := kept[m.id]
			switch {
			case !m.valid:
				if !isKept || kept[m.id] != op.KindValidation || n != 0 {
					t.Errorf("%s (invalid): kept %v as %q, %d resources", m.id, isKept, kept[m.id], n)
				}
				continue
			case n > 1:
				duplicates += n - 1
				t.Errorf("%s: %d resources named %s", m.id, n, m.name)
			case n == 0 && !isKept && !m.deadLettered:
				lost++
				t.Errorf("%s: neither created nor kept", m.id)
			}
			if isKept {
				keptValid++
				t.Errorf("%s: a valid request kept on the failure queue as %q", m.id, kept[m.id])
			}
			valid++
		}
	}
	if figures.deadLettered > 0 {
		t.Errorf("%d records went to the dead-letter queue", figures.deadLettered)
	}
	if len(resources) != valid {
		t.Errorf("%d resources for %d distinct valid requests", len(resources), valid)
	}
	if figures.freshRedeliveries == 0 || figures.deliveredAgain == 0 {
		t.Errorf("the soak did not exercise redeliveries to fresh processes (%d) or finished records delivered again (%d)",
			figures.freshRedeliveries, figures.deliveredAgain)
	}

	var faultText []string
	total := 0
	for _, k := range faultKinds {
		faultText = append(faultText, fmt.Sprintf("%s %d", k, faults.counts[k]))
		total += faults.counts[k]
	}
	report := fmt.Sprintf("soak: %d requests (%d functions, %d with a broken rule), %d provider calls, %d faulted (%.0f %%: %s);\n"+
		"      %d batches to %d processes, %d deliveries, %d redeliveries (%d to a fresh process, %d of finished records), %d dead-lettered;\n"+
		"      %d resources for %d valid requests: %d duplicates, %d lost, %d kept on the failure queue (%d valid); %s",
		figures.requests, len(functions), figures.invalid, faults.calls, total, 100*float64(total)/float64(max(faults.calls, 1)),
		strings.Join(faultText, ", "),
		figures.batches, figures.processes, figures.deliveries, figures.redeliveries, figures.freshRedeliveries, figures.deliveredAgain,
		figures.deadLettered, len(resources), valid, duplicates, lost, len(kept), keptValid, elapsed.Round(time.Second))
	t.Log(report)
	fmt.Println(report)
}

// soakFunction drains one function's queue: batches in order, failed records back at the end
// (their visibility timeout passed), until nothing is left.
func soakFunction(t *testing.T, fn, cloud string, env []string, plan soakPlan, rng *rand.Rand, queue []*soakMessage, figures *soakFigures) {
	var proc *lambdatest.Function
	var procID int
	defer func() {
		if proc != nil {
			closeSoakProcess(t, fn, proc)
		}
	}()
	pending := slices.Clone(queue)
	for len(pending) > 0 {
		var batch []*soakMessage
		for len(pending) > 0 && len(batch) < plan.batchSize {
			m := pending[0]
			pending = pending[1:]
			if m.receives >= plan.maxReceives {
				m.deadLettered = true
				figures.add(func(f *soakFigures) { f.deadLettered++ })
				continue
			}
			batch = append(batch, m)
		}
		if len(batch) == 0 {
			break
		}
		if proc == nil || rng.Float64() < plan.freshRate {
			if proc != nil {
				closeSoakProcess(t, fn, proc)
			}
			var err error
			if proc, err = lambdatest.Start(binaries[fn], append(providerEnv(cloud), env...)); err != nil {
				t.Error(err)
				return
			}
			procID++
			figures.add(func(f *soakFigures) { f.processes++ })
		}
		var e events.SQSEvent
		for _, m := range batch {
			m.receives++
			figures.add(func(f *soakFigures) {
				f.deliveries++
				if m.receives > 1 {
					f.redeliveries++
					if m.lastProcess != procID {
						f.freshRedeliveries++
					}
				}
			})
			m.lastProcess = procID
			e.Records = append(e.Records, events.SQSMessage{
				MessageId: m.id, ReceiptHandle: fmt.Sprintf("rh-%s-%d", m.id, m.receives), Body: m.body,
				Attributes:  map[string]string{"ApproximateReceiveCount": strconv.Itoa(m.receives)},
				EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:lbfn-" + fn, AWSRegion: "us-east-1",
			})
		}
		event, err := json.Marshal(e)
		if err != nil {
			t.Error(err)
			return
		}
		resp, errType, err := proc.Invoke(event, 30*time.Second)
		if err != nil {
			t.Errorf("%s: %v", fn, err)
			return
		}
		again := map[string]bool{}
		if errType != "" {
			// The whole batch failed: every record comes back.
			for _, m := range batch {
				again[m.id] = true
			}
			figures.add(func(f *soakFigures) { f.batchFails++ })
		} else {
			var answer events.SQSEventResponse
			if err := json.Unmarshal(resp, &answer); err != nil {
				t.Errorf("%s: answer %s: %v", fn, resp, err)
				return
			}
			for _, f := range answer.BatchItemFailures {
				again[f.ItemIdentifier] = true
			}
		}
		figures.add(func(f *soakFigures) { f.batches++ })
		for _, m := range batch {
			switch {
			case again[m.id]:
				pending = append(pending, m)
			case rng.Float64() < plan.lostDelete:
				pending = append(pending, m) // finished, but SQS delivers it again
				figures.add(func(f *soakFigures) { f.deliveredAgain++ })
			}
		}
	}
}

// closeSoakProcess stops a process after checking its logs for secrets.
func closeSoakProcess(t *testing.T, fn string, f *lambdatest.Function) {
	f.Close()
	logs := f.Logs()
	for _, s := range secretValues {
		if strings.Contains(logs, s) {
			t.Errorf("%s logged a secret value (%d characters)", fn, len(s))
		}
	}
}

var soakNames = map[string]string{"jdcloud-create-backend": "jd", "huawei-create-pool": "v2",
	"huawei-create-lbaas-pool": "lbaas", "huawei-create-master-slave-pool": "v3", "ctyun-create-policy": "ctyun"}

// soakRequest is a valid request of fn whose resource is called name.
func soakRequest(t *testing.T, fn, name string) string {
	t.Helper()
	var base, field string
	switch fn {
	case "jdcloud-create-backend":
		base, field = jdBackend, "backendName"
	case "huawei-create-pool", "huawei-create-lbaas-pool":
		base, field = huaweiPool, "pool.name"
	case "huawei-create-master-slave-pool":
		base, field = masterSlavePool, "pool.name"
	case "ctyun-create-policy":
		base, field = ctyunPolicy, "name"
	default:
		t.Fatalf("the soak has no request for %s", fn)
	}
	var req map[string]any
	if err := json.Unmarshal([]byte(base), &req); err != nil {
		t.Fatal(err)
	}
	obj := req
	path := strings.Split(field, ".")
	for _, p := range path[:len(path)-1] {
		obj = obj[p].(map[string]any)
	}
	obj[path[len(path)-1]] = name
	return string(mustJSON(t, req))
}
