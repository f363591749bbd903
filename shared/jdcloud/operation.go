package jdcloud

import (
	"context"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// CreateBackend is the jdcloud-create-backend function: JD Cloud LB
// POST /v1/regions/{regionId}/backends/.
var CreateBackend op.Operation = &op.Spec[CreateBackendRequest, *Client]{
	FunctionName: "jdcloud-create-backend",
	ProviderName: "jdcloud",
	Connect:      Connect,
	Validate: func(r *CreateBackendRequest, v *validate.Report) {
		ValidateBody(&r.CreateBackendBody, v)
	},
	Call: func(ctx context.Context, c *Client, r *CreateBackendRequest, _ op.Call) (op.Result, error) {
		return c.CreateBackend(ctx, r)
	},
}
