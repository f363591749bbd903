// Command huawei-create-master-slave-pool is the AWS Lambda function (the provided.al2023 bootstrap) for
// Huawei ELB POST /v3/{project_id}/elb/master-slave-pools. Build: CGO_ENABLED=0 go build -tags lambda.norpc.
package main

import (
	"github.com/lbfn/lbfn/shared/huaweicloud"
	"github.com/lbfn/lbfn/shared/lambdafn"
)

func main() { lambdafn.Start(huaweicloud.CreateMasterSlavePool) }
