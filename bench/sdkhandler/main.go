// Command sdkhandler is the baseline the benchmarks measure lbfn against: the Lambda handler a
// user would write on Huawei's official Go SDK for POST /v3/{project_id}/elb/master-slave-pools.
// It is kept plain on purpose (the SDK's own builders, aws-lambda-go's reflection-based
// Start): no validation, no idempotency, one trigger.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	elb "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/elb/v3"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/elb/v3/model"
)

var client = elb.NewElbClient(elb.ElbClientBuilder().
	WithEndpoints([]string{os.Getenv("HUAWEICLOUD_ELB_ENDPOINT")}).
	WithCredential(basic.NewCredentialsBuilder().
		WithAk(os.Getenv("HUAWEICLOUD_SDK_AK")).
		WithSk(os.Getenv("HUAWEICLOUD_SDK_SK")).
		WithProjectId(os.Getenv("HUAWEICLOUD_SDK_PROJECT_ID")).
		Build()).
	Build())

func handle(ctx context.Context, body model.CreateMasterSlavePoolRequestBody) (*model.CreateMasterSlavePoolResponse, error) {
	return client.CreateMasterSlavePool(&model.CreateMasterSlavePoolRequest{Body: &body})
}

func main() { lambda.Start(handle) }
