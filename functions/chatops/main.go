// Command chatops is the AWS Lambda function (the provided.al2023 bootstrap) that turns chat
// commands from Slack, Feishu, DingTalk and WeCom into queued create requests, and posts each
// one's result back into the chat. Build: CGO_ENABLED=0 go build -tags lambda.norpc.
package main

import "github.com/lbfn/lbfn/shared/chatops/chatlambda"

func main() { chatlambda.Start() }
