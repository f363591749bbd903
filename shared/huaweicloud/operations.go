package huaweicloud

import (
	"context"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// The three operations, their client from the environment (FromEnv).
var (
	// CreatePool is huawei-create-pool: POST /v2/{project_id}/elb/pools.
	CreatePool = NewCreatePool(FromEnv)
	// CreateLbaasPool is huawei-create-lbaas-pool: POST /v2.0/lbaas/pools.
	CreateLbaasPool = NewCreateLbaasPool(FromEnv)
	// CreateMasterSlavePool is huawei-create-master-slave-pool:
	// POST /v3/{project_id}/elb/master-slave-pools.
	CreateMasterSlavePool = NewCreateMasterSlavePool(FromEnv)
)

// NewCreatePool returns huawei-create-pool with its client from newClient (tests, local runs).
func NewCreatePool(newClient func() (*Client, error)) op.Operation {
	return &op.Spec[CreatePoolRequest, *Client]{
		FunctionName: "huawei-create-pool",
		ProviderName: ProviderName,
		Client:       newClient,
		Validate:     validateRequest[Pool],
		Send: func(ctx context.Context, c *Client, r *CreatePoolRequest, call op.Call) (op.Result, error) {
			return c.CreatePool(ctx, r, call)
		},
	}
}

// NewCreateLbaasPool returns huawei-create-lbaas-pool with its client from newClient.
func NewCreateLbaasPool(newClient func() (*Client, error)) op.Operation {
	return &op.Spec[CreateLbaasPoolRequest, *Client]{
		FunctionName: "huawei-create-lbaas-pool",
		ProviderName: ProviderName,
		Client:       newClient,
		Validate:     validateRequest[LbaasPool],
		Send: func(ctx context.Context, c *Client, r *CreateLbaasPoolRequest, call op.Call) (op.Result, error) {
			return c.CreateLbaasPool(ctx, r, call)
		},
	}
}

// NewCreateMasterSlavePool returns huawei-create-master-slave-pool with its client from newClient.
func NewCreateMasterSlavePool(newClient func() (*Client, error)) op.Operation {
	return &op.Spec[CreateMasterSlavePoolRequest, *Client]{
		FunctionName: "huawei-create-master-slave-pool",
		ProviderName: ProviderName,
		Client:       newClient,
		Validate:     validateRequest[MasterSlavePool],
		Send: func(ctx context.Context, c *Client, r *CreateMasterSlavePoolRequest, call op.Call) (op.Result, error) {
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
