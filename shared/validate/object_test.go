package validate

import (
	"reflect"
	"testing"
)

// An Object's checks name a failing member by the path Join gives it, and a holding check
// records nothing.
func TestObjectNamesMembersByPath(t *testing.T) {
	tests := []struct {
		name  string
		check func(*Report)
		want  []Violation
	}{
		{"holds", func(r *Report) {
			o := r.Object("pool")
			o.Required("a", true)
			o.RequiredString("b", Str("x"))
			o.Range("c", nil, 1, 2)
		}, nil},
		{"member", func(r *Report) { r.Object("pool").Required("name", false) }, []Violation{{"pool.name", "required"}}},
		{"empty member name", func(r *Report) { r.Object("pool").RequiredString("", nil) }, []Violation{{`pool[""]`, "required"}}},
		{"item", func(r *Report) { r.Object(Index("pool.members", 1)).Enum("role", Str("x"), "master") },
			[]Violation{{"pool.members[1].role", `must be one of master, got "x"`}}},
		{"nested", func(r *Report) {
			hm := r.Object("pool").Object("healthmonitor")
			hm.Range("delay", &[]int{0}[0], 1, 50)
			if got := hm.Path("type"); got != "pool.healthmonitor.type" {
				r.Addf("", "Path = %s", got)
			}
		}, []Violation{{"pool.healthmonitor.delay", "must be between 1 and 50, got 0"}}},
		{"required number", func(r *Report) {
			o := r.Object("hc")
			o.RequiredRange("a", nil, 1, 2)
			o.RequiredRange("b", &[]int{3}[0], 1, 2)
			o.RequiredRange("c", &[]int{2}[0], 1, 2)
		}, []Violation{{"hc.a", "required"}, {"hc.b", "must be between 1 and 2, got 3"}}},
		{"the request itself", func(r *Report) { r.Object("").Addf("name", "bad") }, []Violation{{"name", "bad"}}},
		{"report's own checks take whole paths", func(r *Report) { r.Required("", false); r.Length("a.b", Str("xyz"), 0, 2) },
			[]Violation{{"", "required"}, {"a.b", "must be at most 2 characters, got 3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Report
			tt.check(&r)
			if got := r.Violations(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("violations %v, want %v", got, tt.want)
			}
		})
	}
}
