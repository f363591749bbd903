package op

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/lbfn/lbfn/shared/validate"
)

// encoded is what AppendJSON must write: encoding/json's Encoder without HTML escaping, as
// aws-lambda-go encodes an answer, less the newline.
func encoded(t testing.TB, r *Result) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func TestAppendJSONIsEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		res  Result
	}{
		{"zero", Result{}},
		{"created", Result{OK: true, Function: "huawei-create-pool", Provider: "huaweicloud", Status: StatusCreated, ID: "p-1",
			RequestID: "r-1", Attempts: 2, IdempotencyKey: "sha256:00ff",
			Response: json.RawMessage("{\n  \"pool\": {\"id\": \"p-1\", \"name\": \"a \\\" b\\\\\", \"n\": [1, 2.5e3, true, null]}\r\n\t}")}},
		{"in progress", Result{OK: true, Function: "ctyun-create-policy", Provider: "ctyun", Status: StatusInProgress,
			ClientToken: "t-1", RetryAfterSeconds: 5, Request: json.RawMessage(`{"name":"x","list":[ 1 , 2 ]}`),
			Response: json.RawMessage(`"a string answer"`)}},
		{"failed", Result{Function: "f", Provider: "p", IdempotencyKey: "<k&>", Error: Invalid([]validate.Violation{
			{Field: "pool.name", Message: "must be <b>1</b> & \"2\""}})}},
		{"failed without violations", Result{Function: "f", Provider: "p", Error: Errorf(KindUnavailable, "down\n")}},
		{"escapes", Result{Function: "a\"b\\c\x01\x1f", Provider: "<&>", ID: "中文\u2028\u2029", RequestID: "\xff\xfe bad utf-8",
			IdempotencyKey: "tab\there"}},
		{"empty raw members", Result{OK: true, Response: json.RawMessage{}, Request: json.RawMessage{}}},
		{"negative numbers", Result{Attempts: -1, RetryAfterSeconds: -3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := encoded(t, &tt.res)
			if got := tt.res.AppendJSON(nil); !bytes.Equal(got, want) {
				t.Errorf("AppendJSON\n%s\nencoding/json\n%s", got, want)
			}
			prefix := []byte("prefix")
			if got := tt.res.AppendJSON(prefix); !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Errorf("AppendJSON after a prefix: %s", got)
			}
		})
	}
}

// TestAppendJSONWritesEveryField: a Result with every field set encodes as encoding/json
// encodes it, so a field added to Result without its line in AppendJSON fails here.
func TestAppendJSONWritesEveryField(t *testing.T) {
	var r Result
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Type() == reflect.TypeFor[json.RawMessage]():
			f.Set(reflect.ValueOf(json.RawMessage(`{"n":` + string(rune('0'+i%10)) + `}`)))
		case f.Type() == reflect.TypeFor[*Error]():
			f.Set(reflect.ValueOf(Errorf(KindThrottled, "slow down")))
		case f.Kind() == reflect.String:
			f.SetString(v.Type().Field(i).Name)
		case f.Kind() == reflect.Int:
			f.SetInt(int64(i + 1))
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		default:
			t.Fatalf("Result.%s is a %s: set it here, and write it in AppendJSON", v.Type().Field(i).Name, f.Type())
		}
	}
	if got, want := r.AppendJSON(nil), encoded(t, &r); !bytes.Equal(got, want) {
		t.Errorf("AppendJSON\n%s\nencoding/json\n%s", got, want)
	}
}

// FuzzAppendJSON checks AppendJSON against encoding/json on any strings, and on any raw
// members that are valid JSON (the only kind a result holds).
func FuzzAppendJSON(f *testing.F) {
	f.Add("huawei-create-pool", "p-1", "sha256:00", `{"pool": {"id": "p-1"}}`, `{"a":[1, 2]}`, 3)
	f.Add("a\"\\\x00", "\u2028<&>", "\xff", " [ \"x y\" , {\"\\\"\":null} ] ", `"s"`, 0)
	f.Fuzz(func(t *testing.T, function, id, key, response, request string, attempts int) {
		r := &Result{OK: attempts%2 == 0, Function: function, Provider: key, Status: Status(id), ID: id, RequestID: function,
			Attempts: attempts, IdempotencyKey: key, ClientToken: id, RetryAfterSeconds: attempts / 3}
		if json.Valid([]byte(response)) {
			r.Response = json.RawMessage(response)
		}
		if json.Valid([]byte(request)) {
			r.Request = json.RawMessage(request)
		}
		if attempts%5 == 1 {
			r.Error = &Error{Kind: KindProvider, Message: function, ProviderMessage: id,
				Violations: []validate.Violation{{Field: key, Message: response}}}
		}
		if got, want := r.AppendJSON(nil), encoded(t, r); !bytes.Equal(got, want) {
			t.Errorf("AppendJSON\n%q\nencoding/json\n%q", got, want)
		}
	})
}

// BenchmarkAppendJSON encodes a created result holding a provider's answer of 1.5 kB, as a
// warm invoke's answer does.
func BenchmarkAppendJSON(b *testing.B) {
	member := `{"id":"b7a8c1c5-0000-4000-8000-000000000001","address":"172.16.0.210","protocol_port":89,"role":"master","name":"My member"}`
	answer := json.RawMessage(`{"request_id":"req-1","pool":{"id":"p-1","name":"My pool","lb_algorithm":"LEAST_CONNECTIONS",` +
		`"protocol":"TCP","members":[` + member + `,` + member + `,` + member + `,` + member + `,` + member + `,` + member +
		`],"healthmonitor":{"id":"h-1","delay":1,"max_retries":3,"timeout":30,"type":"TCP","name":"My Healthmonitor"}}}`)
	r := &Result{OK: true, Function: "huawei-create-master-slave-pool", Provider: "huaweicloud", Status: StatusCreated,
		ID: "p-1", RequestID: "req-1", Attempts: 1, IdempotencyKey: "sha256:0123456789abcdef0123456789abcdef", Response: answer}
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.AppendJSON(nil)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			encoded(b, r)
		}
	})
}
