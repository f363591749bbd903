package catalog_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/op"
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

func decode(o op.Operation, raw []byte) (op.Request, error) {
	return o.Decode(context.Background(), raw)
}
