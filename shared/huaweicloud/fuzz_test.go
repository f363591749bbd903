package huaweicloud_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/lbfn/lbfn/shared/huaweicloud"
	"github.com/lbfn/lbfn/shared/validate"
)

// FuzzDecode feeds arbitrary requests to the three operations: Decode never panics, and what
// it accepts encodes to a wire body that the emulator's strict decode and the same rules
// accept too, so client and emulator never disagree.
func FuzzDecode(f *testing.F) {
	for _, api := range all {
		f.Add([]byte(bases[api]))
	}
	for _, c := range ruleCases[:12] {
		for _, api := range c.apis {
			f.Add(apply(f, bases[api], c.invalid))
			f.Add(apply(f, bases[api], c.valid))
		}
	}
	f.Add([]byte(`null`))
	f.Add([]byte(`{"pool":{"members":[{},{},{}]}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, api := range all {
			req, err := ops[api].Decode(context.Background(), raw)
			if err != nil {
				continue
			}
			var wire []byte
			var vs []validate.Violation
			switch r := req.(type) {
			case *huaweicloud.CreatePoolRequest:
				wire, vs = roundTrip[huaweicloud.Pool](t, r.Pool)
			case *huaweicloud.CreateLbaasPoolRequest:
				wire, vs = roundTrip[huaweicloud.LbaasPool](t, r.Pool)
			case *huaweicloud.CreateMasterSlavePoolRequest:
				wire, vs = roundTrip[huaweicloud.MasterSlavePool](t, r.Pool)
			default:
				t.Fatalf("%s decoded to %T", api, req)
			}
			if vs != nil {
				t.Fatalf("%s: accepted %s but its wire body %s is refused: %v", api, raw, wire, vs)
			}
		}
	})
}

type checked[P any] interface {
	*P
	Validate(v *validate.Report, path string)
}

func roundTrip[P any, PP checked[P]](t *testing.T, pool *P) ([]byte, []validate.Violation) {
	wire, err := json.Marshal(huaweicloud.Body[P]{Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	var back huaweicloud.Body[P]
	if vs := validate.Decode(context.Background(), wire, &back); vs != nil {
		return wire, vs
	}
	var v validate.Report
	PP(back.Pool).Validate(&v, "pool")
	return wire, v.Violations()
}
