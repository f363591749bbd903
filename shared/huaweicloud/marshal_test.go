package huaweicloud

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// samplePool is the master-slave pool of the function's sample request.
func samplePool(t testing.TB) *MasterSlavePool {
	raw, err := os.ReadFile("../../events/huawei-create-master-slave-pool/direct.json")
	if err != nil {
		t.Fatal(err)
	}
	var r CreateMasterSlavePoolRequest
	if err := json.Unmarshal(raw, &r); err != nil || r.Pool == nil {
		t.Fatalf("%v %+v", err, r)
	}
	return r.Pool
}

// marshalUnder writes what json.Marshal writes for a map of one member.
func TestMarshalUnderIsJSONMarshal(t *testing.T) {
	name := "a <b> & \"c\" \u2028"
	for _, v := range []any{samplePool(t), &Pool{V2PoolFields: V2PoolFields{Name: &name, Protocol: "TCP"}}, (*Pool)(nil), []int{1}} {
		want, _ := json.Marshal(map[string]any{"pool": v})
		got, err := marshalUnder("pool", v)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("marshalUnder = %s, %v; json.Marshal of the map = %s", got, err, want)
		}
	}
	if _, err := marshalUnder("pool", func() {}); err == nil {
		t.Error("a value json.Marshal refuses was encoded")
	}
}

func BenchmarkMarshalUnder(b *testing.B) {
	pool := samplePool(b)
	b.Run("marshalUnder", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = marshalUnder("pool", pool)
		}
	})
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(map[string]any{"pool": pool})
		}
	})
}
