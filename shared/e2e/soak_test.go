package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lbfn/lbfn/shared/catalog"
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

func runSoak(t *testing.T, plan soakPlan) {
	emu, cloud := newCloud(t)
	faults := &faultCounter{rng: rand.New(rand.NewPCG(plan.seed, 1)), rate: plan.faultRate, counts: map[string]int{}}
	emu.SetFaultPlan(faults.plan)
	failures := newFakeSQS(t)
	env := append(failures.env(), "LBFN_SQS_CONCURRENCY=4", "LBFN_CTYUN_MAX_POLLS=2")

	var figures soakFigures
	queues := map[string][]*soakMessage{}
	for n, fn := range functions {
		for i := range plan.perFunction {
			// Names distinct across functions, and short enough for every provider's rules (JD
			// and CTyun allow 32 characters).
			m := &soakMessage{id: fmt.Sprintf("%s-%04d", fn, i), name: fmt.Sprintf("soak-%d-%d", n, i)}
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

	// What was made, by name (each names its function).
	made := map[string]int{}
	resources := emu.Resources()
	for _, r := range resources {
		made[r.Name]++
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
			n := made[m.name]
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

// soakRequest is a valid request of fn whose resource is called name: the function's
// events/<fn>/direct.json with its name field (see nameField) set.
func soakRequest(t *testing.T, fn, name string) string {
	t.Helper()
	o, ok := catalog.Lookup(fn)
	if !ok {
		t.Fatalf("no function %s", fn)
	}
	base, err := os.ReadFile(filepath.Join(eventsDir, fn, "direct.json"))
	if err != nil {
		t.Fatal(err)
	}
	path := nameField(t, o.RequestType())
	var req map[string]any
	if err := json.Unmarshal(base, &req); err != nil {
		t.Fatal(err)
	}
	obj := req
	for _, p := range path[:len(path)-1] {
		obj = obj[p].(map[string]any)
	}
	obj[path[len(path)-1]] = name
	return string(mustJSON(t, req))
}

// nameField is the JSON path of the field of a request type that names the resource created:
// a top-level "name" (CTyun), else the one top-level "<something>Name" (JD's backendName),
// else "name" in the one object holding the provider's body (Huawei's pool.name).
func nameField(t *testing.T, typ reflect.Type) []string {
	t.Helper()
	var exact, suffixed, bodies []string
	var bodyTypes []reflect.Type
	for _, f := range reflect.VisibleFields(typ) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case f.Anonymous || name == "" || name == "-" || len(f.Index) > 2:
		case name == "name" && ft.Kind() == reflect.String:
			exact = append(exact, name)
		case strings.HasSuffix(name, "Name") && ft.Kind() == reflect.String:
			suffixed = append(suffixed, name)
		case ft.Kind() == reflect.Struct:
			bodies, bodyTypes = append(bodies, name), append(bodyTypes, ft)
		}
	}
	switch {
	case len(exact) == 1:
		return exact
	case len(suffixed) == 1:
		return suffixed
	case len(bodies) == 1:
		if f, ok := bodyTypes[0].FieldByName("Name"); ok && strings.HasPrefix(f.Tag.Get("json"), "name") {
			return []string{bodies[0], "name"}
		}
	}
	t.Fatalf("%v: no field names the resource (want name, one <x>Name, or name inside the body object): the soak cannot tell its requests apart", typ)
	return nil
}
