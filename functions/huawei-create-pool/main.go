// Command huawei-create-pool is the AWS Lambda function (the provided.al2023 bootstrap) for
// Huawei ELB POST /v2/{project_id}/elb/pools. Build: CGO_ENABLED=0 go build -tags lambda.norpc.
package main

import (
	"github.com/lbfn/lbfn/shared/huaweicloud"
	"github.com/lbfn/lbfn/shared/lambdafn"
)

func main() { lambdafn.Start(huaweicloud.CreatePool) }
