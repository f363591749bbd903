package huaweicloud

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/lbfn/lbfn/shared/op"
)

// The three pool collections. Their answers and lists hold the pool as "pool" and "pools"
// alike, and a listed pool is matched the same way on each.
var (
	v2Pools          = pools[Pool](func(p string) string { return "/v2/" + p + "/elb/pools" })
	lbaasPools       = pools[LbaasPool](func(string) string { return "/v2.0/lbaas/pools" })
	masterSlavePools = pools[MasterSlavePool](func(p string) string { return "/v3/" + p + "/elb/master-slave-pools" })
)

// CreatePool sends POST /v2/{project_id}/elb/pools. Like the other two methods it does not
// check the documented rules: the operations' Decode does, before any call. call.Repeat says
// an earlier delivery may have sent it already (see Client.create).
func (c *Client) CreatePool(ctx context.Context, r *CreatePoolRequest, call op.Call) (op.Result, error) {
	return send(ctx, c, v2Pools, r.Region, r.ProjectID, r.Pool, call)
}

// CreateLbaasPool sends POST /v2.0/lbaas/pools.
func (c *Client) CreateLbaasPool(ctx context.Context, r *CreateLbaasPoolRequest, call op.Call) (op.Result, error) {
	return send(ctx, c, lbaasPools, r.Region, r.ProjectID, r.Pool, call)
}

// CreateMasterSlavePool sends POST /v3/{project_id}/elb/master-slave-pools.
func (c *Client) CreateMasterSlavePool(ctx context.Context, r *CreateMasterSlavePoolRequest, call op.Call) (op.Result, error) {
	return send(ctx, c, masterSlavePools, r.Region, r.ProjectID, r.Pool, call)
}

// pools describes the pool collection at path, whose pool object is P.
func pools[P any, PP poolIdentified[P]](path func(project string) string) resource[P] {
	return resource[P]{
		noun: "pool", path: path, key: "pool", listKey: "pools",
		name: func(sent *P) string { return PP(sent).identity().name },
		matches: func(sent *P, listed []byte) bool {
			var p listedPool
			return json.Unmarshal(listed, &p) == nil && p.matches(PP(sent).identity())
		},
	}
}

// poolIdentified is a pool type that can say what identifies the pool it creates.
type poolIdentified[P any] interface {
	*P
	identity() poolIdentity
}

// poolIdentity is what a listed pool must match to be adopted as the one an ambiguous create
// made.
type poolIdentity struct {
	name, protocol, lbAlgorithm, listenerID, loadbalancerID string
}

func (p *V2PoolFields) identity() poolIdentity {
	return poolIdentity{deref(p.Name), p.Protocol, p.LbAlgorithm, deref(p.ListenerID), deref(p.LoadbalancerID)}
}

func (p *MasterSlavePool) identity() poolIdentity {
	return poolIdentity{deref(p.Name), p.Protocol, p.LbAlgorithm, deref(p.ListenerID), deref(p.LoadbalancerID)}
}

// listedPool is what reconciliation reads of a listed pool.
type listedPool struct {
	Name          string `json:"name"`
	Protocol      string `json:"protocol"`
	LbAlgorithm   string `json:"lb_algorithm"`
	Listeners     []ref  `json:"listeners"`
	Loadbalancers []ref  `json:"loadbalancers"`
}

type ref struct {
	ID string `json:"id"`
}

// matches reports whether p is the pool id describes: the same name, protocol and algorithm,
// and attached to its listener and load balancer, when it names them.
func (p *listedPool) matches(id poolIdentity) bool {
	has := func(refs []ref, want string) bool {
		return want == "" || slices.ContainsFunc(refs, func(r ref) bool { return r.ID == want })
	}
	return p.Name == id.name && p.Protocol == id.protocol && p.LbAlgorithm == id.lbAlgorithm &&
		has(p.Listeners, id.listenerID) && has(p.Loadbalancers, id.loadbalancerID)
}
