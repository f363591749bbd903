// Command jdcloud-create-backend is the AWS Lambda function (the provided.al2023 bootstrap) for
// JD Cloud LB POST /v1/regions/{regionId}/backends/. Build: CGO_ENABLED=0 go build -tags lambda.norpc.
package main

import (
	"github.com/lbfn/lbfn/shared/jdcloud"
	"github.com/lbfn/lbfn/shared/lambdafn"
)

func main() { lambdafn.Start(jdcloud.CreateBackend) }
