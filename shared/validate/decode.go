package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
)

// Decode parses data into v (a pointer to a struct) strictly. Unlike encoding/json it
// reports every problem rather than the first, each with the JSON path of the field as the
// user wrote it: a body that is not a JSON object (field ""), an unknown member (matched
// exactly: encoding/json would silently accept "Protocol" for "protocol"), and a value of the
// wrong JSON type or out of the Go type's range. A JSON null leaves the field unset.
//
// When Decode returns no violations, v holds the request; otherwise v is left untouched.
func Decode(data []byte, v any) []Violation {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return []Violation{{Field: "", Message: "request is not valid JSON: " + jsonErrorText(err)}}
	}
	if dec.More() {
		return []Violation{{Field: "", Message: "request has data after the JSON object"}}
	}
	if _, ok := tree.(map[string]any); !ok {
		return []Violation{{Field: "", Message: "request must be a JSON object, got " + jsonKind(tree)}}
	}
	var r Report
	check(&r, tree, reflect.TypeOf(v).Elem(), "")
	if !r.OK() {
		return r.Violations()
	}
	if err := json.Unmarshal(data, v); err != nil {
		// check accepts only what Unmarshal accepts, so this means the two disagree: report it
		// rather than panic or continue with a half-filled request.
		return []Violation{{Field: "", Message: "request could not be decoded: " + err.Error()}}
	}
	return nil
}

func jsonErrorText(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// check walks the decoded tree against t, recording violations into r.
func check(r *Report, value any, t reflect.Type, path string) {
	if value == nil { // JSON null: the field stays unset, which the rules then judge
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType || t.Kind() == reflect.Interface {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := value.(map[string]any)
		if !ok {
			r.Addf(path, "must be an object, got %s", jsonKind(value))
			return
		}
		fields := fieldsOf(t)
		for _, name := range sortedKeys(obj) {
			f, ok := fields[name]
			if !ok {
				r.Addf(Join(path, name), "unknown field")
				continue
			}
			check(r, obj[name], f, Join(path, name))
		}
	case reflect.Slice:
		arr, ok := value.([]any)
		if !ok {
			r.Addf(path, "must be an array, got %s", jsonKind(value))
			return
		}
		for i, item := range arr {
			check(r, item, t.Elem(), Index(path, i))
		}
	case reflect.String:
		if _, ok := value.(string); !ok {
			r.Addf(path, "must be a string, got %s", jsonKind(value))
		}
	case reflect.Bool:
		if _, ok := value.(bool); !ok {
			r.Addf(path, "must be a boolean, got %s", jsonKind(value))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := value.(json.Number)
		if !ok {
			r.Addf(path, "must be an integer, got %s", jsonKind(value))
			return
		}
		i, err := n.Int64()
		if err != nil {
			r.Addf(path, "must be an integer, got %s", n)
			return
		}
		bits := t.Bits()
		if bits < 64 && (i < -1<<(bits-1) || i > 1<<(bits-1)-1) {
			r.Addf(path, "is out of range, got %s", n)
		}
	case reflect.Float32, reflect.Float64:
		n, ok := value.(json.Number)
		if !ok {
			r.Addf(path, "must be a number, got %s", jsonKind(value))
			return
		}
		if f, err := n.Float64(); err != nil || math.IsInf(f, 0) {
			r.Addf(path, "is out of range, got %s", n)
		}
	default:
		r.Addf(path, "has an unsupported type") // a programming error in a request type
	}
}

func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			return "a number"
		}
		return "an integer"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Sorting keeps reports stable across runs; insertion sort is enough for request-sized objects.
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// fieldsOf maps the JSON names of t's fields, including those of embedded structs, to their
// types, following encoding/json's tag rules.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	collectFields(t, m)
	fieldCache.Store(t, m)
	return m
}

func collectFields(t reflect.Type, m map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectFields(ft, m)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := m[name]; !dup { // the shallower field wins, as in encoding/json
			m[name] = f.Type
		}
	}
}
