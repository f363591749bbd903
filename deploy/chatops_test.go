package deploy

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// chatopsID is the template's logical id of the chatops function.
const chatopsID = "ChatopsFunction"

// chatopsRoutes are the HTTP API routes chatops must have, each public (AuthorizationType
// NONE whatever HttpAuth says): the platforms sign their own requests, which chatops
// verifies, and the result route opens only the sealed tokens it gave out.
var chatopsRoutes = []string{
	"POST /chatops/slack", "POST /chatops/feishu", "POST /chatops/dingtalk",
	"GET /chatops/wecom", "POST /chatops/wecom", "POST /chatops/result/{token}",
}

// chatSecretVariables must never appear in the template either.
var chatSecretVariables = []string{
	"LBFN_SLACK_SIGNING_SECRET", "LBFN_FEISHU_VERIFICATION_TOKEN", "LBFN_FEISHU_ENCRYPT_KEY",
	"LBFN_FEISHU_APP_SECRET", "LBFN_DINGTALK_APP_SECRET", "LBFN_WECOM_TOKEN", "LBFN_WECOM_ENCODING_AES_KEY",
}

// queueID is the logical id of a create function's event queue.
func queueID(name string) string { return strings.TrimSuffix(logicalID(name), "Function") + "Queue" }

// chatopsProblems checks the chatops function: its build, its public routes (see
// chatopsRouteProblems), a queue URL
// variable per create function referencing that function's queue, sqs:SendMessage on exactly
// those queues and nothing else of SQS, and no secret in the template.
func chatopsProblems(tpl template) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	fn := tpl.resource(chatopsID)
	if fn["Type"] != "AWS::Serverless::Function" {
		return []string{chatopsID + ": the chatops function is missing"}
	}
	if meta := obj(fn["Metadata"]); meta["BuildMethod"] != "makefile" || meta["Function"] != "chatops" {
		fail("%s: Metadata must be {BuildMethod: makefile, Function: chatops}", chatopsID)
	}
	if _, ok := number(tpl.props(chatopsID)["Timeout"]); !ok {
		fail("%s: Timeout must be set on the function", chatopsID)
	}

	for evName, ev := range obj(tpl.props(chatopsID)["Events"]) {
		fail("%s: event %s (%v): chatops is reached through its ApiGatewayV2 routes on HttpApi only", chatopsID, evName, obj(ev)["Type"])
	}
	problems = append(problems, chatopsRouteProblems(tpl)...)

	env := obj(at(tpl.props(chatopsID), "Environment", "Variables"))
	for _, v := range append(slices.Clone(credentialVariables), chatSecretVariables...) {
		if _, set := env[v]; set {
			fail("%s: %s is in the template; secrets come from Secrets Manager", chatopsID, v)
		}
	}
	var queues []string
	for _, name := range functionNames {
		variable := "LBFN_QUEUE_URL_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if got := refTo(env[variable]); got != queueID(name) {
			fail("%s: %s must be !Ref %s, got %v", chatopsID, variable, queueID(name), env[variable])
		}
		queues = append(queues, queueID(name))
	}

	var sendTo []string
	policies, _ := tpl.props(chatopsID)["Policies"].([]any)
	for _, p := range policies {
		if obj(p)["SQSSendMessagePolicy"] != nil {
			fail("%s: use one statement naming the queues, not SQSSendMessagePolicy", chatopsID)
		}
		for _, st := range asList(at(p, "Statement")) {
			st := obj(st)
			if l, ok := st["Fn::If"].([]any); ok && len(l) == 3 {
				st = obj(l[1]) // a conditional statement: check what it grants when present
			}
			for _, a := range asList(st["Action"]) {
				action, _ := a.(string)
				switch {
				case action == "sqs:SendMessage":
					for _, r := range asList(st["Resource"]) {
						q, attr := getAttOf(r)
						if attr != "Arn" {
							fail("%s: sqs:SendMessage on %v: want !GetAtt <queue>.Arn", chatopsID, r)
						}
						sendTo = append(sendTo, q)
					}
				case strings.HasPrefix(action, "sqs:"):
					fail("%s: %s is more than enqueueing needs", chatopsID, action)
				case action == "secretsmanager:GetSecretValue":
					if refTo(st["Resource"]) != "ChatSecretArn" {
						fail("%s: secretsmanager:GetSecretValue must be scoped to !Ref ChatSecretArn", chatopsID)
					}
				}
			}
		}
	}
	sort.Strings(sendTo)
	sort.Strings(queues)
	if !slices.Equal(sendTo, queues) {
		fail("%s: sqs:SendMessage on %v, want exactly the create functions' queues %v", chatopsID, sendTo, queues)
	}
	return problems
}

// chatopsRouteProblems checks chatops's routes: exactly chatopsRoutes on HttpApi, each
// AuthorizationType NONE under every HttpAuth choice, each to one AWS_PROXY integration
// (payload 2.0) of the function, which API Gateway may invoke on HttpApi's /chatops/ paths.
func chatopsRouteProblems(tpl template) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	integrations := map[string]bool{}
	for id, r := range tpl.resources() {
		r := obj(r)
		p := obj(r["Properties"])
		if fn, attr := getAttOf(p["IntegrationUri"]); r["Type"] == "AWS::ApiGatewayV2::Integration" && fn == chatopsID && attr == "Arn" {
			if refTo(p["ApiId"]) != "HttpApi" || p["IntegrationType"] != "AWS_PROXY" || p["PayloadFormatVersion"] != "2.0" {
				fail("%s: integration %s must be an AWS_PROXY integration (payload 2.0) on HttpApi", chatopsID, id)
			}
			integrations[id] = true
		}
	}
	if len(integrations) != 1 {
		fail("%s: want exactly one integration of the function, found %d", chatopsID, len(integrations))
	}
	var routes []string
	for id, r := range tpl.resources() {
		r := obj(r)
		p := obj(r["Properties"])
		key, _ := p["RouteKey"].(string)
		if r["Type"] != "AWS::ApiGatewayV2::Route" || !strings.Contains(key, " /chatops/") {
			continue
		}
		routes = append(routes, key)
		if refTo(p["ApiId"]) != "HttpApi" {
			fail("%s: route %s (%s) must be on HttpApi", chatopsID, key, id)
		}
		target, _ := obj(p["Target"])["Fn::Sub"].(string)
		integration, ok := strings.CutPrefix(target, "integrations/${")
		if integration = strings.TrimSuffix(integration, "}"); !ok || !integrations[integration] {
			fail("%s: route %s (%s) must target the function's integration, got %v", chatopsID, key, id, p["Target"])
		}
		for _, choice := range httpAuthValues {
			got, ok := evalValue(tpl, p["AuthorizationType"], map[string]string{"HttpAuth": choice})
			if !ok || got != "NONE" {
				fail("%s: route %s (%s) authorization with HttpAuth %s is %v, want NONE: chat platforms cannot sign AWS requests",
					chatopsID, key, id, choice, p["AuthorizationType"])
			}
		}
	}
	sort.Strings(routes)
	want := slices.Clone(chatopsRoutes)
	sort.Strings(want)
	if !slices.Equal(routes, want) {
		fail("%s: routes %v, want %v", chatopsID, routes, want)
	}
	permitted := false
	for _, r := range tpl.resources() {
		r := obj(r)
		p := obj(r["Properties"])
		if r["Type"] == "AWS::Lambda::Permission" && refTo(p["FunctionName"]) == chatopsID && p["Principal"] == "apigateway.amazonaws.com" {
			src, _ := obj(p["SourceArn"])["Fn::Sub"].(string)
			permitted = permitted || strings.Contains(src, "${HttpApi}/") && strings.HasSuffix(src, "/chatops/*")
		}
	}
	if !permitted {
		fail("%s: no Lambda permission for HttpApi's /chatops/ routes", chatopsID)
	}
	return problems
}

func TestChatopsTemplate(t *testing.T) {
	real := loadTemplate(t, filepath.Join(repoRoot, "template.yaml"))
	for _, p := range chatopsProblems(real) {
		t.Error(p)
	}
	statements := func(tpl template) []any { return asList(at(tpl.props(chatopsID)["Policies"], "0", "Statement")) }
	tests := []struct {
		name   string
		mutate func(tpl template)
		want   string
	}{
		{"function missing", func(tpl template) { delete(tpl.resources(), chatopsID) }, "chatops function is missing"},
		{"route behind IAM", func(tpl template) {
			tpl.props("ChatopsSlackRoute")["AuthorizationType"] = "AWS_IAM"
		}, "POST /chatops/slack (ChatopsSlackRoute) authorization with HttpAuth AWS_IAM is AWS_IAM, want NONE"},
		{"route following HttpAuth", func(tpl template) {
			tpl.props("ChatopsFeishuRoute")["AuthorizationType"] = map[string]any{"Fn::If": []any{"IamAuth", "AWS_IAM", "NONE"}}
		}, "POST /chatops/feishu (ChatopsFeishuRoute) authorization with HttpAuth AWS_IAM"},
		{"route without authorization", func(tpl template) {
			delete(tpl.props("ChatopsResultRoute"), "AuthorizationType")
		}, "POST /chatops/result/{token} (ChatopsResultRoute) authorization"},
		{"route missing", func(tpl template) { delete(tpl.resources(), "ChatopsWecomCheckRoute") }, "GET /chatops/wecom"},
		{"route to another function", func(tpl template) {
			tpl.props("ChatopsDingtalkRoute")["Target"] = map[string]any{"Fn::Sub": "integrations/${JdcloudCreateBackendIntegration}"}
		}, "POST /chatops/dingtalk (ChatopsDingtalkRoute) must target the function's integration"},
		{"integration to another function", func(tpl template) {
			tpl.props("ChatopsIntegration")["IntegrationUri"] = map[string]any{"Fn::GetAtt": []any{"CtyunCreatePolicyFunction", "Arn"}}
		}, "want exactly one integration of the function, found 0"},
		{"API Gateway may not invoke", func(tpl template) { delete(tpl.resources(), "ChatopsHttpPermission") }, "no Lambda permission"},
		{"back to a SAM HttpApi event", func(tpl template) {
			tpl.props(chatopsID)["Events"] = map[string]any{"Slack": map[string]any{"Type": "HttpApi", "Properties": map[string]any{
				"ApiId": map[string]any{"Ref": "HttpApi"}, "Method": "POST", "Path": "/chatops/slack", "Auth": map[string]any{"Authorizer": "NONE"}}}}
		}, "event Slack (HttpApi)"},
		{"secret in the template", func(tpl template) {
			obj(at(tpl.props(chatopsID), "Environment", "Variables"))["LBFN_SLACK_SIGNING_SECRET"] = "x"
		}, "LBFN_SLACK_SIGNING_SECRET is in the template"},
		{"queue variable to the wrong queue", func(tpl template) {
			obj(at(tpl.props(chatopsID), "Environment", "Variables"))["LBFN_QUEUE_URL_HUAWEI_CREATE_POOL"] =
				map[string]any{"Ref": "HuaweiCreatePoolFailureQueue"}
		}, "LBFN_QUEUE_URL_HUAWEI_CREATE_POOL must be !Ref HuaweiCreatePoolQueue"},
		{"send to one queue more", func(tpl template) {
			st := obj(statements(tpl)[0])
			st["Resource"] = append(asList(st["Resource"]), map[string]any{"Fn::GetAtt": []any{"CtyunCreatePolicyFailureQueue", "Arn"}})
		}, "want exactly the create functions' queues"},
		{"send to one queue less", func(tpl template) {
			st := obj(statements(tpl)[0])
			st["Resource"] = asList(st["Resource"])[1:]
		}, "want exactly the create functions' queues"},
		{"more SQS than sending", func(tpl template) {
			obj(statements(tpl)[0])["Action"] = []any{"sqs:SendMessage", "sqs:ReceiveMessage"}
		}, "sqs:ReceiveMessage is more than"},
		{"secrets unscoped", func(tpl template) {
			l := obj(statements(tpl)[1])["Fn::If"].([]any)
			obj(l[1])["Resource"] = "*"
		}, "scoped to !Ref ChatSecretArn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := real.clone()
			tt.mutate(tpl)
			if problems := chatopsProblems(tpl); !containsFragment(problems, tt.want) {
				t.Errorf("not caught: want a problem containing %q, got %q", tt.want, problems)
			}
		})
	}
}

// TestChatopsLinksOnlyWhatItRuns keeps the emulator, the dev server and test helpers out of
// the chatops bootstrap.
func TestChatopsLinksOnlyWhatItRuns(t *testing.T) {
	out, err := exec.Command("go", "list", "-tags", "lambda.norpc", "-deps", "../functions/chatops").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	for _, banned := range []string{"github.com/lbfn/lbfn/shared/emulator", "github.com/lbfn/lbfn/shared/devserver",
		"github.com/lbfn/lbfn/shared/lambdatest", "github.com/lbfn/lbfn/shared/trigger", "net/http/httptest", "testing"} {
		if slices.Contains(deps, banned) {
			t.Errorf("functions/chatops links %s", banned)
		}
	}
}
