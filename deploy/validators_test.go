package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The offline validators. Each returns the problems it finds; each is skipped (with the
// reason) when its input from ../shared or npm is absent.

var (
	samSchemaPath = filepath.Join(repoRoot, "..", "shared", "schemas", "sam.schema.json")
	toolsDir      = filepath.Join(repoRoot, "deploy", "tools", "node_modules")
	cfnSpecPath   = filepath.Join(toolsDir, "@aws-cdk", "cfnspec", "spec", "specification.json")
	aslValidator  = filepath.Join(toolsDir, ".bin", "asl-validator")
)

func need(t testing.TB, path, why string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s is absent (%s): %s", path, why, "skipping")
	}
}

var samSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(samSchemaPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(ecmaRegexp)
	const url = "file:///sam.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
})

// leadingLookahead is a pattern that starts with a negative lookahead, "^(?!X)rest", which
// ECMA-262 (the schema's regex dialect) has and Go's RE2 does not.
var leadingLookahead = regexp.MustCompile(`^\^\(\?!([^()]*)\)(.*)$`)

// ecmaRegexp compiles the SAM schema's patterns: RE2 for all but the one form RE2 lacks, a
// leading negative lookahead ("^(?!AWS::Serverless::).+$": any type but SAM's own), which it
// matches as "the lookahead does not match at the start, and the rest does".
func ecmaRegexp(pattern string) (jsonschema.Regexp, error) {
	if re, err := regexp.Compile(pattern); err == nil {
		return re, nil
	}
	m := leadingLookahead.FindStringSubmatch(pattern)
	if m == nil {
		return nil, fmt.Errorf("unsupported regular expression %q", pattern)
	}
	not, err := regexp.Compile("^(?:" + m[1] + ")")
	if err != nil {
		return nil, err
	}
	rest, err := regexp.Compile("^" + m[2])
	if err != nil {
		return nil, err
	}
	return lookahead{pattern, not, rest}, nil
}

type lookahead struct {
	pattern   string
	not, rest *regexp.Regexp
}

func (l lookahead) MatchString(s string) bool {
	return !l.not.MatchString(s) && l.rest.MatchString(s)
}

func (l lookahead) String() string { return l.pattern }

// schemaProblems validates tpl against the SAM project's JSON schema.
func schemaProblems(t testing.TB, tpl template) []string {
	t.Helper()
	need(t, samSchemaPath, "../shared holds the SAM schema")
	sch, err := samSchema()
	if err != nil {
		t.Fatalf("SAM schema: %v", err)
	}
	b, _ := json.Marshal(tpl)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if ok := asValidationError(err, &ve); ok {
			return leafErrors(ve)
		}
		return []string{err.Error()}
	}
	return nil
}

func asValidationError(err error, target **jsonschema.ValidationError) bool {
	ve, ok := err.(*jsonschema.ValidationError)
	if ok {
		*target = ve
	}
	return ok
}

// leafErrors flattens a validation error to the deepest causes, with their locations.
func leafErrors(ve *jsonschema.ValidationError) []string {
	out := ve.DetailedOutput()
	var leaves []string
	var walk func(u jsonschema.OutputUnit)
	walk = func(u jsonschema.OutputUnit) {
		if len(u.Errors) == 0 && u.Error != nil {
			leaves = append(leaves, fmt.Sprintf("SAM schema: %s: %s", u.InstanceLocation, u.Error))
		}
		for _, e := range u.Errors {
			walk(e)
		}
	}
	walk(*out)
	if len(leaves) > 20 {
		leaves = append(leaves[:20], fmt.Sprintf("... and %d more", len(leaves)-20))
	}
	if len(leaves) == 0 {
		leaves = []string{ve.Error()}
	}
	return leaves
}

// cfnSpec is the part of the CloudFormation resource specification the checks read.
type cfnSpec struct {
	PropertyTypes map[string]cfnType `json:"PropertyTypes"`
	ResourceTypes map[string]struct {
		cfnType
		Attributes map[string]json.RawMessage `json:"Attributes"`
	} `json:"ResourceTypes"`
}

type cfnType struct {
	Properties map[string]cfnProperty `json:"Properties"`
}

type cfnProperty struct {
	Required          bool   `json:"Required"`
	PrimitiveType     string `json:"PrimitiveType"`
	Type              string `json:"Type"`
	ItemType          string `json:"ItemType"`
	PrimitiveItemType string `json:"PrimitiveItemType"`
}

var loadCfnSpec = sync.OnceValues(func() (*cfnSpec, error) {
	b, err := os.ReadFile(cfnSpecPath)
	if err != nil {
		return nil, err
	}
	var s cfnSpec
	return &s, json.Unmarshal(b, &s)
})

// cfnSpecProblems checks every resource that SAM does not transform (AWS::SQS::Queue,
// AWS::Logs::LogGroup...) against the CloudFormation resource specification: known type,
// known properties with values of the right shape, required ones present, and every
// !GetAtt on such a resource naming an attribute it has.
func cfnSpecProblems(t testing.TB, tpl template) []string {
	t.Helper()
	need(t, cfnSpecPath, "run `make deps` to install @aws-cdk/cfnspec")
	spec, err := loadCfnSpec()
	if err != nil {
		t.Fatalf("cfnspec: %v", err)
	}
	var problems []string
	ids := make([]string, 0, len(tpl.resources()))
	for id := range tpl.resources() {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		typ, _ := tpl.resource(id)["Type"].(string)
		if strings.HasPrefix(typ, "AWS::Serverless::") {
			continue
		}
		rt, ok := spec.ResourceTypes[typ]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: unknown resource type %q", id, typ))
			continue
		}
		problems = append(problems, checkProps(spec, typ, rt.cfnType, tpl.props(id), id+".Properties")...)
	}
	walkValues(tpl, func(v any) {
		res, attr := getAttOf(v)
		typ, _ := tpl.resource(res)["Type"].(string)
		if res == "" || strings.HasPrefix(typ, "AWS::Serverless::") {
			return
		}
		if rt, ok := spec.ResourceTypes[typ]; ok && rt.Attributes[attr] == nil {
			problems = append(problems, fmt.Sprintf("!GetAtt %s.%s: %s has no attribute %s", res, attr, typ, attr))
		}
	})
	return problems
}

func checkProps(spec *cfnSpec, resType string, typ cfnType, props map[string]any, path string) []string {
	var problems []string
	names := make([]string, 0, len(typ.Properties))
	for name := range typ.Properties {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, set := props[name]; typ.Properties[name].Required && !set {
			problems = append(problems, fmt.Sprintf("%s.%s: required", path, name))
		}
	}
	for name, v := range props {
		p, ok := typ.Properties[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s.%s: unknown property", path, name))
			continue
		}
		problems = append(problems, checkValue(spec, resType, p, v, path+"."+name)...)
	}
	return problems
}

func checkValue(spec *cfnSpec, resType string, p cfnProperty, v any, path string) []string {
	if isIntrinsic(v) {
		return nil
	}
	switch {
	case p.PrimitiveType != "":
		return checkPrimitive(p.PrimitiveType, v, path)
	case p.Type == "List":
		l, ok := v.([]any)
		if !ok {
			return []string{path + ": want a list"}
		}
		var problems []string
		for i, item := range l {
			problems = append(problems, checkValue(spec, resType, itemProperty(p), item, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return problems
	case p.Type == "Map":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{path + ": want a map"}
		}
		var problems []string
		for k, item := range m {
			problems = append(problems, checkValue(spec, resType, itemProperty(p), item, path+"."+k)...)
		}
		return problems
	default:
		m, ok := v.(map[string]any)
		if !ok {
			return []string{path + ": want an object of type " + p.Type}
		}
		return checkProps(spec, resType, propertyType(spec, resType, p.Type), m, path)
	}
}

func itemProperty(p cfnProperty) cfnProperty {
	return cfnProperty{PrimitiveType: p.PrimitiveItemType, Type: p.ItemType}
}

func propertyType(spec *cfnSpec, resType, name string) cfnType {
	if t, ok := spec.PropertyTypes[resType+"."+name]; ok {
		return t
	}
	return spec.PropertyTypes[name] // shared types such as "Tag"
}

func checkPrimitive(kind string, v any, path string) []string {
	ok := true
	switch kind {
	case "String", "Timestamp":
		switch v.(type) {
		case string, float64: // CloudFormation turns a YAML number into its string
		default:
			ok = false
		}
	case "Integer", "Long", "Double":
		switch x := v.(type) {
		case float64:
		case string:
			var f float64
			_, err := fmt.Sscan(x, &f)
			ok = err == nil
		default:
			ok = false
		}
	case "Boolean":
		ok = v == true || v == false || v == "true" || v == "false"
	case "Json":
		switch v.(type) {
		case map[string]any, string:
		default:
			ok = false
		}
	}
	if !ok {
		return []string{fmt.Sprintf("%s: want %s, got %v", path, kind, v)}
	}
	return nil
}

// isIntrinsic reports whether v is an intrinsic function ({"Ref": ...}, {"Fn::If": ...}),
// whose value only CloudFormation knows.
func isIntrinsic(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

func walkValues(v any, visit func(any)) {
	visit(v)
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			walkValues(c, visit)
		}
	case template:
		for _, c := range x {
			walkValues(c, visit)
		}
	case []any:
		for _, c := range x {
			walkValues(c, visit)
		}
	}
}

// subVariable matches a ${Name} or ${Name.Attribute} of !Sub (not the ${!Literal} escape).
var subVariable = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// referenceProblems reports every Ref, GetAtt, Sub variable and Condition that names nothing
// the template declares: a typo CloudFormation would only find at deploy time.
func referenceProblems(tpl template) []string {
	known := map[string]bool{}
	for id := range tpl.resources() {
		known[id] = true
	}
	for id := range obj(tpl["Parameters"]) {
		known[id] = true
	}
	conditions := obj(tpl["Conditions"])
	var problems []string
	check := func(what, name string) {
		if !known[name] && !strings.HasPrefix(name, "AWS::") {
			problems = append(problems, fmt.Sprintf("%s %s: not declared", what, name))
		}
	}
	walkValues(tpl, func(v any) {
		if id := refTo(v); id != "" {
			check("!Ref", id)
		}
		if id, _ := getAttOf(v); id != "" {
			check("!GetAtt", id)
		}
		if s, ok := obj(v)["Fn::Sub"].(string); ok {
			for _, m := range subVariable.FindAllStringSubmatch(s, -1) {
				name, _, _ := strings.Cut(m[1], ".")
				check("!Sub variable", name)
			}
		}
		if l, ok := obj(v)["Fn::If"].([]any); ok && len(l) == 3 {
			if c, _ := l[0].(string); conditions[c] == nil {
				problems = append(problems, fmt.Sprintf("!If %s: no such condition", c))
			}
		}
	})
	sort.Strings(problems)
	return problems
}

// aslProblems validates the state machine definition with asl-validator, after substituting
// every ${Placeholder} the way CloudFormation does with DefinitionSubstitutions (a sample ARN
// for each, since the validator checks Resource and FunctionName ARNs).
func aslProblems(t testing.TB, tpl template, dir string) []string {
	t.Helper()
	need(t, aslValidator, "run `make deps` to install asl-validator")
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: cannot run asl-validator")
	}
	def, err := stateMachineDefinition(tpl, dir)
	if err != nil {
		return []string{err.Error()}
	}
	def = placeholder.ReplaceAllFunc(def, func(m []byte) []byte {
		return []byte("arn:aws:lambda:us-east-1:123456789012:function:" + string(m[2:len(m)-1]))
	})
	file := filepath.Join(t.TempDir(), "definition.json")
	if err := os.WriteFile(file, def, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(aslValidator, "--json-path", file).CombinedOutput()
	if err != nil {
		return []string{fmt.Sprintf("asl-validator: %v: %s", err, bytes.TrimSpace(out))}
	}
	return nil
}
