package ctyun_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/lbfn/lbfn/shared/ctyun"
	"github.com/lbfn/lbfn/shared/op"
)

// FuzzDecode: any input gives either a request that survives its own re-encoding, or a
// validation error listing at least one violation; never a panic, never another error.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(validRequest))
	for _, rc := range ruleCases {
		f.Add(apply(f, rc.Valid))
		f.Add(apply(f, rc.Invalid))
	}
	for _, s := range []string{``, `null`, `[]`, `"x"`, `{}`, `{"targetGroup":null}`, `{"conditions":[null]}`,
		`{"targetGroup":{"targets":[{"weight":1e400}]}}`, `{"name":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := ctyun.CreatePolicy.Decode(context.Background(), raw)
		if err != nil {
			var e *op.Error
			if !errors.As(err, &e) || e.Kind != op.KindValidation || len(e.Violations) == 0 {
				t.Fatalf("Decode(%q) = %v, want a validation error with violations", raw, err)
			}
			return
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("re-encoding %q: %v", raw, err)
		}
		if _, err := ctyun.CreatePolicy.Decode(context.Background(), again); err != nil {
			t.Fatalf("Decode(%q) passed but its re-encoding %s fails: %v", raw, again, err)
		}
	})
}
