// Package deploy holds no code of the functions: it is where the deployment lives
// (template.yaml at the repository root, the state machine under statemachine/, the Google
// Cloud script under gcp/, the validators' npm manifest under tools/) and where its offline
// checks run. Its tests validate template.yaml against the SAM schema, every plain
// CloudFormation resource against the CloudFormation resource specification, the state
// machine with asl-validator, and the checklist each function must meet (its queue, DLQ,
// visibility timeout, partial batch failures), and prove each check fails on a broken copy.
package deploy
