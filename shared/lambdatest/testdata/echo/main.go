// Command echo is a plain aws-lambda-go function for lambdatest's own tests: it answers the
// event with its request id, deadline and function ARN, fails on {"fail":true} and panics on
// {"panic":true}.
package main

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Fail  bool `json:"fail"`
	Panic bool `json:"panic"`
}

type answer struct {
	RequestID   string `json:"requestId"`
	FunctionARN string `json:"functionArn"`
	HasDeadline bool   `json:"hasDeadline"`
	Env         string `json:"env"`
}

// CustomError's type name becomes the errorType.
type CustomError struct{}

func (CustomError) Error() string { return "custom failure" }

func main() {
	lambda.StartWithOptions(func(ctx context.Context, e event) (answer, error) {
		if e.Panic {
			panic("boom")
		}
		if e.Fail {
			return answer{}, errors.Join(CustomError{})
		}
		lc, _ := lambdacontext.FromContext(ctx)
		_, ok := ctx.Deadline()
		return answer{RequestID: lc.AwsRequestID, FunctionARN: lc.InvokedFunctionArn, HasDeadline: ok, Env: os.Getenv("ECHO_ENV")}, nil
	}, lambda.WithEnableSIGTERM(func() {}))
}
