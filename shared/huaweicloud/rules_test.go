package huaweicloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/huaweicloud"
	"github.com/lbfn/lbfn/shared/op"
)

var update = flag.Bool("update", false, "rewrite RULES.md from the rule tables")

// An edit sets (or, with del, removes) the value at a JSON path such as pool.members[1].role.
type edit struct {
	path  string
	value any
	del   bool
}

func set(path string, value any) edit { return edit{path: path, value: value} }
func del(path string) edit            { return edit{path: path, del: true} }

type obj = map[string]any

func edits(es ...edit) []edit { return es }

// ruleCase is one documented rule: a valid request that exercises it and an invalid one
// whose violations must be exactly fields.
type ruleCase struct {
	name    string
	rule    string
	source  string
	apis    []string
	valid   []edit
	invalid []edit
	fields  []string
}

// A ruleTable holds the documented rules of the Huawei operations that create one kind of
// object, and RULES.md's section on them. Every Huawei operation of shared/catalog is an api
// of one table (TestRulesCoverTheCatalog): a new kind of object is a new table in its own
// rules_<object>_test.go that adds it to ruleTables (rules_pools_test.go is the example);
// another API of a kind already here is one more api of its table.
type ruleTable struct {
	title string // RULES.md's heading: "Pools"
	// key is the body key of its operations' requests and wire bodies: "pool".
	key string
	// apis are its operations, each with the short name its cases use.
	apis []ruleAPI
	// intro is RULES.md's Markdown before the section's table: the APIs and where the rules
	// come from.
	intro string
	// bodySource is where the rule "the object is required" comes from.
	bodySource string
	// cases are the object's own rules, after those every operation shares (routingCases).
	cases []ruleCase
}

// A ruleAPI is one operation as a table's cases name it.
type ruleAPI struct {
	name     string // the cases' short name: "v2"
	function string // the operation in shared/catalog: "huawei-create-pool"
	base     string // a valid request every case starts from
}

// ruleTables are the tables, each added by the init of its rules_<object>_test.go.
var ruleTables []ruleTable

// tables are ruleTables by body key: RULES.md's order, whatever the order of the inits.
func tables() []ruleTable {
	return slices.SortedFunc(slices.Values(ruleTables), func(a, b ruleTable) int { return strings.Compare(a.key, b.key) })
}

const demoProject = "0123456789abcdef0123456789abcdef"

// Where the rules every operation shares come from (RULES.md names each in full).
const (
	srcReadme  = "README.md (Functions)"
	srcRegions = "Huawei's region ids"
)

// routingCases are the rules every Huawei operation shares (the routing fields, the body
// object at t.key, strict decoding), for every api of t.
func routingCases(t ruleTable) []ruleCase {
	apis := make([]string, len(t.apis))
	for i, a := range t.apis {
		apis[i] = a.name
	}
	k := t.key
	return []ruleCase{
		{"region-required", "`region` is required", srcReadme, apis, nil, edits(del("region")), []string{"region"}},
		{"region-format", "`region` matches `^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$`", srcRegions, apis,
			edits(set("region", "ap-southeast-1")), edits(set("region", "cn_north_4")), []string{"region"}},
		{"project-id-format", "`projectId` is 32 lower-case letters and digits", srcReadme, apis,
			edits(del("projectId")), edits(set("projectId", "0123456789ABCDEF0123456789abcdef")), []string{"projectId"}},
		{k + "-required", "`" + k + "` is required", t.bodySource, apis, nil, edits(del(k)), []string{k}},
		// Protocol: member names are matched exactly (encoding/json would take it for protocol).
		{"unknown-field", "unknown fields are rejected, at any depth", srcReadme, apis,
			nil, edits(set("regoin", "cn-north-4"), set(k+".Protocol", "TCP")), []string{k + ".Protocol", "regoin"}},
		{"common-top-level-only", "common fields live at the top level only", srcReadme, apis,
			edits(set("dryRun", true), set("idempotencyKey", "k1")), edits(set(k+".dryRun", true)), []string{k + ".dryRun"}},
	}
}

// allCases are t's cases: those every operation shares, then its own.
func (t ruleTable) allCases() []ruleCase { return append(routingCases(t), t.cases...) }

// huaweiOperations are the Huawei operations of shared/catalog.
func huaweiOperations() []op.Operation {
	var ops []op.Operation
	for _, o := range catalog.Operations {
		if o.Provider() == huaweicloud.ProviderName {
			ops = append(ops, o)
		}
	}
	return ops
}

// tableOf returns the table and api of the operation serving function.
func tableOf(function string) (ruleTable, ruleAPI, bool) {
	for _, t := range tables() {
		for _, a := range t.apis {
			if a.function == function {
				return t, a, true
			}
		}
	}
	return ruleTable{}, ruleAPI{}, false
}

// bodyField is the field of request type t that holds the provider's object: its one JSON
// member besides op.Common's and the routing fields region and projectId.
func bodyField(t reflect.Type) (reflect.StructField, bool) {
	var found []reflect.StructField
	for _, f := range reflect.VisibleFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous || !f.IsExported() || name == "" || name == "-" || name == "region" || name == "projectId" ||
			slices.ContainsFunc(reflect.VisibleFields(reflect.TypeFor[op.Common]()), func(c reflect.StructField) bool { return c.Name == f.Name }) {
			continue
		}
		found = append(found, f)
	}
	if len(found) != 1 {
		return reflect.StructField{}, false
	}
	return found[0], true
}

// bodyKey is the body key of o's requests: "pool".
func bodyKey(o op.Operation) string {
	f, ok := bodyField(o.RequestType())
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// TestRulesCoverTheCatalog: every Huawei operation of shared/catalog has its rule cases, in a
// table of its body key, and every table's api is such an operation.
func TestRulesCoverTheCatalog(t *testing.T) {
	for _, o := range huaweiOperations() {
		table, api, ok := tableOf(o.Function())
		if !ok {
			key := bodyKey(o)
			t.Errorf("%s (shared/catalog) has no rule cases: add ruleAPI{<short name>, %q, <a valid request>} to the "+
				"ruleTable of body key %q (a new one in shared/huaweicloud/rules_%s_test.go, its init adding it to ruleTables, "+
				"as rules_pools_test.go does), and a ruleCase for each of its rules; then run "+
				"go test ./shared/huaweicloud -run TestRulesTable -update", o.Function(), o.Function(), key, key)
			continue
		}
		if key := bodyKey(o); key != table.key {
			t.Errorf("%s holds its object at %q, but is an api of the %q table", o.Function(), key, table.key)
		}
		own := 0
		for _, c := range table.cases {
			if slices.Contains(c.apis, api.name) {
				own++
			}
		}
		if own == 0 {
			t.Errorf("%s (%s) is in the %q table but no case of its own rules names it: add a ruleCase whose apis include %q",
				o.Function(), api.name, table.key, api.name)
		}
	}
	keys := map[string]bool{}
	for _, table := range tables() {
		if keys[table.key] {
			t.Errorf("two tables of body key %q: one kind of object is one table", table.key)
		}
		keys[table.key] = true
		for _, a := range table.apis {
			if o, ok := catalog.Lookup(a.function); !ok || o.Provider() != huaweicloud.ProviderName {
				t.Errorf("%s table: %s is no Huawei operation of shared/catalog", table.key, a.function)
			}
		}
	}
}

// apply returns base with the edits made.
func apply(t testing.TB, base string, es []edit) []byte {
	t.Helper()
	var tree any
	if err := json.Unmarshal([]byte(base), &tree); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		tree = setPath(tree, splitPath(e.path), e)
	}
	b, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type step struct {
	key   string
	index int // -1 for a key
}

func splitPath(path string) []step {
	var steps []step
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		steps = append(steps, step{key: name, index: -1})
		for rest != "" {
			n, after, _ := strings.Cut(rest, "]")
			i, _ := strconv.Atoi(n)
			steps = append(steps, step{index: i})
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return steps
}

func setPath(node any, steps []step, e edit) any {
	s := steps[0]
	if s.index < 0 {
		m, _ := node.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		switch {
		case len(steps) > 1:
			m[s.key] = setPath(m[s.key], steps[1:], e)
		case e.del:
			delete(m, s.key)
		default:
			m[s.key] = e.value
		}
		return m
	}
	arr, _ := node.([]any)
	switch {
	case len(steps) > 1:
		arr[s.index] = setPath(arr[s.index], steps[1:], e)
	case e.del:
		arr = append(arr[:s.index], arr[s.index+1:]...)
	default:
		arr[s.index] = e.value
	}
	return arr
}

// violationFields decodes raw with the operation and returns the violation paths, sorted.
func violationFields(t *testing.T, o op.Operation, raw []byte) []string {
	t.Helper()
	_, err := o.Decode(context.Background(), raw)
	if err == nil {
		return nil
	}
	var e *op.Error
	if !errors.As(err, &e) || e.Kind != op.KindValidation {
		t.Fatalf("Decode error is %v, want a validation *op.Error", err)
	}
	var fields []string
	for _, v := range e.Violations {
		fields = append(fields, v.Field)
	}
	slices.Sort(fields)
	return fields
}

// TestRules runs every case of every table, as TestRules/<key>/<case>, on each api it lists.
func TestRules(t *testing.T) {
	for _, table := range tables() {
		apis := map[string]ruleAPI{}
		for _, a := range table.apis {
			apis[a.name] = a
		}
		names := map[string]bool{}
		for _, c := range table.allCases() {
			if names[c.name] {
				t.Fatalf("%s table: duplicate case name %s", table.key, c.name)
			}
			names[c.name] = true
			t.Run(table.key+"/"+c.name, func(t *testing.T) {
				for _, name := range c.apis {
					api, ok := apis[name]
					if !ok {
						t.Fatalf("%s is no api of the %s table", name, table.key)
					}
					o, ok := catalog.Lookup(api.function)
					if !ok {
						t.Fatalf("%s is not in shared/catalog", api.function)
					}
					valid := apply(t, api.base, c.valid)
					if got := violationFields(t, o, valid); got != nil {
						t.Errorf("%s: valid request %s\nhas violations %v", name, valid, got)
					}
					invalid := apply(t, api.base, c.invalid)
					want := slices.Sorted(slices.Values(c.fields))
					if got := violationFields(t, o, invalid); !slices.Equal(got, want) {
						t.Errorf("%s: invalid request %s\nviolations %v, want exactly %v", name, invalid, got, want)
					}
				}
			})
		}
	}
}

// TestRulesTable keeps RULES.md in step with the tables: run with -update to rewrite it.
func TestRulesTable(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("# Huawei Cloud ELB: documented rules and their tests\n\n")
	b.WriteString("Generated from the rule tables (one `rules_<object>_test.go` per kind of object, in `ruleTables`) by\n")
	b.WriteString("`go test ./shared/huaweicloud -run TestRulesTable -update`; do not edit by hand. Every rule is\n")
	b.WriteString("checked before any network call (and by the emulator on what it receives). Each case starts from a\n")
	b.WriteString("valid request of each API listed, applies the valid edits (the request must pass) and the invalid\n")
	b.WriteString("edits (the violations must be exactly the fields listed). The first rules of each section, those\n")
	b.WriteString("of the routing fields, the body object and strict decoding, are every operation's.\n")
	for _, table := range tables() {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", table.title, table.intro)
		b.WriteString("| Rule | Source | APIs | Test case | Valid edits | Invalid edits | Violations |\n")
		b.WriteString("|---|---|---|---|---|---|---|\n")
		for _, c := range table.allCases() {
			fmt.Fprintf(&b, "| %s | %s | %s | `TestRules/%s/%s` | %s | %s | %s |\n",
				cell(c.rule), cell(c.source), strings.Join(c.apis, ", "), table.key, c.name,
				renderEdits(c.valid), renderEdits(c.invalid), renderFields(c.fields))
		}
	}
	const file = "RULES.md"
	if *update {
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(file)
	if err != nil || !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("%s is stale or missing (%v): run go test ./shared/huaweicloud -run TestRulesTable -update", file, err)
	}
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func renderEdits(es []edit) string {
	if len(es) == 0 {
		return "(base request)"
	}
	parts := make([]string, len(es))
	for i, e := range es {
		if e.del {
			parts[i] = "`-" + e.path + "`"
			continue
		}
		parts[i] = "`" + e.path + "=" + renderValue(e.value) + "`"
	}
	return cell(strings.Join(parts, " "))
}

func renderValue(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(shortenStrings(v))
	return strings.TrimSpace(b.String())
}

// shortenStrings keeps long test strings readable in the table: "nnnnnnnn…(256 chars)".
func shortenStrings(v any) any {
	switch v := v.(type) {
	case string:
		if r := []rune(v); len(r) > 24 {
			return fmt.Sprintf("%s…(%d chars)", string(r[:8]), len(r))
		}
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = shortenStrings(x)
		}
		return m
	}
	return v
}

func renderFields(fs []string) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = "`" + f + "`"
	}
	return strings.Join(parts, ", ")
}
