package huaweicloud

import (
	"context"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// The three operations, connected from the environment (see LoadConfig).
var (
	// CreatePool is huawei-create-pool: POST /v2/{project_id}/elb/pools.
	CreatePool = NewCreatePool(Connect)
	// CreateLbaasPool is huawei-create-lbaas-pool: POST /v2.0/lbaas/pools.
	CreateLbaasPool = NewCreateLbaasPool(Connect)
	// CreateMasterSlavePool is huawei-create-master-slave-pool:
	// POST /v3/{project_id}/elb/master-slave-pools.
	CreateMasterSlavePool = NewCreateMasterSlavePool(Connect)
)

// NewCreatePool returns huawei-create-pool with its client from connect (tests, local runs).
func NewCreatePool(connect func() (*Client, error)) op.Operation {
	return &op.Spec[CreatePoolRequest, *Client]{
		FunctionName: "huawei-create-pool",
		ProviderName: ProviderName,
		Connect:      connect,
		Validate:     validateRequest[Pool],
		Call: func(ctx context.Context, c *Client, r *CreatePoolRequest, call op.Call) (op.Result, error) {
			return c.CreatePool(ctx, r, call)
		},
	}
}

// NewCreateLbaasPool returns huawei-create-lbaas-pool with its client from connect.
func NewCreateLbaasPool(connect func() (*Client, error)) op.Operation {
	return &op.Spec[CreateLbaasPoolRequest, *Client]{
		FunctionName: "huawei-create-lbaas-pool",
		ProviderName: ProviderName,
		Connect:      connect,
		Validate:     validateRequest[LbaasPool],
		Call: func(ctx context.Context, c *Client, r *CreateLbaasPoolRequest, call op.Call) (op.Result, error) {
			return c.CreateLbaasPool(ctx, r, call)
		},
	}
}

// NewCreateMasterSlavePool returns huawei-create-master-slave-pool with its client from connect.
func NewCreateMasterSlavePool(connect func() (*Client, error)) op.Operation {
	return &op.Spec[CreateMasterSlavePoolRequest, *Client]{
		FunctionName: "huawei-create-master-slave-pool",
		ProviderName: ProviderName,
		Connect:      connect,
		Validate:     validateRequest[MasterSlavePool],
		Call: func(ctx context.Context, c *Client, r *CreateMasterSlavePoolRequest, call op.Call) (op.Result, error) {
			return c.CreateMasterSlavePool(ctx, r, call)
		},
	}
}

// validatable is a pool type with its rules.
type validatable[P any] interface {
	*P
	Validate(v *validate.Report, path string)
}

// validateRequest checks the routing fields and the pool.
func validateRequest[P any, PP validatable[P]](r *Request[P], v *validate.Report) {
	validateRouting(r.Region, r.ProjectID, v)
	if v.Required("pool", r.Pool != nil) {
		PP(r.Pool).Validate(v, "pool")
	}
}
