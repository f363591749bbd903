package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTemplateValid(t *testing.T) {
	tpl := loadTemplate(t, filepath.Join(repoRoot, "template.yaml"))
	for _, check := range []struct {
		name string
		run  func(*testing.T) []string
	}{
		{"checklist", func(t *testing.T) []string { return checklist(tpl, repoRoot) }},
		{"references", func(t *testing.T) []string { return referenceProblems(tpl) }},
		{"chatops", func(t *testing.T) []string { return chatopsProblems(tpl) }},
		{"SAM schema", func(t *testing.T) []string { return schemaProblems(t, tpl) }},
		{"CloudFormation spec", func(t *testing.T) []string { return cfnSpecProblems(t, tpl) }},
		{"asl-validator", func(t *testing.T) []string { return aslProblems(t, tpl, repoRoot) }},
	} {
		t.Run(check.name, func(t *testing.T) {
			t.Parallel()
			for _, p := range check.run(t) {
				t.Error(p)
			}
		})
	}
}

// TestTemplateChecksCatchBreakage proves each check fails on a copy of the real template
// broken in the way it guards against.
func TestTemplateChecksCatchBreakage(t *testing.T) {
	real := loadTemplate(t, filepath.Join(repoRoot, "template.yaml"))
	const ctyun = "CtyunCreatePolicyFunction"
	tests := []struct {
		name   string
		mutate func(t *testing.T, tpl template, dir string)
		check  string // the check that must fail
		want   string // a fragment of its message
	}{
		{"function missing", func(t *testing.T, tpl template, _ string) {
			delete(tpl.resources(), "HuaweiCreateLbaasPoolFunction")
		}, "checklist", "HuaweiCreateLbaasPoolFunction is missing"},
		{"queue without DLQ", func(t *testing.T, tpl template, _ string) {
			delete(tpl.props("JdcloudCreateBackendQueue"), "RedrivePolicy")
		}, "checklist", "no dead-letter queue"},
		{"DLQ not a queue", func(t *testing.T, tpl template, _ string) {
			tpl.props("JdcloudCreateBackendQueue")["RedrivePolicy"].(map[string]any)["deadLetterTargetArn"] = "arn:aws:sqs:x"
		}, "checklist", "deadLetterTargetArn"},
		{"visibility too short", func(t *testing.T, tpl template, _ string) {
			tpl.props("CtyunCreatePolicyQueue")["VisibilityTimeout"] = 145.0 // 5 x 29 s
		}, "checklist", "shorter than 6 x"},
		{"visibility default", func(t *testing.T, tpl template, _ string) {
			delete(tpl.props("HuaweiCreatePoolQueue"), "VisibilityTimeout")
		}, "checklist", "VisibilityTimeout is not set"},
		{"ReportBatchItemFailures missing", func(t *testing.T, tpl template, _ string) {
			delete(obj(at(tpl.props(ctyun), "Events", "Queue", "Properties")), "FunctionResponseTypes")
		}, "checklist", "ReportBatchItemFailures"},
		{"no maximum concurrency", func(t *testing.T, tpl template, _ string) {
			delete(obj(at(tpl.props(ctyun), "Events", "Queue", "Properties")), "ScalingConfig")
		}, "checklist", "MaximumConcurrency"},
		{"queue not encrypted", func(t *testing.T, tpl template, _ string) {
			delete(tpl.props("HuaweiCreateMasterSlavePoolQueue"), "SqsManagedSseEnabled")
		}, "checklist", "encryption is off"},
		{"credential in the template", func(t *testing.T, tpl template, _ string) {
			obj(at(tpl.props(ctyun), "Environment", "Variables"))["CTYUN_SK"] = "x"
		}, "checklist", "CTYUN_SK is in the template"},
		{"default timeout", func(t *testing.T, tpl template, _ string) {
			delete(tpl.props(ctyun), "Timeout")
		}, "checklist", "Timeout must be set"},
		{"same metadata for two functions", func(t *testing.T, tpl template, _ string) {
			obj(tpl.resource("HuaweiCreatePoolFunction")["Metadata"])["Function"] = "huawei-create-lbaas-pool"
		}, "checklist", "Metadata must be"},
		{"dangling reference", func(t *testing.T, tpl template, _ string) {
			tpl.props("JdcloudCreateBackendQueue")["RedrivePolicy"].(map[string]any)["deadLetterTargetArn"] =
				map[string]any{"Fn::GetAtt": []any{"NoSuchQueue", "Arn"}}
		}, "references", "NoSuchQueue"},
		{"breaks the SAM schema: unknown function property", func(t *testing.T, tpl template, _ string) {
			tpl.props(ctyun)["Timeuot"] = 30.0
		}, "schema", "Timeuot"},
		{"breaks the SAM schema: SQS event without a queue", func(t *testing.T, tpl template, _ string) {
			delete(obj(at(tpl.props(ctyun), "Events", "Queue", "Properties")), "Queue")
		}, "schema", "Queue"},
		{"breaks the CloudFormation spec: unknown queue property", func(t *testing.T, tpl template, _ string) {
			tpl.props("CtyunCreatePolicyDeadLetterQueue")["MessageRetention"] = 60.0
		}, "cfnspec", "MessageRetention: unknown property"},
		{"breaks the CloudFormation spec: wrong type", func(t *testing.T, tpl template, _ string) {
			tpl.props("CtyunCreatePolicyQueue")["SqsManagedSseEnabled"] = "yes"
		}, "cfnspec", "want Boolean"},
		{"breaks the CloudFormation spec: unknown attribute", func(t *testing.T, tpl template, _ string) {
			obj(at(tpl.props(ctyun), "Events", "Queue", "Properties"))["Queue"] =
				map[string]any{"Fn::GetAtt": []any{"CtyunCreatePolicyQueue", "Url"}}
		}, "cfnspec", "has no attribute Url"},
		{"breaks ASL: a Next to no state", func(t *testing.T, tpl template, dir string) {
			mutateDefinition(t, tpl, dir, func(def map[string]any) {
				obj(at(def, "States", "WaitBeforePoll"))["Next"] = "NoSuchState"
			})
		}, "asl", "asl-validator"},
		{"breaks ASL: Wait without a duration", func(t *testing.T, tpl template, dir string) {
			mutateDefinition(t, tpl, dir, func(def map[string]any) {
				delete(obj(at(def, "States", "WaitBeforePoll")), "SecondsPath")
			})
		}, "asl", "asl-validator"},
		{"substitution missing", func(t *testing.T, tpl template, _ string) {
			delete(obj(tpl.props("CtyunCreatePolicyStateMachine")["DefinitionSubstitutions"]), "CtyunCreatePolicyFunctionArn")
		}, "checklist", "DefinitionSubstitutions lacks"},
		{"no idempotency table", func(t *testing.T, tpl template, _ string) {
			delete(obj(at(tpl.props(ctyun), "Environment", "Variables")), "LBFN_IDEMPOTENCY_TABLE")
		}, "checklist", "LBFN_IDEMPOTENCY_TABLE must be"},
		{"idempotency table without TTL", func(t *testing.T, tpl template, _ string) {
			delete(tpl.props("IdempotencyTable"), "TimeToLiveSpecification")
		}, "checklist", "TTL on expiration"},
		{"idempotency table not encrypted", func(t *testing.T, tpl template, _ string) {
			delete(tpl.props("IdempotencyTable"), "SSESpecification")
		}, "checklist", "IdempotencyTable: server-side encryption is off"},
		{"idempotency table provisioned", func(t *testing.T, tpl template, _ string) {
			delete(tpl.props("IdempotencyTable"), "BillingMode")
		}, "checklist", "PAY_PER_REQUEST"},
		{"DynamoDB on every table", func(t *testing.T, tpl template, _ string) {
			for _, p := range tpl.props(ctyun)["Policies"].([]any) {
				for _, st := range asList(at(p, "Statement")) {
					if obj(st)["Sid"] == "IdempotencyRecords" {
						obj(st)["Resource"] = "*"
					}
				}
			}
		}, "checklist", "dynamodb:PutItem must be scoped"},
		{"DynamoDB beyond the item calls", func(t *testing.T, tpl template, _ string) {
			tpl.props(ctyun)["Policies"] = append(tpl.props(ctyun)["Policies"].([]any), map[string]any{"Statement": []any{map[string]any{
				"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": map[string]any{"Fn::GetAtt": []any{"IdempotencyTable", "Arn"}}}}})
		}, "checklist", "dynamodb:Scan is more than"},
		{"DynamoDB call missing", func(t *testing.T, tpl template, _ string) {
			for _, p := range tpl.props("HuaweiCreatePoolFunction")["Policies"].([]any) {
				for _, st := range asList(at(p, "Statement")) {
					if obj(st)["Sid"] == "IdempotencyRecords" {
						obj(st)["Action"] = []any{"dynamodb:GetItem", "dynamodb:PutItem"}
					}
				}
			}
		}, "checklist", "no dynamodb:DeleteItem"},
		{"breaks the CloudFormation spec: unknown table property", func(t *testing.T, tpl template, _ string) {
			tpl.props("IdempotencyTable")["TimeToLive"] = map[string]any{"AttributeName": "expiration", "Enabled": true}
		}, "cfnspec", "TimeToLive: unknown property"},
		{"create route open whatever HttpAuth says", func(t *testing.T, tpl template, _ string) {
			tpl.props("JdcloudCreateBackendRoute")["AuthorizationType"] = "NONE"
		}, "checklist", "authorization with HttpAuth AWS_IAM is NONE"},
		{"create route without authorization", func(t *testing.T, tpl template, _ string) {
			delete(tpl.props("HuaweiCreatePoolRoute"), "AuthorizationType")
		}, "checklist", "POST /huawei-create-pool authorization with HttpAuth AWS_IAM"},
		{"create route IAM even when HttpAuth opens it", func(t *testing.T, tpl template, _ string) {
			tpl.props("CtyunCreatePolicyRoute")["AuthorizationType"] = "AWS_IAM"
		}, "checklist", "with HttpAuth NONE is AWS_IAM"},
		{"open by default", func(t *testing.T, tpl template, _ string) {
			obj(obj(tpl["Parameters"])["HttpAuth"])["Default"] = "NONE"
		}, "checklist", "want AWS_IAM: a stack must be closed by default"},
		{"webhook HMAC without its secret", func(t *testing.T, tpl template, _ string) {
			delete(tpl, "Rules")
		}, "checklist", "HttpAuth WEBHOOK_HMAC must require WebhookSecretArn"},
		{"rule asserts the wrong thing", func(t *testing.T, tpl template, _ string) {
			for _, r := range obj(tpl["Rules"]) {
				for _, a := range asList(obj(r)["Assertions"]) {
					obj(a)["Assert"] = map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "CredentialsSecretArn"}, ""}}}}
				}
			}
		}, "checklist", "HttpAuth WEBHOOK_HMAC must require WebhookSecretArn"},
		{"create route missing", func(t *testing.T, tpl template, _ string) {
			delete(tpl.resources(), "HuaweiCreateLbaasPoolRoute")
		}, "checklist", "want exactly one route POST /huawei-create-lbaas-pool"},
		{"create route to another function", func(t *testing.T, tpl template, _ string) {
			tpl.props("HuaweiCreatePoolIntegration")["IntegrationUri"] = map[string]any{"Fn::GetAtt": []any{"CtyunCreatePolicyFunction", "Arn"}}
		}, "checklist", "must target an AWS_PROXY integration"},
		{"API Gateway may not invoke", func(t *testing.T, tpl template, _ string) {
			delete(tpl.resources(), "CtyunCreatePolicyHttpPermission")
		}, "checklist", "no Lambda permission"},
		{"back to a SAM HttpApi event", func(t *testing.T, tpl template, _ string) {
			obj(tpl.props(ctyun)["Events"])["Http"] = map[string]any{"Type": "HttpApi", "Properties": map[string]any{"Path": "/ctyun-create-policy", "Method": "POST"}}
		}, "checklist", "HttpApi event Http"},
		{"SAM HttpApi event on the ApiGatewayV2 API", func(t *testing.T, tpl template, _ string) {
			obj(tpl.props("ChatopsFunction"))["Events"] = map[string]any{"Slack": map[string]any{"Type": "HttpApi", "Properties": map[string]any{
				"ApiId": map[string]any{"Ref": "HttpApi"}, "Method": "POST", "Path": "/chatops/slack", "Auth": map[string]any{"Authorizer": "NONE"}}}}
		}, "checklist", "ChatopsFunction: HttpApi event Slack: ApiId must be !Ref to an AWS::Serverless::HttpApi"},
		{"SAM Api event on an API that is not SAM's", func(t *testing.T, tpl template, _ string) {
			obj(tpl.props("ChatopsFunction"))["Events"] = map[string]any{"Rest": map[string]any{"Type": "Api", "Properties": map[string]any{
				"RestApiId": map[string]any{"Ref": "HttpApi"}, "Method": "POST", "Path": "/chatops/slack"}}}
		}, "checklist", "ChatopsFunction: Api event Rest: RestApiId must be !Ref to an AWS::Serverless::Api"},
		{"chatops route behind IAM", func(t *testing.T, tpl template, _ string) {
			tpl.props("ChatopsWecomRoute")["AuthorizationType"] = map[string]any{"Fn::If": []any{"IamAuth", "AWS_IAM", "NONE"}}
		}, "chatops", "POST /chatops/wecom (ChatopsWecomRoute) authorization with HttpAuth AWS_IAM"},
		{"chatops route missing", func(t *testing.T, tpl template, _ string) {
			delete(tpl.resources(), "ChatopsResultRoute")
		}, "chatops", "want [GET /chatops/wecom POST /chatops/dingtalk POST /chatops/feishu POST /chatops/result/{token}"},
		{"breaks the CloudFormation spec: unknown route property", func(t *testing.T, tpl template, _ string) {
			tpl.props("CtyunCreatePolicyRoute")["Authorizer"] = "AWS_IAM"
		}, "cfnspec", "Authorizer: unknown property"},
		{"state machine without tracing", func(t *testing.T, tpl template, _ string) {
			delete(tpl.props("CtyunCreatePolicyStateMachine"), "Tracing")
		}, "checklist", "tracing is off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tpl := real.clone()
			tt.mutate(t, tpl, repoRoot)
			var problems []string
			switch tt.check {
			case "checklist":
				problems = checklist(tpl, repoRoot)
			case "references":
				problems = referenceProblems(tpl)
			case "chatops":
				problems = chatopsProblems(tpl)
			case "schema":
				problems = schemaProblems(t, tpl)
			case "cfnspec":
				problems = cfnSpecProblems(t, tpl)
			case "asl":
				problems = aslProblems(t, tpl, repoRoot)
			}
			if !containsFragment(problems, tt.want) {
				t.Errorf("%s check did not catch it: want a problem containing %q, got %q", tt.check, tt.want, problems)
			}
		})
	}
}

// mutateDefinition writes a changed copy of the state machine definition to a temporary
// file and points the template at it.
func mutateDefinition(t *testing.T, tpl template, dir string, change func(map[string]any)) {
	t.Helper()
	raw, err := stateMachineDefinition(tpl, dir)
	if err != nil {
		t.Fatal(err)
	}
	var def map[string]any
	if err := json.Unmarshal(raw, &def); err != nil {
		t.Fatal(err)
	}
	change(def)
	b, _ := json.MarshalIndent(def, "", "  ")
	file := filepath.Join(t.TempDir(), "definition.asl.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	tpl.props("CtyunCreatePolicyStateMachine")["DefinitionUri"] = file
}

func containsFragment(problems []string, want string) bool {
	for _, p := range problems {
		if strings.Contains(p, want) {
			return true
		}
	}
	return false
}

// TestRouteCanOptOut: a route that is not a create route (a chat platform's webhook, which
// verifies the platform's own signature) may say AuthorizationType NONE and stay reachable;
// the checks hold only the create routes to HttpAuth.
func TestRouteCanOptOut(t *testing.T) {
	tpl := loadTemplate(t, filepath.Join(repoRoot, "template.yaml"))
	before := len(checklist(tpl, repoRoot))
	tpl.resources()["ChatopsSlackRoute"] = map[string]any{"Type": "AWS::ApiGatewayV2::Route", "Properties": map[string]any{
		"ApiId": map[string]any{"Ref": "HttpApi"}, "RouteKey": "POST /chatops/slack", "AuthorizationType": "NONE",
		"Target": map[string]any{"Fn::Sub": "integrations/${JdcloudCreateBackendIntegration}"}}}
	if after := checklist(tpl, repoRoot); len(after) != before {
		t.Errorf("an opted-out route made the checklist fail: %q", after)
	}
}
