package validate

import (
	"reflect"
	"regexp"
	"testing"
)

func TestPaths(t *testing.T) {
	tests := []struct{ got, want string }{
		{Join("", "pool"), "pool"},
		{Join("pool", "members"), "pool.members"},
		{Index("pool.members", 1), "pool.members[1]"},
		{Join(Index("pool.members", 1), "role"), "pool.members[1].role"},
		{Index(Join("healthCheckSpec", "httpCode"), 0), "healthCheckSpec.httpCode[0]"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestViolationString(t *testing.T) {
	if s := (Violation{Field: "pool.name", Message: "required"}).String(); s != "pool.name: required" {
		t.Errorf("String() = %q", s)
	}
	if s := (Violation{Message: "request is empty"}).String(); s != "request is empty" {
		t.Errorf("String() without field = %q", s)
	}
}

func TestReportChecks(t *testing.T) {
	re := regexp.MustCompile(`^[a-z]+$`)
	tests := []struct {
		name  string
		check func(r *Report) bool
		want  string // "" when the rule holds
	}{
		{"Required present", func(r *Report) bool { return r.Required("f", true) }, ""},
		{"Required absent", func(r *Report) bool { return r.Required("f", false) }, "f: required"},
		{"RequiredString set", func(r *Report) bool { return r.RequiredString("f", Str("x")) }, ""},
		{"RequiredString nil", func(r *Report) bool { return r.RequiredString("f", nil) }, "f: required"},
		{"RequiredString empty", func(r *Report) bool { return r.RequiredString("f", Str("")) }, "f: required"},
		{"Forbidden absent", func(r *Report) bool { return r.Forbidden("f", false, "when type is TCP") }, ""},
		{"Forbidden present", func(r *Report) bool { return r.Forbidden("f", true, "when type is TCP") }, "f: not allowed when type is TCP"},
		{"Enum nil", func(r *Report) bool { return r.Enum("f", nil, "TCP", "UDP") }, ""},
		{"Enum member", func(r *Report) bool { return r.Enum("f", Str("UDP"), "TCP", "UDP") }, ""},
		{"Enum case differs", func(r *Report) bool { return r.Enum("f", Str("tcp"), "TCP", "UDP") }, `f: must be one of TCP, UDP, got "tcp"`},
		{"Enum empty string", func(r *Report) bool { return r.Enum("f", Str(""), "TCP") }, `f: must be one of TCP, got ""`},
		{"Range nil", func(r *Report) bool { return r.Range("f", nil, 1, 10) }, ""},
		{"Range min", func(r *Report) bool { return r.Range("f", intp(1), 1, 10) }, ""},
		{"Range max", func(r *Report) bool { return r.Range("f", intp(10), 1, 10) }, ""},
		{"Range below", func(r *Report) bool { return r.Range("f", intp(0), 1, 10) }, "f: must be between 1 and 10, got 0"},
		{"Range above", func(r *Report) bool { return r.Range("f", intp(11), 1, 10) }, "f: must be between 1 and 10, got 11"},
		{"Length nil", func(r *Report) bool { return r.Length("f", nil, 1, 3) }, ""},
		{"Length runes not bytes", func(r *Report) bool { return r.Length("f", Str("负载均衡"), 1, 4) }, ""},
		{"Length too long", func(r *Report) bool { return r.Length("f", Str("负载均衡器"), 1, 4) }, "f: must be 1 to 4 characters, got 5"},
		{"Length too short", func(r *Report) bool { return r.Length("f", Str(""), 1, 4) }, "f: must be 1 to 4 characters, got 0"},
		{"Length max only", func(r *Report) bool { return r.Length("f", Str("abcd"), 0, 3) }, "f: must be at most 3 characters, got 4"},
		{"Match nil", func(r *Report) bool { return r.Match("f", nil, re, "lower-case letters") }, ""},
		{"Match ok", func(r *Report) bool { return r.Match("f", Str("abc"), re, "lower-case letters") }, ""},
		{"Match bad", func(r *Report) bool { return r.Match("f", Str("aB"), re, "lower-case letters") }, `f: must be lower-case letters, got "aB"`},
		{"IP nil", func(r *Report) bool { return r.IP("f", nil) }, ""},
		{"IP v4", func(r *Report) bool { return r.IP("f", Str("10.0.0.1")) }, ""},
		{"IP v6", func(r *Report) bool { return r.IP("f", Str("fe80::1")) }, ""},
		{"IP bad", func(r *Report) bool { return r.IP("f", Str("10.0.0.256")) }, `f: must be an IP address, got "10.0.0.256"`},
		{"IP host name", func(r *Report) bool { return r.IP("f", Str("example.com")) }, `f: must be an IP address, got "example.com"`},
		{"IP with port", func(r *Report) bool { return r.IP("f", Str("10.0.0.1:80")) }, `f: must be an IP address, got "10.0.0.1:80"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Report
			held := tt.check(&r)
			if held != (tt.want == "") {
				t.Errorf("returned %v, want %v", held, tt.want == "")
			}
			if tt.want == "" {
				if !r.OK() || len(r.Violations()) != 0 {
					t.Errorf("recorded %v, want nothing", r.Violations())
				}
				return
			}
			vs := r.Violations()
			if r.OK() || len(vs) != 1 || vs[0].String() != tt.want {
				t.Errorf("recorded %v, want [%s]", vs, tt.want)
			}
		})
	}
}

func TestReportKeepsOrder(t *testing.T) {
	var r Report
	if !r.OK() || r.Violations() != nil {
		t.Fatal("zero Report is not empty")
	}
	r.Addf("b", "first %d", 1)
	r.Add(Violation{Field: "a", Message: "second"}, Violation{Field: "c", Message: "third"})
	r.Required("a", false)
	want := []Violation{{"b", "first 1"}, {"a", "second"}, {"c", "third"}, {"a", "required"}}
	if !reflect.DeepEqual(r.Violations(), want) {
		t.Errorf("Violations() = %v, want %v", r.Violations(), want)
	}
}

func intp(n int) *int { return &n }

func TestCoveredAndLocated(t *testing.T) {
	vs := []Violation{{Field: "pool.members[1]", Message: "must be an object"}, {Field: "port", Message: "must be an integer"}}
	for field, want := range map[string]bool{
		"port":                 true,
		"pool.members[1]":      true,
		"pool.members[1].role": true,
		"pool.members[10]":     false, // a different item, not a prefix match
		"portal":               false,
		"pool.members[0].role": false,
		"pool":                 false,
	} {
		if got := Covered(vs, field); got != want {
			t.Errorf("Covered(%q) = %v, want %v", field, got, want)
		}
	}
	if !Located(vs) || Located(append(vs, Violation{Field: "", Message: "not an object"})) || !Located(nil) {
		t.Error("Located: want true only when every violation names a field")
	}
}

func TestJoinEmptyName(t *testing.T) {
	for _, tt := range []struct{ parent, name, want string }{
		{"", "", `[""]`},
		{"pool", "", `pool[""]`},
		{"", "pool", "pool"},
		{"pool", "name", "pool.name"},
	} {
		if got := Join(tt.parent, tt.name); got != tt.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tt.parent, tt.name, got, tt.want)
		}
	}
}
