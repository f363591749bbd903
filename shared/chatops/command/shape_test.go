package command

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// TestEnumMessage pins the message of validate.Report.Enum that help reads.
func TestEnumMessage(t *testing.T) {
	var r validate.Report
	r.Enum("f", validate.Str("x"), "A", "B_C", "d.e")
	vs := r.Violations()
	if len(vs) != 1 {
		t.Fatalf("Enum recorded %v", vs)
	}
	got, ok := enumValues(vs[0].Message)
	if !ok || strings.Join(got, "|") != "A|B_C|d.e" {
		t.Errorf("enumValues(%q) = %v, %v: validate.Report.Enum's message changed; update probe.go", vs[0].Message, got, ok)
	}
	var req validate.Report
	req.RequiredString("f", validate.Str(""))
	if m := req.Violations()[0].Message; m != requiredMessage {
		t.Errorf("RequiredString says %q: validate's message changed; update probe.go", m)
	}
	for _, msg := range []string{"required", "must be between 1 and 5, got 9", "must be one of"} {
		if _, ok := enumValues(msg); ok {
			t.Errorf("enumValues(%q) read an enum", msg)
		}
	}
}

// status decodes itself, like ctyun.StatusCode: 800 and "800" both.
type status int

func (s *status) UnmarshalJSON(b []byte) error {
	n, err := strconv.Atoi(strings.Trim(string(b), `"`))
	*s = status(n)
	return err
}

type base struct {
	Shadowed string `json:"shadowed"` // hidden by exotic's own field
	Promoted int    `json:"promoted"`
}

type exotic struct {
	op.Common
	*base
	Shadowed bool                       `json:"shadowed"`
	Small    uint8                      `json:"small"`
	Ratio    float64                    `json:"ratio"`
	Int32    *int32                     `json:"int32"`
	Labels   map[string]int             `json:"labels"`
	Raw      json.RawMessage            `json:"raw"`
	Any      any                        `json:"any"`
	Status   status                     `json:"status"`
	Addr     netip.Addr                 `json:"addr"`
	Dash     string                     `json:"-,"`
	Untagged string                     // named by its Go name
	Skipped  string                     `json:"-"`
	Nested   map[string]struct{ A int } `json:"nested"`
	Grid     [][]string                 `json:"grid"`
}

func exoticOp() op.Operation {
	return &op.Spec[exotic, struct{}]{
		FunctionName: "test-exotic", ProviderName: "testcloud",
		Client:   func() (struct{}, error) { return struct{}{}, nil },
		Validate: func(*exotic, *validate.Report) {},
		Send: func(context.Context, struct{}, *exotic, op.Call) (op.Result, error) {
			return op.Result{}, errors.New("not called")
		},
	}
}

func TestParseTypes(t *testing.T) {
	ops := []op.Operation{exoticOp()}
	tests := []struct {
		args, want, problem string
	}{
		{"shadowed=true promoted=3", `{"shadowed":true,"promoted":3}`, ""},
		{"shadowed=x", "", "shadowed: must be true or false"},
		{"small=255", `{"small":255}`, ""},
		{"small=256", "", "small: is out of range"},
		{"small=-1", "", "small: must be a non-negative integer"},
		{"int32=-2147483648", `{"int32":-2147483648}`, ""},
		{"int32=2147483648", "", "int32: is out of range"},
		{"ratio=1.5 any=1", `{"ratio":1.5,"any":1}`, ""},
		{"ratio=1e3", `{"ratio":1000}`, ""},
		{"ratio=0x10", "", "ratio: must be a number"},
		{"ratio=NaN", "", "ratio: must be a number"},
		{"ratio=1e999", "", "ratio: is out of range"},
		{"labels.app=3 labels.tier=4", `{"labels":{"app":3,"tier":4}}`, ""},
		{`labels={"app":3}`, `{"labels":{"app":3}}`, ""},
		{"labels.app=x", "", "labels.app: must be an integer"},
		{"nested.x.A=1", `{"nested":{"x":{"A":1}}}`, ""},
		{"grid[0][1]=b grid[0][0]=a", `{"grid":[["a","b"]]}`, ""},
		{`grid[0]=["a"]`, `{"grid":[["a"]]}`, ""},
		// Values that decode themselves: JSON when it is JSON, else a string.
		{`raw={"a":[1,2]} any=[true]`, `{"raw":{"a":[1,2]},"any":[true]}`, ""},
		{"raw=abc any=null", `{"raw":"abc","any":null}`, ""},
		{`raw="123" status=800`, `{"raw":"123","status":800}`, ""},
		{"status=x8", `{"status":"x8"}`, ""},
		{"addr=10.0.0.1", `{"addr":"10.0.0.1"}`, ""},
		{"-=dash Untagged=u", `{"-":"dash","Untagged":"u"}`, ""},
		{"Skipped=x", "", "Skipped: unknown field"},
		{"base=x", "", "base: unknown field"},
		{"Dash=x", "", "Dash: unknown field"},
	}
	for _, tt := range tests {
		c, err := Parse("create test-exotic "+tt.args, ops)
		switch {
		case tt.problem == "" && err != nil:
			t.Errorf("%s: %v", tt.args, err)
		case tt.problem == "" && string(c.Request) != tt.want:
			t.Errorf("%s: request %s, want %s", tt.args, c.Request, tt.want)
		case tt.problem != "" && (err == nil || !strings.Contains(err.Error(), tt.problem)):
			t.Errorf("%s: error %v, want %q", tt.args, err, tt.problem)
		}
	}
}

func TestDescribeTypes(t *testing.T) {
	d := Describe(exoticOp())
	for _, line := range []string{
		"shadowed bool", "promoted int", "small int", "ratio number", "int32 int", "labels map", "raw JSON",
		"any JSON", "status JSON", "addr string", "- string", "Untagged string", "nested map", "grid [][]string",
	} {
		if !strings.Contains("\n"+d+"\n", "\n"+line+"\n") {
			t.Errorf("help has no %q:\n%s", line, d)
		}
	}
	if strings.Contains(d, "Skipped") || strings.Contains(d, "base") {
		t.Errorf("help lists a field encoding/json skips:\n%s", d)
	}
}

// A recursive type must not send the walkers round forever.
type tree struct {
	op.Common
	Name     string  `json:"name"`
	Children []*tree `json:"children"`
}

func TestRecursiveType(t *testing.T) {
	o := &op.Spec[tree, struct{}]{FunctionName: "test-tree", ProviderName: "testcloud",
		Validate: func(r *tree, v *validate.Report) { v.RequiredString("name", &r.Name) }}
	d := Describe(o)
	if !strings.Contains(d, "name* string") || !strings.Contains(d, "children []object") {
		t.Errorf("help:\n%s", d)
	}
	c, err := Parse("create test-tree children[0].children[0].name=x", []op.Operation{o})
	if err != nil || string(c.Request) != `{"children":[{"children":[{"name":"x"}]}]}` {
		t.Errorf("Parse = %s, %v", c.Request, err)
	}
}
