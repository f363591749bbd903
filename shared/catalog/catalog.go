// Package catalog lists every create function lbfn ships, in the order of the README's
// function table: the one list. The programs that serve all of them at once (the dev server, the Google Cloud
// Functions entry) read it, and so does every test that needs the functions; deploy/gen
// writes from it the per-function parts of template.yaml, the function list of
// deploy/gcp/deploy.sh, the trigger envelopes in events/<function>/ and the README's function
// table. Adding an operation is one entry here beside its provider file (README.md, "Adding a
// sixth operation").
package catalog

import (
	"strings"

	"github.com/lbfn/lbfn/shared/ctyun"
	"github.com/lbfn/lbfn/shared/huaweicloud"
	"github.com/lbfn/lbfn/shared/jdcloud"
	"github.com/lbfn/lbfn/shared/op"
)

// A Function is one create function: its operation, and what the deployment and the README
// say of it.
type Function struct {
	Op op.Operation
	// Title names the provider call in a few words, for the template's comments and the
	// function's Description.
	Title string
	// Call is the provider call as the README's function table shows it (Markdown).
	Call string
	// Fields are the request's fields as the README's function table shows them (Markdown).
	Fields string
}

// Functions are the create functions, one operation each.
var Functions = []Function{
	{
		Op:    jdcloud.CreateBackend,
		Title: "JD Cloud LB createBackend",
		Call:  "JD Cloud LB `POST /v1/regions/{regionId}/backends/`",
		Fields: "`regionId` + the createBackend body at the top level: `backendName`, `loadBalancerId`, `protocol`, `port`, " +
			"`healthCheckSpec`, optional `algorithm`, `targetGroupIds`, `agIds`, `agInfoSpec`, `proxyProtocol`, `description`, " +
			"`sessionStickiness`, `sessionStickyTimeout`, `connectionDrainingSeconds`, `httpCookieExpireSeconds`, `httpForwarded*`",
	},
	{
		Op:    huaweicloud.CreatePool,
		Title: "Huawei ELB v2 create pool",
		Call:  "Huawei ELB `POST /v2/{project_id}/elb/pools`",
		Fields: "`region`, optional `projectId`, `pool`: `protocol`, `lb_algorithm`, `listener_id` and/or `loadbalancer_id`, " +
			"optional `name`, `description`, `tenant_id`, `admin_state_up`, `session_persistence`, `protection_status`, `protection_reason`",
	},
	{
		Op:     huaweicloud.CreateLbaasPool,
		Title:  "Huawei ELB v2.0 LBaaS create pool",
		Call:   "Huawei ELB `POST /v2.0/lbaas/pools`",
		Fields: "`region`, optional `projectId`, `pool`: as above, with `project_id` instead of the `protection_*` fields",
	},
	{
		Op:    huaweicloud.CreateMasterSlavePool,
		Title: "Huawei ELB v3 create master-slave pool",
		Call:  "Huawei ELB `POST /v3/{project_id}/elb/master-slave-pools`",
		Fields: "`region`, optional `projectId`, `pool`: `lb_algorithm`, `protocol`, `members` (one `master`, one `slave`), " +
			"`healthmonitor`, one of `listener_id`/`loadbalancer_id`/`type`, optional `name`, `description`, `project_id`, " +
			"`vpc_id`, `ip_version`, `session_persistence`, `any_port_enable`, `connection_drain`, `quic_cid_hash_strategy`",
	},
	{
		Op:     ctyun.CreatePolicy,
		Title:  "CTyun ELB async-create-policy",
		Call:   "CTyun ELB `POST /v4/elb/async-create-policy`, re-sent until `done`",
		Fields: "the body at the top level: `regionID`, `listenerID`, `name`, `conditions`, `targetGroup`, optional `description`, `clientToken`",
	},
}

// Operations are the create operations of Functions, in the same order.
var Operations = func() []op.Operation {
	ops := make([]op.Operation, len(Functions))
	for i, f := range Functions {
		ops[i] = f.Op
	}
	return ops
}()

// Lookup returns the operation serving function name.
func Lookup(name string) (op.Operation, bool) {
	for _, o := range Operations {
		if o.Function() == name {
			return o, true
		}
	}
	return nil, false
}

// Names returns the function names of Functions, in order.
func Names() []string {
	names := make([]string, len(Functions))
	for i, f := range Functions {
		names[i] = f.Op.Function()
	}
	return names
}

// LogicalName is the CamelCase form of a function name that its resources' logical ids in
// template.yaml start with: "ctyun-create-policy" is "CtyunCreatePolicy" (its function
// "CtyunCreatePolicyFunction", its queue "CtyunCreatePolicyQueue"). The Makefile's
// build-<LogicalId> rule turns it back into the name.
func LogicalName(function string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(function, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
