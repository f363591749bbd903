package validate

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestMembers(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want map[string]string // name → raw value, the last of a repeat
	}{
		{`{}`, true, map[string]string{}},
		{` {"a":1, "b" : [1,{"c":null}] ,"a\u0062":"x"} `, true, map[string]string{"a": "1", "b": `[1,{"c":null}]`, "ab": `"x"`}},
		{`{"a":1,"a":2}`, true, map[string]string{"a": "2"}},
		{`[]`, false, nil},
		{`{"a":1`, false, nil},
		{`{"a":1}x`, false, nil},
		{`{"a":[1,]}`, false, nil},
		{``, false, nil},
	}
	for _, tt := range tests {
		got := map[string]string{}
		ok := Members([]byte(tt.in), func(name, value []byte) { got[string(name)] = string(value) })
		if ok != tt.ok || (ok && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("Members(%s) = %v %v, want %v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestItems(t *testing.T) {
	for _, tt := range []struct {
		in   string
		ok   bool
		want []string
	}{
		{`[]`, true, nil},
		{`[1, "a" ,{"b":[2]}, null]`, true, []string{"1", `"a"`, `{"b":[2]}`, "null"}},
		{`{}`, false, nil},
		{`[1 2]`, false, nil},
		{`[1]]`, false, nil},
	} {
		var got []string
		ok := Items([]byte(tt.in), func(v []byte) { got = append(got, string(v)) })
		if ok != tt.ok || (ok && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("Items(%s) = %q %v, want %q %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// Members accepts exactly the JSON objects encoding/json accepts, and sees their members.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[{"c":"d"}]}`, `{"Records":[{"eventSource":"aws:sqs"}]}`, `[1]`, `{"a":}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := map[string]json.RawMessage{}
		wantOK := json.Unmarshal(data, &want) == nil && len(data) > 0 && json.Valid(data)
		got := map[string]json.RawMessage{}
		ok := Members(data, func(name, value []byte) { got[string(name)] = append(json.RawMessage(nil), value...) })
		var isObject bool
		if wantOK {
			var probe map[string]any
			isObject = json.Unmarshal(data, &probe) == nil && probe != nil
		}
		if ok != isObject {
			t.Fatalf("Members(%q) = %v, encoding/json says object: %v", data, ok, isObject)
		}
		if ok && !reflect.DeepEqual(got, want) {
			t.Fatalf("Members(%q) = %q, encoding/json %q", data, got, want)
		}
	})
}
