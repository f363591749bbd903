// Package statemachine holds the Step Functions definitions of the deployment. The CTyun
// job-poller (ctyun-create-policy.asl.json) drives one asynchronous policy creation to its
// end: invoke ctyun-create-policy, and while it answers in_progress, wait the
// retryAfterSeconds it gives and invoke it again with the request it returned (which carries
// the same clientToken), up to an iteration cap. template.yaml deploys it with
// DefinitionSubstitutions; the deploy tests validate it with asl-validator, and this
// package's test walks its Task → Choice → Wait → Task loop against the emulator.
package statemachine

import _ "embed"

// CtyunCreatePolicy is the job-poller's definition, with the ${CtyunCreatePolicyFunctionArn}
// placeholder CloudFormation substitutes.
//
//go:embed ctyun-create-policy.asl.json
var CtyunCreatePolicy []byte
