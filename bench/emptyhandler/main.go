// Command emptyhandler answers every event at once with {}: the floor of any aws-lambda-go
// function, which the benchmarks measure beside lbfn and the SDK handler to show how much of
// their time is the Runtime API round trip they share.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (map[string]string, error) { return map[string]string{}, nil })
}
