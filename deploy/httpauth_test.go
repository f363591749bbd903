package deploy

import (
	"fmt"
	"slices"
	"strings"
)

// httpAuthValues are the HttpAuth parameter's choices, the default first: a stack is closed
// unless its owner opens it on purpose.
var httpAuthValues = []string{"AWS_IAM", "WEBHOOK_HMAC", "NONE"}

// checkHTTPAuth checks the HttpAuth parameter (default AWS_IAM, exactly the three choices),
// the rule that WEBHOOK_HMAC comes with WebhookSecretArn, and the API's auto-deployed stage.
func checkHTTPAuth(tpl template) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	param := obj(obj(tpl["Parameters"])["HttpAuth"])
	if param == nil {
		return []string{"Parameters: no HttpAuth: the HTTP API's routes have no chosen guard"}
	}
	if param["Default"] != httpAuthValues[0] {
		fail("Parameters: HttpAuth defaults to %v, want AWS_IAM: a stack must be closed by default", param["Default"])
	}
	var allowed []string
	for _, v := range asList(param["AllowedValues"]) {
		s, _ := v.(string)
		allowed = append(allowed, s)
	}
	if !slices.Equal(allowed, httpAuthValues) {
		fail("Parameters: HttpAuth AllowedValues %v, want %v", allowed, httpAuthValues)
	}
	// The rule: with WEBHOOK_HMAC, WebhookSecretArn must not be empty.
	ruled := false
	for _, r := range obj(tpl["Rules"]) {
		r := obj(r)
		params := map[string]string{"HttpAuth": "WEBHOOK_HMAC", "WebhookSecretArn": ""}
		applies, ok := evalCondition(tpl, r["RuleCondition"], params)
		if !ok || !applies {
			continue
		}
		for _, a := range asList(r["Assertions"]) {
			if holds, ok := evalCondition(tpl, obj(a)["Assert"], params); ok && !holds {
				params["WebhookSecretArn"] = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"
				if holds, ok := evalCondition(tpl, obj(a)["Assert"], params); ok && holds {
					ruled = true
				}
			}
		}
	}
	if !ruled {
		fail("Rules: HttpAuth WEBHOOK_HMAC must require WebhookSecretArn (a Rule whose assertion fails without it)")
	}
	api := tpl.resource("HttpApi")
	if api["Type"] != "AWS::ApiGatewayV2::Api" || obj(api["Properties"])["ProtocolType"] != "HTTP" {
		fail("HttpApi: must be an AWS::ApiGatewayV2::Api of ProtocolType HTTP")
	}
	staged := false
	for _, r := range tpl.resources() {
		r := obj(r)
		p := obj(r["Properties"])
		if r["Type"] == "AWS::ApiGatewayV2::Stage" && refTo(p["ApiId"]) == "HttpApi" && p["StageName"] == "$default" && p["AutoDeploy"] == true {
			staged = true
		}
	}
	if !staged {
		fail("HttpApi: no auto-deployed $default stage")
	}
	return problems
}

// checkRoute checks that function name has exactly one route, POST /<name>, to an AWS_PROXY
// integration of the function (payload 2.0) that API Gateway may invoke, and that the route's
// authorization, under each HttpAuth choice, is AWS_IAM for AWS_IAM and none otherwise (the
// function checks the HMAC itself).
func checkRoute(tpl template, name, fn string) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var routes []map[string]any
	for _, r := range tpl.resources() {
		r := obj(r)
		if r["Type"] == "AWS::ApiGatewayV2::Route" && obj(r["Properties"])["RouteKey"] == "POST /"+name {
			routes = append(routes, obj(r["Properties"]))
		}
	}
	if len(routes) != 1 {
		return []string{fmt.Sprintf("%s: want exactly one route POST /%s, found %d", fn, name, len(routes))}
	}
	route := routes[0]
	if refTo(route["ApiId"]) != "HttpApi" {
		fail("%s: route POST /%s is not on HttpApi", fn, name)
	}
	target, _ := obj(route["Target"])["Fn::Sub"].(string)
	integration, ok := strings.CutPrefix(target, "integrations/${")
	integration = strings.TrimSuffix(integration, "}")
	ip := tpl.props(integration)
	if id, _ := getAttOf(ip["IntegrationUri"]); !ok || tpl.resource(integration)["Type"] != "AWS::ApiGatewayV2::Integration" ||
		id != fn || ip["IntegrationType"] != "AWS_PROXY" || ip["PayloadFormatVersion"] != "2.0" {
		fail("%s: route POST /%s must target an AWS_PROXY integration (payload 2.0) of the function", fn, name)
	}
	for _, choice := range httpAuthValues {
		want := "NONE"
		if choice == "AWS_IAM" {
			want = "AWS_IAM"
		}
		got, ok := evalValue(tpl, route["AuthorizationType"], map[string]string{"HttpAuth": choice})
		if !ok || got != want {
			fail("%s: route POST /%s authorization with HttpAuth %s is %v, want %s", fn, name, choice, got, want)
		}
	}
	permitted := false
	for _, r := range tpl.resources() {
		r := obj(r)
		p := obj(r["Properties"])
		if r["Type"] == "AWS::Lambda::Permission" && refTo(p["FunctionName"]) == fn && p["Principal"] == "apigateway.amazonaws.com" {
			src, _ := obj(p["SourceArn"])["Fn::Sub"].(string)
			permitted = strings.Contains(src, "${HttpApi}/") && strings.HasSuffix(src, "/POST/"+name)
		}
	}
	if !permitted {
		fail("%s: no Lambda permission for HttpApi's POST /%s alone", fn, name)
	}
	return problems
}

// evalValue resolves the intrinsics a property may use to choose by parameter: a literal, a
// Ref to a parameter, or Fn::If on a condition. ok is false for anything else.
func evalValue(tpl template, v any, params map[string]string) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case map[string]any:
		if name := refTo(x); name != "" {
			val, ok := params[name]
			if !ok {
				val, ok = obj(obj(tpl["Parameters"])[name])["Default"].(string)
			}
			return val, ok
		}
		if l, ok := x["Fn::If"].([]any); ok && len(l) == 3 {
			c, _ := l[0].(string)
			holds, ok := evalCondition(tpl, map[string]any{"Condition": c}, params)
			if !ok {
				return "", false
			}
			if holds {
				return evalValue(tpl, l[1], params)
			}
			return evalValue(tpl, l[2], params)
		}
	}
	return "", false
}

// evalCondition evaluates a condition: Fn::Equals, Fn::Not, Fn::And, Fn::Or, or a named
// condition of the template.
func evalCondition(tpl template, v any, params map[string]string) (bool, bool) {
	m := obj(v)
	if c, ok := m["Condition"].(string); ok {
		def, ok := obj(tpl["Conditions"])[c]
		if !ok {
			return false, false
		}
		return evalCondition(tpl, def, params)
	}
	if l, ok := m["Fn::Equals"].([]any); ok && len(l) == 2 {
		a, ok1 := evalValue(tpl, l[0], params)
		b, ok2 := evalValue(tpl, l[1], params)
		return a == b, ok1 && ok2
	}
	if l, ok := m["Fn::Not"].([]any); ok && len(l) == 1 {
		b, ok := evalCondition(tpl, l[0], params)
		return !b, ok
	}
	for _, op := range []string{"Fn::And", "Fn::Or"} {
		l, ok := m[op].([]any)
		if !ok {
			continue
		}
		all, anyTrue := true, false
		for _, c := range l {
			b, ok := evalCondition(tpl, c, params)
			if !ok {
				return false, false
			}
			all, anyTrue = all && b, anyTrue || b
		}
		if op == "Fn::And" {
			return all, true
		}
		return anyTrue, true
	}
	return false, false
}
