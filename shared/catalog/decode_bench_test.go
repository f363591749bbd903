package catalog_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/op"
)

// BenchmarkDecode is the no-network path of every operation on its sample request
// (events/<function>/direct.json): Decode is the strict parse and every rule; Run adds the
// idempotency key and the dry-run result, everything a call costs before the network.
func BenchmarkDecode(b *testing.B) {
	for _, o := range catalog.Operations {
		raw, err := os.ReadFile(filepath.Join(root, "events", o.Function(), "direct.json"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(o.Function()+"/Decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decode(o, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(o.Function()+"/DryRun", func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			dry := append([]byte(`{"dryRun":true,`), raw[1:]...)
			for b.Loop() {
				if res := op.Run(ctx, o, dry, op.Meta{}); !res.OK {
					b.Fatal(res.Error)
				}
			}
		})
	}
}
