package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// ctx is the context of every Decode here: none of these requests ends it.
var ctx = context.Background()

type member struct {
	Address *string `json:"address,omitempty"`
	Port    *int32  `json:"protocol_port,omitempty"`
	Weight  *int    `json:"weight,omitempty"`
	Role    *string `json:"role,omitempty"`
}

type health struct {
	HTTPCode []int   `json:"httpCode,omitempty"`
	Interval *int32  `json:"interval,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"`
	Small    float32 `json:"small,omitempty"`
}

type pool struct {
	Name    *string           `json:"name,omitempty"`
	Members []member          `json:"members,omitempty"`
	Health  *health           `json:"healthCheckSpec,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	Enabled *bool             `json:"enabled,omitempty"`
	Count   *uint8            `json:"count,omitempty"`
	Extra   json.RawMessage   `json:"extra,omitempty"`
	Any     any               `json:"any,omitempty"`
	Skipped string            `json:"-"`
	hidden  string
}

type common struct {
	Key    string `json:"idempotencyKey,omitempty"`
	DryRun bool   `json:"dryRun,omitempty"`
}

type request struct {
	common
	Region string `json:"region"`
	Pool   *pool  `json:"pool,omitempty"`
	Big    int64  `json:"big,omitempty"`
	Plain  int    // no tag: the Go name is the JSON name
}

// color decodes itself and refuses anything but "red".
type color string

func (c *color) UnmarshalJSON(b []byte) error {
	if string(b) != `"red"` {
		return errors.New("only red")
	}
	*c = "red"
	return nil
}

type custom struct {
	Color *color     `json:"color,omitempty"`
	When  *time.Time `json:"when,omitempty"`
}

func TestDecodeViolations(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Violation // nil: decodes
	}{
		{"valid", `{"region":"cn-north-1","pool":{"members":[{"address":"10.0.0.1","protocol_port":80}]}}`, nil},
		{"empty object", `{}`, nil},
		{"white space around", " \n{\"region\":\"x\"}\t\n", nil},
		{"empty body", ``, []Violation{{"", "request is empty: want a JSON object"}}},
		{"only white space", "  \n", []Violation{{"", "request is empty: want a JSON object"}}},
		{"array", `[1,2]`, []Violation{{"", "request must be a JSON object, got an array"}}},
		{"string", `"x"`, []Violation{{"", "request must be a JSON object, got a string"}}},
		{"number", `12`, []Violation{{"", "request must be a JSON object, got an integer"}}},
		{"null", `null`, []Violation{{"", "request must be a JSON object, got null"}}},
		{"true", `true`, []Violation{{"", "request must be a JSON object, got a boolean"}}},
		{"trailing object", `{} {}`, []Violation{{"", "request has data after the JSON object"}}},
		{"trailing brace", `{}}`, []Violation{{"", "request has data after the JSON object"}}},
		{"trailing bracket", `{"region":"x"}]`, []Violation{{"", "request has data after the JSON object"}}},
		{"trailing garbage", `{} x`, []Violation{{"", "request has data after the JSON object"}}},
		{"unknown top", `{"regin":"x"}`, []Violation{{"regin", "unknown field"}}},
		{"unknown nested", `{"pool":{"nmae":"x"}}`, []Violation{{"pool.nmae", "unknown field"}}},
		{"unknown in array item", `{"pool":{"members":[{"role":"a"},{"rol":"b"}]}}`,
			[]Violation{{"pool.members[1].rol", "unknown field"}}},
		{"unknown deep", `{"pool":{"healthCheckSpec":{"httpcode":[200]}}}`,
			[]Violation{{"pool.healthCheckSpec.httpcode", "unknown field"}}},
		{"case mismatch top", `{"Region":"x"}`, []Violation{{"Region", "unknown field"}}},
		{"case mismatch nested", `{"pool":{"Members":[]}}`, []Violation{{"pool.Members", "unknown field"}}},
		{"json dash field unknown", `{"pool":{"Skipped":"x"}}`, []Violation{{"pool.Skipped", "unknown field"}}},
		{"unexported field unknown", `{"pool":{"hidden":"x"}}`, []Violation{{"pool.hidden", "unknown field"}}},
		{"untagged field by Go name", `{"Plain":3}`, nil},
		{"untagged field lower case", `{"plain":3}`, []Violation{{"plain", "unknown field"}}},
		{"embedded struct fields", `{"idempotencyKey":"k","dryRun":true}`, nil},
		{"embedded struct name is not a field", `{"common":{}}`, []Violation{{"common", "unknown field"}}},
		{"string wanted", `{"region":5}`, []Violation{{"region", "must be a string, got an integer"}}},
		{"object wanted", `{"pool":[]}`, []Violation{{"pool", "must be an object, got an array"}}},
		{"array wanted", `{"pool":{"members":{}}}`, []Violation{{"pool.members", "must be an array, got an object"}}},
		{"bool wanted", `{"pool":{"enabled":"true"}}`, []Violation{{"pool.enabled", "must be a boolean, got a string"}}},
		{"int wanted", `{"pool":{"members":[{"weight":"1"}]}}`, []Violation{{"pool.members[0].weight", "must be an integer, got a string"}}},
		{"float for int", `{"pool":{"members":[{"weight":1.5}]}}`, []Violation{{"pool.members[0].weight", "must be an integer, got 1.5"}}},
		{"whole float for int", `{"pool":{"members":[{"weight":1.0}]}}`, []Violation{{"pool.members[0].weight", "must be an integer, got 1.0"}}},
		{"exponent for int", `{"pool":{"members":[{"weight":1e2}]}}`, []Violation{{"pool.members[0].weight", "must be an integer, got 1e2"}}},
		{"int32 max", `{"pool":{"members":[{"protocol_port":2147483647}]}}`, nil},
		{"int32 min", `{"pool":{"members":[{"protocol_port":-2147483648}]}}`, nil},
		{"int32 overflow", `{"pool":{"members":[{"protocol_port":2147483648}]}}`,
			[]Violation{{"pool.members[0].protocol_port", "is out of range, got 2147483648"}}},
		{"int32 underflow", `{"pool":{"members":[{"protocol_port":-2147483649}]}}`,
			[]Violation{{"pool.members[0].protocol_port", "is out of range, got -2147483649"}}},
		{"int64 overflow", `{"big":9223372036854775808}`, []Violation{{"big", "is out of range, got 9223372036854775808"}}},
		{"int in array", `{"pool":{"healthCheckSpec":{"httpCode":[200,"301",302.5]}}}`, []Violation{
			{"pool.healthCheckSpec.httpCode[1]", "must be an integer, got a string"},
			{"pool.healthCheckSpec.httpCode[2]", "must be an integer, got 302.5"}}},
		{"uint8 ok", `{"pool":{"count":255}}`, nil},
		{"uint8 overflow", `{"pool":{"count":256}}`, []Violation{{"pool.count", "is out of range, got 256"}}},
		{"uint8 negative", `{"pool":{"count":-1}}`, []Violation{{"pool.count", "is out of range, got -1"}}},
		{"float ok", `{"pool":{"healthCheckSpec":{"ratio":1.5e3}}}`, nil},
		{"float from string", `{"pool":{"healthCheckSpec":{"ratio":"1"}}}`, []Violation{{"pool.healthCheckSpec.ratio", "must be a number, got a string"}}},
		{"float64 overflow", `{"pool":{"healthCheckSpec":{"ratio":1e400}}}`, []Violation{{"pool.healthCheckSpec.ratio", "is out of range, got 1e400"}}},
		{"float32 overflow", `{"pool":{"healthCheckSpec":{"small":1e39}}}`, []Violation{{"pool.healthCheckSpec.small", "is out of range, got 1e39"}}},
		{"map values checked", `{"pool":{"tags":{"a":"x","b":2}}}`, []Violation{{"pool.tags.b", "must be a string, got an integer"}}},
		{"map wanted", `{"pool":{"tags":[]}}`, []Violation{{"pool.tags", "must be an object, got an array"}}},
		{"raw message takes anything", `{"pool":{"extra":[1,{"x":null}]}}`, nil},
		{"interface takes anything", `{"pool":{"any":{"deep":[true]}}}`, nil},
		{"nulls leave fields unset", `{"region":null,"pool":{"name":null,"members":[null],"healthCheckSpec":null,"tags":null,"enabled":null}}`, nil},
		{"duplicate member", `{"region":"a","region":"b"}`, []Violation{{"region", "appears more than once"}}},
		{"duplicate hides a typo", `{"pool":{"nmae":"x"},"pool":{}}`, []Violation{{"pool", "appears more than once"}}},
		{"duplicate of the wrong type", `{"region":1,"region":"x"}`, []Violation{{"region", "appears more than once"}}},
		{"duplicate in array item", `{"pool":{"members":[{},{"role":"a","role":"b"}]}}`,
			[]Violation{{"pool.members[1].role", "appears more than once"}}},
		{"all together, sorted", `{"zeta":1,"pool":{"members":[{"weight":"x","rol":1},{"address":7}],"enabled":1},"alpha":true,"region":false}`,
			[]Violation{
				{"alpha", "unknown field"},
				{"pool.enabled", "must be a boolean, got an integer"},
				{"pool.members[0].rol", "unknown field"},
				{"pool.members[0].weight", "must be an integer, got a string"},
				{"pool.members[1].address", "must be a string, got an integer"},
				{"region", "must be a string, got a boolean"},
				{"zeta", "unknown field"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r request
			got := Decode(ctx, []byte(tt.in), &r)
			if tt.want == nil {
				if got != nil {
					t.Fatalf("Decode(%s) = %v, want no violations", tt.in, got)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Decode(%s) =\n  %v\nwant\n  %v", tt.in, got, tt.want)
			}
			// Violations that name fields leave v filled as far as it could be read (for the
			// rules); one that names no field means there was nothing to read.
			if !Located(got) && !reflect.DeepEqual(r, request{}) {
				t.Errorf("Decode(%s) with an unlocated violation filled the request: %+v", tt.in, r)
			}
		})
	}
}

func TestDecodeInvalidJSON(t *testing.T) {
	for _, in := range []string{`{`, `{"a":}`, `{"a" 1}`, `{'a':1}`, `{"a":1,}`, `nul`, "\xff"} {
		var r request
		got := Decode(ctx, []byte(in), &r)
		if len(got) != 1 || got[0].Field != "" || !strings.HasPrefix(got[0].Message, "request is not valid JSON: ") {
			t.Errorf("Decode(%q) = %v, want one not-valid-JSON violation of field \"\"", in, got)
		}
	}
}

func TestDecodeDepthBounded(t *testing.T) {
	deep := `{"any":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`
	var p pool
	if vs := Decode(ctx, []byte(deep), &p); len(vs) != 1 || vs[0].Field != "" {
		t.Fatalf("Decode of 100000 nested arrays = %v, want one violation of field \"\"", vs)
	}
	ok := `{"any":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`
	if vs := Decode(ctx, []byte(ok), &p); vs != nil {
		t.Fatalf("Decode of 100 nested arrays = %v", vs)
	}
}

func TestDecodeValues(t *testing.T) {
	in := `{"region":"r","idempotencyKey":"k","dryRun":true,"big":-9223372036854775808,"Plain":7,
	        "pool":{"name":"","members":[{"address":"10.0.0.1","protocol_port":0,"weight":null}],
	                "healthCheckSpec":{"httpCode":[200,301]},"tags":{"a":"b"},"enabled":false}}`
	var r request
	if vs := Decode(ctx, []byte(in), &r); vs != nil {
		t.Fatalf("Decode: %v", vs)
	}
	if r.Key != "k" || !r.DryRun || r.Region != "r" || r.Big != -1<<63 || r.Plain != 7 {
		t.Errorf("top level = %+v", r)
	}
	p := r.Pool
	if p == nil || p.Name == nil || *p.Name != "" {
		t.Fatalf("pool.name: an empty string the user wrote must be kept: %+v", p)
	}
	m := p.Members[0]
	if m.Port == nil || *m.Port != 0 {
		t.Errorf("a zero the user wrote must be kept, got %v", m.Port)
	}
	if m.Weight != nil {
		t.Errorf("null must leave the field unset, got %v", *m.Weight)
	}
	if p.Enabled == nil || *p.Enabled {
		t.Errorf("enabled = %v, want false", p.Enabled)
	}
	if !reflect.DeepEqual(p.Health.HTTPCode, []int{200, 301}) || p.Tags["a"] != "b" {
		t.Errorf("pool = %+v", p)
	}
}

// Shadowing follows encoding/json: the shallower field wins, wherever it is declared.
func TestDecodeShadowedEmbeddedField(t *testing.T) {
	type inner struct {
		Name int `json:"name"`
	}
	type outer struct {
		inner
		Name string `json:"name"`
	}
	var o outer
	if vs := Decode(ctx, []byte(`{"name":"x"}`), &o); vs != nil {
		t.Fatalf("Decode: %v", vs)
	}
	if o.Name != "x" {
		t.Errorf("Name = %q", o.Name)
	}
	if vs := Decode(ctx, []byte(`{"name":1}`), &o); len(vs) != 1 || vs[0].Field != "name" {
		t.Errorf("Decode of an integer for the outer string field = %v", vs)
	}
}

func TestDecodeSelfDecodingTypes(t *testing.T) {
	tests := []struct {
		in    string
		field string // "" when valid
	}{
		{`{"color":"red"}`, ""},
		{`{"color":"blue"}`, "color"},
		{`{"color":null}`, ""},
		{`{"when":"2026-01-02T03:04:05Z"}`, ""},
		{`{"when":"yesterday"}`, "when"},
		{`{"when":5}`, "when"},
	}
	for _, tt := range tests {
		var c custom
		vs := Decode(ctx, []byte(tt.in), &c)
		switch {
		case tt.field == "" && vs != nil:
			t.Errorf("Decode(%s) = %v, want valid", tt.in, vs)
		case tt.field != "" && (len(vs) != 1 || vs[0].Field != tt.field):
			t.Errorf("Decode(%s) = %v, want one violation of %s", tt.in, vs, tt.field)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `null`, ``, `{"region":"x"}`, `{"pool":{"members":[{"rol":1},{"weight":1.5}]}}`,
		`{"pool":{"healthCheckSpec":{"httpCode":[200,"x"],"small":1e39}},"big":9223372036854775808}`,
		`{"pool":{"tags":{"a":"b"},"count":300,"extra":{"x":[1]}}}`, `{} }`, `{"Region":1,"region":2}`,
		`{"idempotencyKey":"k","dryRun":true,"Plain":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r request
		vs := Decode(ctx, data, &r)
		if vs == nil {
			// Whatever Decode accepted, encoding/json must accept as well, and read the same.
			var again request
			if err := json.Unmarshal(data, &again); err != nil {
				t.Fatalf("Decode accepted %q, json.Unmarshal refused: %v", data, err)
			}
			if !reflect.DeepEqual(r, again) {
				t.Fatalf("Decode(%q) read\n  %+v\njson.Unmarshal read\n  %+v", data, r, again)
			}
			return
		}
		// Syntax is judged as encoding/json judges it (but for the nesting bound).
		notJSON := len(vs) == 1 && strings.HasPrefix(vs[0].Message, "request is not valid JSON")
		trailing := len(vs) == 1 && vs[0].Message == "request has data after the JSON object"
		if !notJSON && !trailing && !json.Valid(data) && len(bytes.TrimSpace(data)) > 0 {
			t.Fatalf("Decode(%q) = %v, but json.Valid refuses it", data, vs)
		}
		if notJSON && json.Valid(data) && !strings.Contains(vs[0].Message, "nested deeper") {
			t.Fatalf("Decode(%q) = %v, but json.Valid accepts it", data, vs)
		}
		for _, v := range vs {
			if v.Message == "" {
				t.Fatalf("violation without message: %+v", v)
			}
			// The tree check must refuse everything encoding/json would: otherwise the
			// violation has no field to point the user at.
			if strings.HasPrefix(v.Message, "request could not be decoded") {
				t.Fatalf("Decode(%q): check accepted what json.Unmarshal refused: %v", data, v)
			}
		}
		if !Located(vs) && !reflect.DeepEqual(r, request{}) {
			t.Fatalf("Decode(%q) filled the request though it reported %v", data, vs)
		}
		if len(vs) > MaxViolations+1 || (len(vs) == MaxViolations+1 && Count(vs) <= len(vs)) {
			t.Fatalf("Decode(%q) listed %d violations", data, len(vs))
		}
		var c custom
		_ = Decode(ctx, data, &c)
	})
}

// BenchmarkDecode decodes a realistic nested create-pool request.
func BenchmarkDecode(b *testing.B) {
	raw := []byte(`{"region":"cn-north-4","idempotencyKey":"order-1234","dryRun":false,
	  "pool":{"name":"web-pool","tags":{"env":"prod","team":"edge"},"enabled":true,"count":3,
	    "healthCheckSpec":{"httpCode":[200,201,204,301,302],"interval":5,"ratio":0.5},
	    "members":[
	      {"address":"192.168.0.10","protocol_port":8080,"weight":10,"role":"master"},
	      {"address":"192.168.0.11","protocol_port":8080,"weight":10,"role":"slave"},
	      {"address":"192.168.0.12","protocol_port":8080,"weight":5}]}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var r request
		if vs := Decode(ctx, raw, &r); vs != nil {
			b.Fatal(vs)
		}
	}
}
