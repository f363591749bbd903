package validate

import (
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"hash/maphash"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Decode parses data into v (a pointer to a struct) strictly, in one pass. Unlike
// encoding/json it reports every problem rather than the first, each with the JSON path of the
// field as the user wrote it: a body that is not a JSON object (field ""), an unknown member
// (matched exactly: encoding/json would silently accept "Protocol" for "protocol"), a member
// repeated within one object, and a value of the wrong JSON type or out of the Go type's range.
// A JSON null leaves the field unset. Violations come in a stable order: repeated members
// first, then the rest by member name, depth first, array items by index.
//
// The cost is linear in len(data) and the memory bounded by what v holds: an unknown member
// is read past without being built, at most MaxViolations violations are listed (then
// Omitted, counting the rest), and Decode stops when ctx ends (the violation of field "" then
// carries ctx's error).
//
// When Decode returns no violations, v holds the request. When it returns violations that all
// name a field (the body is a JSON object), v still holds what could be read, as encoding/json
// reads it: unknown members skipped, mistyped fields unset, of a repeated member the last. The
// caller can then check its rules too and report everything at once (see Report.Decode). A
// violation of field "" (not JSON, not an object, too many violations, ctx ended) leaves v
// untouched.
func Decode(ctx context.Context, data []byte, v any) []Violation {
	var r Report
	r.Decode(ctx, data, v)
	return r.Violations()
}

// Decode decodes data into v as Decode does, recording the violations, and reports whether v
// holds what could be read (every violation names a field). Rules checked afterwards into r
// are not recorded at or under a field decoding already refused: a mistyped field is not
// also missing.
func (r *Report) Decode(ctx context.Context, data []byte, v any) bool {
	vs := decode(ctx, data, v)
	r.Add(vs...)
	if !Located(vs) {
		return false
	}
	r.decoded = vs
	return true
}

func decode(ctx context.Context, data []byte, v any) []Violation {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic("validate: Decode needs a non-nil pointer, got " + rv.Type().String())
	}
	d := decoder{s: scanner{data: data, ctx: ctx}}
	c := d.s.skipSpace()
	if d.s.pos == len(data) {
		return []Violation{{Field: "", Message: "request is empty: want a JSON object"}}
	}
	var got string
	target := reflect.New(rv.Type().Elem()) // filled, then stored in v only when usable
	if c == '{' {
		d.value(codecOf(target.Type().Elem()), target.Elem())
	} else {
		got = d.s.kind()
		d.s.skip(0)
	}
	if err := d.s.err; err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return []Violation{{Field: "", Message: "request could not be decoded: " + err.Error()}}
		}
		return []Violation{{Field: "", Message: "request is not valid JSON: " + err.Error()}}
	}
	// Anything but white space after the value is an error, a stray '}' or ']' too.
	if d.s.skipSpace(); d.s.pos < len(data) {
		return []Violation{{Field: "", Message: "request has data after the JSON object"}}
	}
	if got != "" {
		return []Violation{{Field: "", Message: "request must be a JSON object, got " + got}}
	}
	vs := d.found.violations()
	if !d.found.overflow {
		rv.Elem().Set(target.Elem())
	}
	return vs
}

// decoder is one Decode: the scanner, the path to the value being read, and what was found.
type decoder struct {
	s      scanner
	frames []frame
	found  collector
	depth  int
	// seen holds, for every object being read, the violations found under each of its
	// members' last occurrence (-1: not seen yet), to tell a repeat and withdraw them.
	seen []int
}

// build reports whether to store what is read into v: not when there is no v (a value read
// only to be judged), nor once the request is too broken for its value to be used.
func (d *decoder) build(v reflect.Value) bool { return v.IsValid() && !d.found.overflow }

// violation records msg at the current path.
func (d *decoder) violation(msg string) {
	if d.found.wants(d.frames) {
		d.found.add(d.frames, msg)
	}
}

// wrong records a value of the wrong JSON type at the current path, and reads past it.
func (d *decoder) wrong(want string) {
	if d.found.wants(d.frames) {
		d.found.add(d.frames, "must be "+want+", got "+d.s.kind())
	}
	d.s.skip(d.depth)
}

// numberProblem records a number the field cannot hold, quoting it.
func (d *decoder) numberProblem(prefix string, num []byte) {
	if d.found.wants(d.frames) {
		d.found.add(d.frames, prefix+clip(string(num), 40))
	}
}

func (d *decoder) push(f frame) { d.frames = append(d.frames, f) }
func (d *decoder) pop()         { d.frames = d.frames[:len(d.frames)-1] }

// value reads one value (after white space) into v as c says; v may be invalid (read only to
// judge).
func (d *decoder) value(c *codec, v reflect.Value) {
	s := &d.s
	if s.err != nil || !s.tick() {
		return
	}
	ch := s.skipSpace()
	if ch == 'n' && c.kind != kindUnmarshalJSON {
		// null leaves the field unset (a Go nil where there can be one), as encoding/json does.
		s.literal("null")
		if d.build(v) {
			switch v.Kind() {
			case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
				v.SetZero()
			}
		}
		return
	}
	switch c.kind {
	case kindPointer:
		if d.build(v) {
			if v.IsNil() {
				v.Set(reflect.New(c.typ.Elem()))
			}
			v = v.Elem()
		} else {
			v = reflect.Value{}
		}
		d.value(c.elem, v)
	case kindStruct:
		if ch != '{' {
			d.wrong("an object")
			return
		}
		d.object(c, v)
	case kindMap:
		if ch != '{' {
			d.wrong("an object")
			return
		}
		if c.elem == nil {
			d.violation("has an unsupported type") // a programming error in a request type
			s.skip(d.depth)
			return
		}
		d.mapObject(c, v)
	case kindSlice:
		if ch != '[' {
			d.wrong("an array")
			return
		}
		d.array(c, v)
	case kindString:
		if ch != '"' {
			d.wrong("a string")
			return
		}
		b := s.str()
		if d.build(v) && s.err == nil {
			v.SetString(string(b))
		}
	case kindBool:
		if ch != 't' && ch != 'f' {
			d.wrong("a boolean")
			return
		}
		word := "false"
		if ch == 't' {
			word = "true"
		}
		s.literal(word)
		if d.build(v) && s.err == nil {
			v.SetBool(ch == 't')
		}
	case kindInt, kindUint, kindFloat:
		d.number(c, v, ch)
	case kindInterface, kindUnmarshalJSON:
		start := s.pos
		s.skip(d.depth)
		if s.err != nil {
			return
		}
		raw := s.data[start:s.pos]
		if c.kind == kindInterface {
			if d.build(v) {
				_ = json.Unmarshal(raw, v.Addr().Interface()) // raw is valid JSON: any takes it
			}
			return
		}
		if !d.build(v) {
			v = reflect.New(c.typ).Elem()
		}
		if err := v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			d.violation("is not valid: " + err.Error())
		}
	case kindUnmarshalText:
		if ch != '"' {
			d.wrong("a string")
			return
		}
		b := s.str()
		if s.err != nil {
			return
		}
		if !d.build(v) {
			v = reflect.New(c.typ).Elem()
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(string(b))); err != nil {
			d.violation("is not valid: " + err.Error())
		}
	default:
		d.violation("has an unsupported type") // a programming error in a request type
		s.skip(d.depth)
	}
}

// number reads a number into an integer or floating-point field, as encoding/json accepts it.
func (d *decoder) number(c *codec, v reflect.Value, ch byte) {
	want := "an integer"
	if c.kind == kindFloat {
		want = "a number"
	}
	if ch != '-' && (ch < '0' || ch > '9') {
		d.wrong(want)
		return
	}
	num := d.s.number()
	if d.s.err != nil {
		return
	}
	text := string(num) // strconv needs a string; short, and on the stack when it does not escape
	integer := !strings.ContainsAny(text, ".eE")
	switch c.kind {
	case kindInt:
		if !integer {
			d.numberProblem("must be an integer, got ", num)
			return
		}
		n, err := strconv.ParseInt(text, 10, c.bits)
		if err != nil {
			d.numberProblem("is out of range, got ", num)
			return
		}
		if d.build(v) {
			v.SetInt(n)
		}
	case kindUint:
		if !integer {
			d.violation("must be an integer, got a number")
			return
		}
		n, err := strconv.ParseUint(text, 10, c.bits)
		if err != nil {
			d.numberProblem("is out of range, got ", num)
			return
		}
		if d.build(v) {
			v.SetUint(n)
		}
	case kindFloat:
		f, err := strconv.ParseFloat(text, c.bits)
		if err != nil {
			d.numberProblem("is out of range, got ", num)
			return
		}
		if d.build(v) {
			v.SetFloat(f)
		}
	}
}

// open enters an object or array (pos at its delimiter), bounding the nesting.
func (d *decoder) open() bool {
	if d.depth >= maxDepth {
		d.s.fail("nested deeper than %d levels", maxDepth)
		return false
	}
	d.depth++
	d.s.pos++
	return true
}

// object reads a JSON object into the struct v.
func (d *decoder) object(c *codec, v reflect.Value) {
	s := &d.s
	if !d.open() {
		return
	}
	defer func() { d.depth-- }()
	base := len(d.seen)
	for range c.fields {
		d.seen = append(d.seen, -1)
	}
	defer func() { d.seen = d.seen[:base] }()
	var unknown nameSet
	for first := true; s.more('}', first); first = false {
		nameAt := s.pos
		name := s.str()
		if !s.expect(':', "after object key") {
			return
		}
		i, ok := c.byName[string(name)]
		if !ok {
			// Not a field: read past the value without building it.
			d.push(frame{name: name, index: -1})
			if unknown.repeated(s, name, nameAt) {
				d.found.dup(d.frames)
			} else {
				d.violation("unknown field")
			}
			d.pop()
			s.skip(d.depth)
			continue
		}
		f := &c.fields[i]
		d.push(frame{name: f.nameBytes, index: -1})
		fv := reflect.Value{}
		if d.build(v) {
			fv = fieldOf(v, f.index)
		}
		before := d.seen[base+i]
		if before >= 0 {
			// Only the last occurrence is judged, and kept.
			d.found.withdraw(d.frames, before)
			if d.build(fv) {
				fv.SetZero()
			}
		}
		n := d.found.nSorted
		d.value(f.codec, fv)
		d.seen[base+i] = d.found.nSorted - n
		if before >= 0 {
			d.found.dup(d.frames)
		}
		d.pop()
	}
}

// mapObject reads a JSON object into the map v (string keys).
func (d *decoder) mapObject(c *codec, v reflect.Value) {
	s := &d.s
	if !d.open() {
		return
	}
	defer func() { d.depth-- }()
	if d.build(v) && v.IsNil() {
		v.Set(reflect.MakeMap(c.typ))
	}
	var found map[string]int // violations under each key, to withdraw them on a repeat
	var keys nameSet
	for first := true; s.more('}', first); first = false {
		nameAt := s.pos
		name := s.str()
		if !s.expect(':', "after object key") {
			return
		}
		key := string(name) // a frame outlives the scratch the name may be in
		d.push(frame{name: []byte(key), index: -1})
		repeated := keys.repeated(s, name, nameAt)
		if repeated {
			d.found.withdraw(d.frames, found[key])
		}
		n := d.found.nSorted
		var elem reflect.Value
		if d.build(v) {
			elem = reflect.New(c.typ.Elem()).Elem()
		}
		d.value(c.elem, elem)
		if k := d.found.nSorted - n; k > 0 || repeated {
			if found == nil {
				found = map[string]int{}
			}
			found[key] = k
		}
		if d.build(v) {
			v.SetMapIndex(reflect.ValueOf(key).Convert(c.typ.Key()), elem)
		}
		if repeated {
			d.found.dup(d.frames)
		}
		d.pop()
	}
}

// array reads a JSON array into the slice v.
func (d *decoder) array(c *codec, v reflect.Value) {
	s := &d.s
	if !d.open() {
		return
	}
	defer func() { d.depth-- }()
	i := 0
	for first := true; s.more(']', first); first = false {
		var item reflect.Value
		if d.build(v) {
			if i >= v.Cap() {
				v.Grow(1)
			}
			v.SetLen(i + 1)
			item = v.Index(i)
			item.SetZero() // a repeated member reuses the slice, as encoding/json does
		}
		d.push(frame{index: i})
		d.value(c.elem, item)
		d.pop()
		i++
	}
	if d.build(v) {
		if i == 0 {
			v.Set(reflect.MakeSlice(c.typ, 0, 0)) // [] is empty, not absent
		} else {
			v.SetLen(i)
		}
	}
}

// fieldOf returns the field of struct v at index, allocating embedded structs reached through
// nil pointers; an invalid Value when one cannot be set (an unexported embedded pointer).
func fieldOf(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

// nameSet tells a member name repeated within one object. It keeps a hash and the offset of
// each name, not the name: a name matching a hash is read again from the input to compare.
type nameSet struct {
	first int // offset of the first name + 1 (0: none yet), so one name costs no map
	at    map[uint64][]int
}

var nameSeed = maphash.MakeSeed()

// repeated adds name (read at offset at) and reports whether the object already had it.
func (n *nameSet) repeated(s *scanner, name []byte, at int) bool {
	if n.first == 0 {
		n.first = at + 1
		return false
	}
	if n.at == nil {
		n.at = map[uint64][]int{}
		n.add(s, s.reread(n.first-1), n.first-1)
	}
	h := maphash.Bytes(nameSeed, name)
	for _, off := range n.at[h] {
		if string(s.reread(off)) == string(name) {
			return true
		}
	}
	n.at[h] = append(n.at[h], at)
	return false
}

func (n *nameSet) add(s *scanner, name []byte, at int) {
	h := maphash.Bytes(nameSeed, name)
	n.at[h] = append(n.at[h], at)
}

// reread returns the text of the string token at offset at, which was read before. It does
// not disturb the scan (nor scratch: the current name may be there).
func (s *scanner) reread(at int) []byte {
	again := scanner{data: s.data, pos: at}
	return again.str()
}

// A codec is how to decode into one Go type, worked out once per type.
type codec struct {
	kind codecKind
	typ  reflect.Type
	elem *codec // pointer, slice and map element
	bits int    // numbers
	// fields and byName: a struct's JSON members.
	fields []field
	byName map[string]int
}

type field struct {
	name      string
	nameBytes []byte
	index     []int // as reflect.Value.FieldByIndex, through embedded structs
	codec     *codec
}

type codecKind uint8

const (
	kindUnsupported codecKind = iota
	kindPointer
	kindInterface
	kindUnmarshalJSON
	kindUnmarshalText
	kindStruct
	kindMap
	kindSlice
	kindString
	kindBool
	kindInt
	kindUint
	kindFloat
)

var (
	codecs   sync.Map // reflect.Type → *codec
	codecsMu sync.Mutex

	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// codecOf returns the codec of t, building it (and those of the types it holds) on first use.
func codecOf(t reflect.Type) *codec {
	if c, ok := codecs.Load(t); ok {
		return c.(*codec)
	}
	codecsMu.Lock()
	defer codecsMu.Unlock()
	building := map[reflect.Type]*codec{}
	c := buildCodec(t, building)
	for t, c := range building {
		codecs.LoadOrStore(t, c)
	}
	return c
}

func buildCodec(t reflect.Type, building map[reflect.Type]*codec) *codec {
	if c, ok := codecs.Load(t); ok {
		return c.(*codec)
	}
	if c, ok := building[t]; ok {
		return c // a recursive type: filled in below, before anyone decodes with it
	}
	c := &codec{typ: t}
	building[t] = c
	switch {
	case t.Kind() == reflect.Pointer:
		c.kind, c.elem = kindPointer, buildCodec(t.Elem(), building)
	case reflect.PointerTo(t).Implements(jsonUnmarshalerType):
		c.kind = kindUnmarshalJSON // a type that decodes itself (json.RawMessage, a time) judges its value
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		c.kind = kindUnmarshalText
	case t.Kind() == reflect.Interface:
		if t.NumMethod() == 0 {
			c.kind = kindInterface
		}
	case t.Kind() == reflect.Struct:
		c.kind = kindStruct
		c.fields = fieldsOf(t, building)
		c.byName = make(map[string]int, len(c.fields))
		for i, f := range c.fields {
			c.byName[f.name] = i
		}
	case t.Kind() == reflect.Map:
		c.kind = kindMap
		if t.Key().Kind() == reflect.String {
			c.elem = buildCodec(t.Elem(), building)
		}
	case t.Kind() == reflect.Slice:
		c.kind, c.elem = kindSlice, buildCodec(t.Elem(), building)
	case t.Kind() == reflect.String:
		c.kind = kindString
	case t.Kind() == reflect.Bool:
		c.kind = kindBool
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		c.kind, c.bits = kindInt, t.Bits()
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		c.kind, c.bits = kindUint, t.Bits()
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		c.kind, c.bits = kindFloat, t.Bits()
	}
	return c
}

// fieldsOf lists the JSON members of struct t, including those of embedded structs, following
// encoding/json's tag rules. It walks t breadth first, so that, as in encoding/json, a field
// declared at a shallower depth hides an embedded struct's field of the same name wherever it
// is declared.
func fieldsOf(t reflect.Type, building map[reflect.Type]*codec) []field {
	type level struct {
		t     reflect.Type
		index []int
	}
	var fields []field
	taken := map[string]bool{}
	seen := map[reflect.Type]bool{}
	for current := []level{{t, nil}}; len(current) > 0; {
		var next []level
		found := map[string]bool{}
		var added []field
		for _, l := range current {
			if seen[l.t] {
				continue
			}
			seen[l.t] = true
			for i := range l.t.NumField() {
				f := l.t.Field(i)
				tag := f.Tag.Get("json")
				if tag == "-" {
					continue
				}
				index := append(append([]int(nil), l.index...), i)
				name, _, _ := strings.Cut(tag, ",")
				if f.Anonymous && name == "" {
					ft := f.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if ft.Kind() == reflect.Struct {
						next = append(next, level{ft, index})
						continue
					}
				}
				if !f.IsExported() {
					continue
				}
				if name == "" {
					name = f.Name
				}
				if taken[name] || found[name] {
					continue
				}
				found[name] = true
				added = append(added, field{name: name, nameBytes: []byte(name), index: index, codec: buildCodec(f.Type, building)})
			}
		}
		for _, f := range added {
			taken[f.name] = true
		}
		fields = append(fields, added...)
		current = next
	}
	return fields
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
