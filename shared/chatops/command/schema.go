package command

import (
	"encoding"
	"encoding/json"
	"reflect"
	"sync"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// A shape is what a JSON value at some path must be, read from the request type by the rules
// encoding/json and shared/validate apply (see validate.Fields), pointers followed.
type shape struct {
	kind   shapeKind
	bits   int      // for integers and floats: the Go type's size
	fields []*field // object: in declaration order
	elem   *shape   // array items, map values
	named  string   // the Go type, for a value that decodes itself
}

type field struct {
	name  string // JSON member name
	shape *shape
}

type shapeKind int

const (
	kindString shapeKind = iota
	kindBool
	kindInt
	kindUint
	kindFloat
	kindObject // a struct: known members only
	kindMap    // any member name
	kindArray
	kindJSON // a type that decodes itself, json.RawMessage or an interface: any JSON, as written
)

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	rawMessage      = reflect.TypeFor[json.RawMessage]()
)

// commonFields are the JSON names of op.Common, which every request embeds and chatops sets
// itself (dryRun only through --dry-run).
var commonFields = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range shapeOf(reflect.TypeFor[op.Common]()).fields {
		m[f.name] = true
	}
	return m
}()

var requestShapes sync.Map // reflect.Type → *shape

// requestShape is the shape of a request type without the common fields. Shapes are read once
// per type and never changed after.
func requestShape(t reflect.Type) *shape {
	if s, ok := requestShapes.Load(t); ok {
		return s.(*shape)
	}
	s, _ := requestShapes.LoadOrStore(t, ownShape(t))
	return s.(*shape)
}

func ownShape(t reflect.Type) *shape {
	s := shapeOf(t)
	if s.kind != kindObject {
		return s
	}
	own := &shape{kind: kindObject}
	for _, f := range s.fields {
		if !commonFields[f.name] {
			own.fields = append(own.fields, f)
		}
	}
	return own
}

// shapeOf reads t. A recursive type refers back to the shape being built (no request type is
// recursive today; walkers still stop at a shape already on their path).
func shapeOf(t reflect.Type) *shape {
	return (&shaper{seen: map[reflect.Type]*shape{}}).shape(t)
}

type shaper struct{ seen map[reflect.Type]*shape }

func (b *shaper) shape(t reflect.Type) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := b.seen[t]; ok {
		return s
	}
	s := &shape{}
	b.seen[t] = s
	switch {
	case t == rawMessage || t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(jsonUnmarshaler):
		s.kind, s.named = kindJSON, t.String()
		return s
	case reflect.PointerTo(t).Implements(textUnmarshaler):
		s.kind = kindString
		return s
	}
	switch t.Kind() {
	case reflect.String:
		s.kind = kindString
	case reflect.Bool:
		s.kind = kindBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s.kind, s.bits = kindInt, t.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s.kind, s.bits = kindUint, t.Bits()
	case reflect.Float32, reflect.Float64:
		s.kind, s.bits = kindFloat, t.Bits()
	case reflect.Slice, reflect.Array:
		s.kind, s.elem = kindArray, b.shape(t.Elem())
	case reflect.Map:
		s.kind, s.elem = kindMap, b.shape(t.Elem())
	case reflect.Struct:
		s.kind = kindObject
		b.collect(t, s)
	default: // channels, functions: not JSON; shared/validate refuses any value for them too
		s.kind, s.named = kindJSON, t.String()
	}
	return s
}

// collect adds t's fields to s, in declaration order, by the rules shared/validate decodes
// with.
func (b *shaper) collect(t reflect.Type, s *shape) {
	for _, f := range validate.Fields(t) {
		s.fields = append(s.fields, &field{name: f.Name, shape: b.shape(f.Type)})
	}
}

// member returns the field of an object shape named name.
func (s *shape) member(name string) *field {
	for _, f := range s.fields {
		if f.name == name {
			return f
		}
	}
	return nil
}

// typeName is how help and errors name the shape: string, int, bool, number, object,
// []string, map, JSON.
func (s *shape) typeName() string {
	switch s.kind {
	case kindString:
		return "string"
	case kindBool:
		return "bool"
	case kindInt, kindUint:
		return "int"
	case kindFloat:
		return "number"
	case kindObject:
		return "object"
	case kindMap:
		return "map"
	case kindArray:
		return "[]" + s.elem.typeName()
	}
	return "JSON"
}
