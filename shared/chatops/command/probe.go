package command

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// The rules live in each provider's Validate (shared/*/rules.go) and nowhere else. Help learns
// which fields are required, and the values an enum allows, by asking the operation's own
// Decode about small probe requests and reading its violations, so it cannot drift from the
// rules: a field it requires when its object is empty is required; a field whose odd value
// is refused with validate.Report.Enum's "must be one of A, B, got …" is an enum of A, B;
// "required when …" and "at least one of …" found on the way are kept as notes.

// probeValue is a string no enum allows.
const probeValue = "?"

// Messages of shared/validate's checks that probes read (see validate.Report).
const (
	requiredMessage = "required"
	enumPrefix      = "must be one of "
	enumGot         = ", got "
)

// facts are what the probes learned, by display path (array items as [n]).
type facts struct {
	required map[string]bool
	enums    map[string][]string
	notes    map[string][]string
}

func (f *facts) note(path, text string) {
	if !slices.Contains(f.notes[path], text) {
		f.notes[path] = append(f.notes[path], text)
	}
}

// learned caches facts by operation: probing costs a few hundred Decode calls of small
// requests (milliseconds), and an operation's type and rules never change.
var learned sync.Map // op.Operation → *facts

// learn probes o, once per operation.
func learn(o op.Operation, root *shape) *facts {
	// Operations are pointers (*op.Spec) in practice; anything else that cannot be a map key
	// is probed every time rather than risk a panic.
	cacheable := reflect.ValueOf(o).Comparable()
	if cacheable {
		if f, ok := learned.Load(o); ok {
			return f.(*facts)
		}
	}
	f := probe(o, root)
	if cacheable {
		learned.Store(o, f)
	}
	return f
}

func probe(o op.Operation, root *shape) *facts {
	f := &facts{required: map[string]bool{}, enums: map[string][]string{}, notes: map[string][]string{}}
	walkObjects(root, nil, "", map[*shape]bool{}, func(sh *shape, chain []seg, path string) {
		probeObject(o, f, sh, chain, path)
	})
	return f
}

// walkObjects calls visit for every object shape reachable from sh (at path, reached by
// chain, array items at index 0), stopping at a shape already on the way (a recursive type).
func walkObjects(sh *shape, chain []seg, path string, onPath map[*shape]bool, visit func(*shape, []seg, string)) {
	switch {
	case onPath[sh]:
		return
	case sh.kind == kindArray:
		walkObjects(sh.elem, append(slices.Clip(chain), seg{index: 0}), validate.Index(path, 0), onPath, visit)
		return
	case sh.kind != kindObject:
		return
	}
	onPath[sh] = true
	defer delete(onPath, sh)
	visit(sh, chain, path)
	for _, fl := range sh.fields {
		walkObjects(fl.shape, append(slices.Clip(chain), seg{name: fl.name, index: -1}), validate.Join(path, fl.name), onPath, visit)
	}
}

func probeObject(o op.Operation, f *facts, sh *shape, chain []seg, path string) {
	children := map[string]bool{}
	for _, fl := range sh.fields {
		children[validate.Join(path, fl.name)] = true
	}
	// The empty object: what must be there.
	for _, v := range violations(o, chain, nil) {
		if !children[v.Field] {
			continue
		}
		switch {
		case v.Message == requiredMessage || strings.HasPrefix(v.Message, requiredMessage+":"):
			f.required[display(v.Field)] = true
		case isEnum(v.Message): // an unchecked empty value; the enum is shown as a|b
		default:
			f.note(display(v.Field), ruleText(v.Message))
		}
	}
	// Each string on its own: its enum.
	var enums []*field
	for _, fl := range sh.fields {
		if probeEnum(o, f, chain, path, fl, nil) {
			enums = append(enums, fl)
		}
	}
	// Each enum value: what it requires, and enums that apply only beside it.
	for _, e := range enums {
		at := validate.Join(path, e.name)
		for _, value := range f.enums[display(at)] {
			set := []member{{e.name, marshalString(value)}}
			for _, v := range violations(o, chain, set) {
				if children[v.Field] && strings.HasPrefix(v.Message, requiredMessage+" when") {
					f.note(display(v.Field), v.Message)
				}
			}
			for _, fl := range sh.fields {
				if fl != e && f.enums[display(validate.Join(path, fl.name))] == nil {
					probeEnum(o, f, chain, path, fl, set)
				}
			}
		}
	}
}

// probeEnum sets field fl (a string, or an array of strings) to probeValue beside set and
// records the enum Decode names for it.
func probeEnum(o op.Operation, f *facts, chain []seg, path string, fl *field, set []member) bool {
	at, raw := validate.Join(path, fl.name), marshalString(probeValue)
	switch {
	case fl.shape.kind == kindArray && fl.shape.elem.kind == kindString:
		at, raw = validate.Index(at, 0), append(append([]byte("["), raw...), ']')
	case fl.shape.kind != kindString:
		return false
	}
	for _, v := range violations(o, chain, append(slices.Clip(set), member{fl.name, raw})) {
		if values, ok := enumValues(v.Message); ok && v.Field == at {
			f.enums[display(at)] = values
			return true
		}
	}
	return false
}

// enumValues reads validate.Report.Enum's message.
func enumValues(msg string) ([]string, bool) {
	rest, ok := strings.CutPrefix(msg, enumPrefix)
	if !ok {
		return nil, false
	}
	end := strings.LastIndex(rest, enumGot)
	if end < 0 {
		return nil, false
	}
	return strings.Split(rest[:end], ", "), true
}

func isEnum(msg string) bool {
	_, ok := enumValues(msg)
	return ok
}

// ruleText is a rule's message without what the probe happened to send ("…, got 0").
func ruleText(msg string) string {
	if i := strings.LastIndex(msg, enumGot); i > 0 {
		return msg[:i]
	}
	return msg
}

type member struct {
	name string
	raw  []byte
}

// violations decodes the request that has the object at chain holding members, and nothing
// else but the objects leading to it.
func violations(o op.Operation, chain []seg, members []member) []validate.Violation {
	var b []byte
	b = append(b, '{')
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, marshalString(m.name)...)
		b = append(b, ':')
		b = append(b, m.raw...)
	}
	b = append(b, '}')
	for i := len(chain) - 1; i >= 0; i-- {
		if chain[i].index >= 0 {
			b = append(append([]byte("["), b...), ']')
		} else {
			b = append(append(append([]byte("{"), marshalString(chain[i].name)...), ':'), b...)
			b = append(b, '}')
		}
	}
	_, err := o.Decode(context.Background(), b)
	var e *op.Error
	if !errors.As(err, &e) {
		return nil
	}
	return e.Violations
}

// display writes a probe's path the way help shows it: array items as [n].
func display(path string) string { return strings.ReplaceAll(path, "[0]", "[n]") }
