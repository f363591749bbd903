package validate

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Decode parses data into v (a pointer to a struct) strictly. Unlike encoding/json it
// reports every problem rather than the first, each with the JSON path of the field as the
// user wrote it: a body that is not a JSON object (field ""), an unknown member (matched
// exactly: encoding/json would silently accept "Protocol" for "protocol"), a member repeated
// within one object, and a value of the wrong JSON type or out of the Go type's range. A JSON
// null leaves the field unset. Violations come in a stable order: repeated members first,
// then the rest by member name, depth first, array items by index.
//
// When Decode returns no violations, v holds the request. When it returns violations that all
// name a field (the body is a JSON object), v still holds what could be read, as encoding/json
// reads it: unknown members skipped, mistyped fields unset. The caller can then check its rules
// too and report everything at once (see Covered). A violation of field "" (not JSON, not an
// object) leaves v untouched.
func Decode(data []byte, v any) []Violation {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var r Report
	tree, err := readTree(dec, "", &r, 0)
	if err != nil {
		if err == io.EOF {
			return []Violation{{Field: "", Message: "request is empty: want a JSON object"}}
		}
		if err == io.ErrUnexpectedEOF {
			return []Violation{{Field: "", Message: "request is not valid JSON: unexpected end of input"}}
		}
		return []Violation{{Field: "", Message: "request is not valid JSON: " + jsonErrorText(err)}}
	}
	// Anything but white space after the value is an error; dec.More alone would miss a
	// stray '}' or ']'.
	if _, err := dec.Token(); err != io.EOF {
		return []Violation{{Field: "", Message: "request has data after the JSON object"}}
	}
	if _, ok := tree.(map[string]any); !ok {
		return []Violation{{Field: "", Message: "request must be a JSON object, got " + jsonKind(tree)}}
	}
	check(&r, tree, reflect.TypeOf(v).Elem(), "")
	if !r.OK() {
		// Best effort, for the rules: Unmarshal skips what does not fit and goes on.
		_ = json.Unmarshal(data, v)
		return r.Violations()
	}
	if err := json.Unmarshal(data, v); err != nil {
		// check accepts only what Unmarshal accepts, so this means the two disagree: report it
		// rather than panic or continue with a half-filled request.
		return []Violation{{Field: "", Message: "request could not be decoded: " + err.Error()}}
	}
	return nil
}

// maxDepth bounds nesting, as encoding/json does, so a hostile body cannot exhaust the stack.
const maxDepth = 1000

// readTree reads one JSON value token by token, as Decoder.Decode into an any would (numbers
// as json.Number), and also reports a member name repeated within one object: encoding/json
// keeps the last and merges nested objects, so the first occurrence (a typo in it, say) would
// be silently ignored.
func readTree(dec *json.Decoder, path string, r *Report, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	value, err := readComposite(dec, delim, path, r, depth)
	if err == io.EOF { // inside a value, the end of input is a syntax error
		err = io.ErrUnexpectedEOF
	}
	return value, err
}

func readComposite(dec *json.Decoder, delim json.Delim, path string, r *Report, depth int) (any, error) {
	if depth >= maxDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	switch delim {
	case '{':
		obj := map[string]any{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			name, _ := tok.(string) // the decoder accepts only strings here
			value, err := readTree(dec, Join(path, name), r, depth+1)
			if err != nil {
				return nil, err
			}
			if _, dup := obj[name]; dup {
				r.Addf(Join(path, name), "appears more than once")
			}
			obj[name] = value
		}
		_, err := dec.Token() // '}'
		return obj, err
	case '[':
		arr := []any{}
		for i := 0; dec.More(); i++ {
			value, err := readTree(dec, Index(path, i), r, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, value)
		}
		_, err := dec.Token() // ']'
		return arr, err
	}
	return nil, fmt.Errorf("unexpected %v", delim) // the decoder reports this itself
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
	if reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
		checkUnmarshaler(r, value, t, path)
		return
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		checkTextUnmarshaler(r, value, t, path)
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
		if !isInteger(n) {
			r.Addf(path, "must be an integer, got %s", n)
			return
		}
		i, err := n.Int64()
		bits := t.Bits()
		if err != nil || (bits < 64 && (i < -1<<(bits-1) || i > 1<<(bits-1)-1)) {
			r.Addf(path, "is out of range, got %s", n)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := value.(json.Number)
		if !ok || !isInteger(n) {
			r.Addf(path, "must be an integer, got %s", jsonKind(value))
			return
		}
		if _, err := strconv.ParseUint(string(n), 10, t.Bits()); err != nil {
			r.Addf(path, "is out of range, got %s", n)
		}
	case reflect.Float32, reflect.Float64:
		n, ok := value.(json.Number)
		if !ok {
			r.Addf(path, "must be a number, got %s", jsonKind(value))
			return
		}
		if _, err := strconv.ParseFloat(string(n), t.Bits()); err != nil {
			r.Addf(path, "is out of range, got %s", n)
		}
	case reflect.Map:
		obj, ok := value.(map[string]any)
		if !ok {
			r.Addf(path, "must be an object, got %s", jsonKind(value))
			return
		}
		if t.Key().Kind() != reflect.String {
			r.Addf(path, "has an unsupported type") // a programming error in a request type
			return
		}
		for _, name := range sortedKeys(obj) {
			check(r, obj[name], t.Elem(), Join(path, name))
		}
	default:
		r.Addf(path, "has an unsupported type") // a programming error in a request type
	}
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// checkUnmarshaler lets a type that decodes itself (a custom enum, a time) judge its value,
// reporting its refusal at path rather than as an error of the whole request.
func checkUnmarshaler(r *Report, value any, t reflect.Type, path string) {
	raw, err := json.Marshal(value) // json.Number marshals as written
	if err != nil {
		r.Addf(path, "cannot be decoded: %v", err)
		return
	}
	if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
		r.Addf(path, "is not valid: %v", err)
	}
}

// checkTextUnmarshaler does the same for a type that encoding/json decodes from a string.
func checkTextUnmarshaler(r *Report, value any, t reflect.Type, path string) {
	s, ok := value.(string)
	if !ok {
		r.Addf(path, "must be a string, got %s", jsonKind(value))
		return
	}
	if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
		r.Addf(path, "is not valid: %v", err)
	}
}

// isInteger reports whether n is written without a fraction or exponent, as encoding/json
// requires for an integer field.
func isInteger(n json.Number) bool { return !strings.ContainsAny(string(n), ".eE") }

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
		if !isInteger(v) {
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
	slices.Sort(keys) // stable reports; an object may have many members, so not quadratic
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
	for _, f := range Fields(t) {
		m[f.Name] = f.Type
	}
	fieldCache.Store(t, m)
	return m
}

// A Field is one JSON member of a struct type.
type Field struct {
	Name string
	Type reflect.Type
}

// Fields lists the JSON members of struct type t as encoding/json reads them (json tag names,
// "-" skipped, unexported fields skipped, embedded structs' fields promoted), in declaration
// order with an embedded struct's fields where it is embedded. t is walked breadth first, so
// that a field declared at a shallower depth hides an embedded struct's field of the same
// name wherever it is declared.
func Fields(t reflect.Type) []Field {
	type embedded struct {
		t     reflect.Type
		index []int
	}
	type found struct {
		Field
		index []int
	}
	var all []found
	names := map[string]bool{}
	seen := map[reflect.Type]bool{}
	for level := []embedded{{t: t}}; len(level) > 0; {
		var next []embedded
		atLevel := map[string]bool{}
		for _, st := range level {
			if seen[st.t] {
				continue
			}
			seen[st.t] = true
			for i := range st.t.NumField() {
				f := st.t.Field(i)
				index := append(slices.Clip(st.index), i)
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
						next = append(next, embedded{ft, index})
						continue
					}
				}
				if !f.IsExported() {
					continue
				}
				if name == "" {
					name = f.Name
				}
				if names[name] || atLevel[name] {
					continue
				}
				atLevel[name] = true
				all = append(all, found{Field{name, f.Type}, index})
			}
		}
		for name := range atLevel {
			names[name] = true
		}
		level = next
	}
	slices.SortFunc(all, func(a, b found) int { return slices.Compare(a.index, b.index) })
	out := make([]Field, len(all))
	for i, f := range all {
		out[i] = f.Field
	}
	return out
}

// Covered reports whether field lies at or under a field of vs: a rule broken at such a field
// (a "required" where the value had the wrong type) only repeats what decoding said.
func Covered(vs []Violation, field string) bool {
	for _, v := range vs {
		if v.Field == field || strings.HasPrefix(field, v.Field+".") || strings.HasPrefix(field, v.Field+"[") {
			return true
		}
	}
	return false
}

// Located reports whether every violation names a field, so a decoded value was filled.
func Located(vs []Violation) bool {
	for _, v := range vs {
		if v.Field == "" {
			return false
		}
	}
	return true
}
