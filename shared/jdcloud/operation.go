package jdcloud

import (
	"context"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// CreateBackend is the jdcloud-create-backend function, its client from the environment
// (FromEnv): JD Cloud LB POST /v1/regions/{regionId}/backends/.
var CreateBackend = NewCreateBackend(FromEnv)

// NewCreateBackend returns jdcloud-create-backend with its client from newClient (tests, local
// runs).
func NewCreateBackend(newClient func() (*Client, error)) op.Operation {
	return &op.Spec[CreateBackendRequest, *Client]{
		FunctionName: "jdcloud-create-backend",
		ProviderName: "jdcloud",
		Client:       newClient,
		Validate: func(r *CreateBackendRequest, v *validate.Report) {
			ValidateBody(&r.CreateBackendBody, v)
		},
		Send: func(ctx context.Context, c *Client, r *CreateBackendRequest, _ op.Call) (op.Result, error) {
			return c.CreateBackend(ctx, r)
		},
	}
}
