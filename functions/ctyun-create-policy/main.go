// Command ctyun-create-policy is the AWS Lambda function (the provided.al2023 bootstrap) for
// CTyun ELB POST /v4/elb/async-create-policy, re-sent with the same clientToken until done. Build: CGO_ENABLED=0 go build -tags lambda.norpc.
package main

import (
	"github.com/lbfn/lbfn/shared/ctyun"
	"github.com/lbfn/lbfn/shared/lambdafn"
)

func main() { lambdafn.Start(ctyun.CreatePolicy) }
