// Package catalog lists every create operation lbfn ships, in the order of the README's
// function table. The
// programs that serve all of them at once (the dev server, the Google Cloud Functions entry)
// and the tests that check every function has its main.go, events/ folder and template entry
// read this list, so adding an operation is one line here beside its provider file.
package catalog

import (
	"github.com/lbfn/lbfn/shared/ctyun"
	"github.com/lbfn/lbfn/shared/huaweicloud"
	"github.com/lbfn/lbfn/shared/jdcloud"
	"github.com/lbfn/lbfn/shared/op"
)

// Operations are the create operations, one function each.
var Operations = []op.Operation{
	jdcloud.CreateBackend,
	huaweicloud.CreatePool,
	huaweicloud.CreateLbaasPool,
	huaweicloud.CreateMasterSlavePool,
	ctyun.CreatePolicy,
}

// Lookup returns the operation serving function name.
func Lookup(name string) (op.Operation, bool) {
	for _, o := range Operations {
		if o.Function() == name {
			return o, true
		}
	}
	return nil, false
}
