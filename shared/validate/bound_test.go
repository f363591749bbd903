package validate

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// items returns n copies of item joined by commas.
func items(item string, n int) string { return strings.TrimSuffix(strings.Repeat(item+",", n), ",") }

// members returns n members "<prefix><i>":value, i from 0.
func members(prefix, value string, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", prefix+fmt.Sprint(i), value)
	}
	return b.String()
}

func TestDecodeBoundedViolations(t *testing.T) {
	httpCode := func(i int) Violation {
		return Violation{Index("pool.healthCheckSpec.httpCode", i), "must be an integer, got a string"}
	}
	var first50 []Violation
	for i := range MaxViolations {
		first50 = append(first50, httpCode(i))
	}
	tests := []struct {
		name      string
		in        string
		wantFirst []Violation // the listed violations, Omitted excluded
		wantTotal int         // Count of the result
	}{
		{"exactly the limit: all listed, no summary",
			`{"pool":{"healthCheckSpec":{"httpCode":[` + items(`"x"`, MaxViolations) + `]}}}`, first50, MaxViolations},
		{"one past the limit",
			`{"pool":{"healthCheckSpec":{"httpCode":[` + items(`"x"`, MaxViolations+1) + `]}}}`, first50, MaxViolations + 1},
		{"16000 wrong items: the first 50 by index, and a count",
			`{"pool":{"healthCheckSpec":{"httpCode":[` + items(`"x"`, 16000) + `]}}}`, first50, 16000},
		{"unknown members come sorted by name, whatever their order",
			`{` + members("z", "1", 100) + `,"a":1}`,
			append([]Violation{{"a", "unknown field"}}, sortedUnknown("z", 100)[:MaxViolations-1]...), 101},
		{"repeated members come first, in document order",
			`{"region":"a","region":"b","regin":1,` + members("x", "1", 60) + `}`,
			append([]Violation{{"region", "appears more than once"}, {"regin", "unknown field"}}, sortedUnknown("x", 60)[:MaxViolations-2]...), 62},
		{"a member repeated thousands of times",
			`{` + items(`"region":"r"`, 5000) + `}`, repeat(Violation{"region", "appears more than once"}, MaxViolations), 4999},
		{"an unknown member repeated",
			`{"zz":1,"zz":2,"zz":3}`, []Violation{{"zz", "appears more than once"}, {"zz", "appears more than once"}, {"zz", "unknown field"}}, 3},
		{"what an earlier occurrence broke is withdrawn",
			`{"pool":{"members":[` + items(`{"rol":1}`, 40) + `]},"pool":{"nmae":1}}`,
			[]Violation{{"pool", "appears more than once"}, {"pool.nmae", "unknown field"}}, 2},
		{"withdrawn in a map too",
			`{"pool":{"tags":{"a":1,"b":"x","a":"y"}}}`, []Violation{{"pool.tags.a", "appears more than once"}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r request
			got := Decode(context.Background(), []byte(tt.in), &r)
			if n := Count(got); n != tt.wantTotal {
				t.Errorf("Count = %d, want %d", n, tt.wantTotal)
			}
			listed := got
			if tt.wantTotal > MaxViolations {
				if len(got) != MaxViolations+1 || got[MaxViolations] != Omitted(tt.wantTotal-MaxViolations) {
					t.Fatalf("got %d violations ending %v, want %d and %v", len(got), got[len(got)-1], MaxViolations+1, Omitted(tt.wantTotal-MaxViolations))
				}
				listed = got[:MaxViolations]
				if Located(got) || !reflect.DeepEqual(r, request{}) {
					t.Errorf("a request with too many violations was filled: %+v", r)
				}
			}
			if !reflect.DeepEqual(listed, tt.wantFirst) {
				t.Errorf("listed\n  %v\nwant\n  %v", listed, tt.wantFirst)
			}
		})
	}
}

func sortedUnknown(prefix string, n int) []Violation {
	var names []string
	for i := range n {
		names = append(names, prefix+fmt.Sprint(i))
	}
	var vs []Violation
	for _, name := range sortedStrings(names) {
		vs = append(vs, Violation{name, "unknown field"})
	}
	return vs
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out { // insertion sort: the test's own, not the code under test
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func repeat(v Violation, n int) []Violation {
	out := make([]Violation, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// What a violation echoes of the request is bounded, so the answer stays small.
func TestDecodeClipsEchoedText(t *testing.T) {
	long := strings.Repeat("é", 5000)
	in := `{"` + long + `":1,"big":` + strings.Repeat("9", 5000) + `}`
	var r request
	vs := Decode(context.Background(), []byte(in), &r)
	if len(vs) != 2 {
		t.Fatalf("got %v", vs)
	}
	for _, v := range vs {
		if len(v.Field)+len(v.Message) > maxNameInPath+60 {
			t.Errorf("violation of %d bytes: %.80s…", len(v.Field)+len(v.Message), v)
		}
		if !strings.HasSuffix(v.Field, "…") && !strings.HasSuffix(v.Message, "…") {
			t.Errorf("no cut marked in %.80s", v)
		}
	}
	var rep Report
	rep.Enum("f", Str(long), "A", "B")
	if m := rep.Violations()[0].Message; len(m) > maxMessage+len("…") {
		t.Errorf("rule message of %d bytes", len(m))
	}
}

func TestReportBounded(t *testing.T) {
	var r Report
	for i := range 1000 {
		r.Required(Index("items", i), false)
	}
	vs := r.Violations()
	if len(vs) != MaxViolations+1 || vs[MaxViolations] != Omitted(1000-MaxViolations) || r.Len() != 1000 || Count(vs) != 1000 {
		t.Fatalf("Report of 1000: %d listed, Len %d, Count %d, last %v", len(vs), r.Len(), Count(vs), vs[len(vs)-1])
	}
	// Adding a cut list carries its count on.
	var again Report
	again.Add(vs...)
	if again.Len() != 1000 || !reflect.DeepEqual(again.Violations(), vs) {
		t.Errorf("re-added: Len %d", again.Len())
	}
}

// A rule broken where decoding already refused the value is not reported again.
func TestReportDecodeCoversRules(t *testing.T) {
	var r Report
	var p pool
	if !r.Decode(context.Background(), []byte(`{"members":[{"address":7},{}],"protocl":"x"}`), &p) {
		t.Fatal("Decode: not located")
	}
	r.RequiredString("members[0].address", p.Members[0].Address) // mistyped: covered
	r.RequiredString("members[1].address", p.Members[1].Address) // missing: reported
	r.RequiredString("protocol", nil)                            // left missing by a typo: reported
	want := []Violation{{"members[0].address", "must be a string, got an integer"}, {"protocl", "unknown field"},
		{"members[1].address", "required"}, {"protocol", "required"}}
	if got := r.Violations(); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n  %v\nwant\n  %v", got, want)
	}
}

func TestDecodeStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	big := `{"pool":{"healthCheckSpec":{"httpCode":[` + items("1", 100000) + `]}}}`
	var r request
	vs := Decode(ctx, []byte(big), &r)
	if len(vs) != 1 || vs[0].Field != "" || !strings.Contains(vs[0].Message, context.Canceled.Error()) {
		t.Fatalf("Decode with an ended context = %v", vs)
	}
	if !reflect.DeepEqual(r, request{}) {
		t.Error("an interrupted Decode filled the request")
	}
}

// TestDecodeAllocationsLinear checks that memory does not grow faster than the input on
// adversarial shapes (allocation counts are deterministic; time is for benchmarks).
func TestDecodeAllocationsLinear(t *testing.T) {
	shapes := map[string]func(n int) string{
		"wrong items":     func(n int) string { return `{"pool":{"healthCheckSpec":{"httpCode":[` + items(`"x"`, n) + `]}}}` },
		"wrong members":   func(n int) string { return `{"pool":{"members":[` + items("1", n) + `]}}` },
		"repeated member": func(n int) string { return `{` + items(`"region":"r"`, n) + `}` },
		"unknown members": func(n int) string { return `{` + members("x", "1", n) + `}` },
		"unknown value":   func(n int) string { return `{"junk":[` + items(`{"a":[1,{"b":null}]}`, n) + `]}` },
		"valid items":     func(n int) string { return `{"pool":{"healthCheckSpec":{"httpCode":[` + items("200", n) + `]}}}` },
	}
	for name, shape := range shapes {
		t.Run(name, func(t *testing.T) {
			small, large := []byte(shape(1000)), []byte(shape(16000))
			allocs := func(in []byte) float64 {
				return testing.AllocsPerRun(3, func() {
					var r request
					Decode(context.Background(), in, &r)
				})
			}
			a, b := allocs(small), allocs(large)
			// 16 times the input may cost at most 16 times the allocations (plus a constant).
			if ratio := float64(len(large)) / float64(len(small)); b > ratio*a+64 {
				t.Errorf("allocations grew from %.0f to %.0f for %.1f times the input", a, b, ratio)
			}
		})
	}
}
