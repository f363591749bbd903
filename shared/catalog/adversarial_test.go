package catalog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strconv"
	"testing"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// adversarial is a request shaped to make decoding and validation expensive: thousands of
// items of the wrong type, duplicate members, unknown members, or one huge unknown value.
type adversarial struct {
	name     string
	function string
	// build writes a request of about size bytes.
	build func(size int) []byte
}

// repeated writes head, then item joined by sep until the body reaches size, then tail.
func repeated(head, item, sep, tail string, size int) []byte {
	var b bytes.Buffer
	b.Grow(size + len(tail) + len(item))
	b.WriteString(head)
	for i := 0; b.Len()+len(tail) < size; i++ {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(item)
	}
	b.WriteString(tail)
	return b.Bytes()
}

// numbered is repeated with a distinct member name each time.
func numbered(head, prefix, value, tail string, size int) []byte {
	var b bytes.Buffer
	b.Grow(size + 64)
	b.WriteString(head)
	for i := 0; b.Len()+len(tail) < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + prefix + strconv.Itoa(i) + `":` + value)
	}
	b.WriteString(tail)
	return b.Bytes()
}

var adversarialShapes = []adversarial{
	{"jd-httpCode-ints", "jdcloud-create-backend", func(n int) []byte {
		return repeated(`{"healthCheckSpec":{"httpCode":[`, "1", ",", `]}}`, n)
	}},
	{"ctyun-conditions-ints", "ctyun-create-policy", func(n int) []byte {
		return repeated(`{"conditions":[`, "1", ",", `]}`, n)
	}},
	{"huawei-members-ints", "huawei-create-master-slave-pool", func(n int) []byte {
		return repeated(`{"region":"cn-north-4","pool":{"members":[`, "1", ",", `]}}`, n)
	}},
	{"duplicate-members", "huawei-create-master-slave-pool", func(n int) []byte {
		return repeated(`{`, `"region":"cn-north-4"`, ",", `}`, n)
	}},
	{"unknown-members", "jdcloud-create-backend", func(n int) []byte {
		return numbered(`{`, "x", "1", `}`, n)
	}},
	{"unknown-members-reversed", "huawei-create-pool", func(n int) []byte {
		// Names that sort before every earlier one: each is listed in its place.
		return numbered(`{`, "", "1", `}`, n)
	}},
	{"valid-items", "jdcloud-create-backend", func(n int) []byte {
		// Well-typed items the rules then refuse: the value is built, every rule runs.
		return repeated(`{"healthCheckSpec":{"httpCode":[`, `"1"`, ",", `]}}`, n)
	}},
	{"unknown-huge-value", "ctyun-create-policy", func(n int) []byte {
		return repeated(`{"regionID":"r","junk":[`, `{"a":[1,"b",{"c":null}]}`, ",", `]}`, n)
	}},
}

var adversarialSizes = []struct {
	name string
	size int
}{{"32KiB", 32 << 10}, {"256KiB", 256 << 10}, {"1MiB", 1 << 20}, {"6MiB", 6 << 20}}

// BenchmarkDecodeAdversarial decodes and validates each adversarial shape at growing sizes:
// ns/op and B/op must grow linearly with the size.
func BenchmarkDecodeAdversarial(b *testing.B) {
	for _, s := range adversarialShapes {
		o, ok := catalog.Lookup(s.function)
		if !ok {
			b.Fatalf("no function %s", s.function)
		}
		for _, size := range adversarialSizes {
			raw := s.build(size.size)
			b.Run(s.name+"/"+size.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(raw)))
				for b.Loop() {
					if _, err := decode(o, raw); err == nil {
						b.Fatal("adversarial request accepted")
					}
				}
			})
		}
	}
}

// TestAdversarialAnswerBounded checks that the answer to each adversarial shape stays small:
// the violations are cut at validate.MaxViolations and what they echo is clipped.
func TestAdversarialAnswerBounded(t *testing.T) {
	for _, s := range adversarialShapes {
		t.Run(s.name, func(t *testing.T) {
			o, _ := catalog.Lookup(s.function)
			raw := s.build(1 << 20)
			res := op.Run(context.Background(), o, raw, op.Meta{})
			e := res.Err()
			if e == nil || e.Kind != op.KindValidation {
				t.Fatalf("Run = %+v, want a validation failure", res)
			}
			if n := len(e.Violations); n > validate.MaxViolations+1 {
				t.Errorf("%d violations listed", n)
			}
			if answer, _ := json.Marshal(res); len(answer) > 16<<10 {
				t.Errorf("answer of %d bytes to a request of %d", len(answer), len(raw))
			}
		})
	}
}

// TestAdversarialAllocationsLinear checks that the memory each shape costs grows no faster
// than the request (allocation counts and bytes are deterministic; time is for benchmarks).
func TestAdversarialAllocationsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes megabytes")
	}
	for _, s := range adversarialShapes {
		t.Run(s.name, func(t *testing.T) {
			o, _ := catalog.Lookup(s.function)
			small, large := s.build(32<<10), s.build(512<<10)
			measure := func(raw []byte) (allocs, bytes uint64) {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, _ = decode(o, raw)
				runtime.ReadMemStats(&after)
				return after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc
			}
			decode(o, small) // codecs and caches are built once, not per size
			a1, b1 := measure(small)
			a2, b2 := measure(large)
			// Linear within a factor of two (slices grow by doubling); quadratic would be 16 times more.
			ratio := float64(len(large)) / float64(len(small))
			if float64(a2) > 2*ratio*float64(a1)+100 || float64(b2) > 2*ratio*float64(b1)+64<<10 {
				t.Errorf("%.0f times the input: allocations %d → %d, bytes %d → %d", ratio, a1, a2, b1, b2)
			}
		})
	}
}

func decode(o op.Operation, raw []byte) (op.Request, error) {
	return o.Decode(context.Background(), raw)
}
