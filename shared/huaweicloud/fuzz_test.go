package huaweicloud_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/lbfn/lbfn/shared/validate"
)

// FuzzDecode feeds arbitrary requests to every Huawei operation of shared/catalog: Decode
// never panics, and what it accepts encodes to a wire body ({key: object}, as the client
// sends it) that a strict decode of that body and the object's own rules accept too, as the
// emulator judges it, so client and emulator never disagree.
func FuzzDecode(f *testing.F) {
	for _, table := range tables() {
		for _, a := range table.apis {
			f.Add([]byte(a.base))
		}
		for _, c := range table.allCases() {
			for _, name := range c.apis {
				for _, a := range table.apis {
					if a.name == name {
						f.Add(apply(f, a.base, c.invalid))
						f.Add(apply(f, a.base, c.valid))
					}
				}
			}
		}
	}
	f.Add([]byte(`null`))
	f.Add([]byte(`{"pool":{"members":[{},{},{}]}}`))
	operations := huaweiOperations()
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, o := range operations {
			req, err := o.Decode(context.Background(), raw)
			if err != nil {
				continue
			}
			field, ok := bodyField(o.RequestType())
			if !ok {
				t.Fatalf("%s: its request type %v has no one body object", o.Function(), o.RequestType())
			}
			key := bodyKey(o)
			object := reflect.ValueOf(req).Elem().FieldByIndex(field.Index)
			if wire, vs := roundTrip(t, key, object); vs != nil {
				t.Fatalf("%s: accepted %s but its wire body %s is refused: %v", o.Function(), raw, wire, vs)
			}
		}
	})
}

// roundTrip encodes object (a pointer) as the wire body {key: object}, then decodes it
// strictly into a body of that one member and checks the object's rules.
func roundTrip(t *testing.T, key string, object reflect.Value) ([]byte, []validate.Violation) {
	wire, err := json.Marshal(map[string]any{key: object.Interface()})
	if err != nil {
		t.Fatal(err)
	}
	back := reflect.New(reflect.StructOf([]reflect.StructField{
		{Name: "Object", Type: object.Type(), Tag: reflect.StructTag(`json:"` + key + `"`)},
	}))
	if vs := validate.Decode(context.Background(), wire, back.Interface()); vs != nil {
		return wire, vs
	}
	got, ok := back.Elem().Field(0).Interface().(interface {
		Validate(v *validate.Report, path string)
	})
	if !ok {
		t.Fatalf("%v has no Validate(*validate.Report, string): its rules", object.Type())
	}
	var v validate.Report
	if v.Required(key, !back.Elem().Field(0).IsNil()) {
		got.Validate(&v, key)
	}
	return wire, v.Violations()
}
