package op

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/validate"
)

func TestDecodeBoundedViolations(t *testing.T) {
	wrong := func(n int) string { return strings.TrimSuffix(strings.Repeat(`"x",`, n), ",") }
	tests := []struct {
		name     string
		raw      string
		listed   int    // violations listed before Omitted
		total    int    // what the list and the message count
		firstMsg string // the error's message
	}{
		{"decoding and rules within the limit", `{"port":0,"items":[` + wrong(40) + `]}`, 42, 42,
			"items[0]: must be an integer, got a string (and 41 more)"},
		{"the rules push past the limit", `{"port":0,"items":[` + wrong(49) + `]}`, validate.MaxViolations, 51,
			"items[0]: must be an integer, got a string (and 50 more)"},
		// Too broken for the rules: only decoding is counted.
		{"decoding alone past the limit", `{"port":0,"items":[` + wrong(1000) + `]}`, validate.MaxViolations, 1000,
			"items[0]: must be an integer, got a string (and 999 more)"},
	}
	o := newTestOp()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Run(context.Background(), o, []byte(tt.raw), Meta{})
			e := res.Err()
			if e == nil || e.Kind != KindValidation {
				t.Fatalf("Run = %+v, want a validation failure", res)
			}
			vs := e.Violations
			if validate.Count(vs) != tt.total || e.Message != tt.firstMsg {
				t.Errorf("Count %d, message %q; want %d and %q", validate.Count(vs), e.Message, tt.total, tt.firstMsg)
			}
			if tt.total > tt.listed {
				if len(vs) != tt.listed+1 || vs[tt.listed] != validate.Omitted(tt.total-tt.listed) {
					t.Errorf("%d violations ending %v, want %d then %v", len(vs), vs[len(vs)-1], tt.listed, validate.Omitted(tt.total-tt.listed))
				}
			} else if len(vs) != tt.listed {
				t.Errorf("%d violations, want %d", len(vs), tt.listed)
			}
		})
	}
}

// A request whose invocation ended before it was read is not judged invalid: it was not read.
func TestDecodeContextEnded(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel2()
	raw := []byte(`{"name":"x","items":[` + strings.TrimSuffix(strings.Repeat("1,", 100000), ",") + `]}`)
	for _, tt := range []struct {
		ctx  context.Context
		kind Kind
	}{{canceled, KindUnavailable}, {expired, KindTimeout}} {
		_, err := newTestOp().Decode(tt.ctx, raw)
		e := AsError(err)
		if e == nil || e.Kind != tt.kind || !e.Retryable || len(e.Violations) != 0 {
			t.Errorf("Decode with %v = %+v, want a retryable %s failure", tt.ctx.Err(), e, tt.kind)
		}
	}
}
