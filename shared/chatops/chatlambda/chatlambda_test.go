package chatlambda

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestRequest(t *testing.T) {
	tests := []struct {
		name      string
		event     event
		wantPath  string
		wantBase  string
		wantBody  string
		wantQuery string
	}{
		{"HTTP API, default stage", event{RawPath: "/chatops/slack", Body: "a=1",
			RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: "abc.execute-api.us-east-1.amazonaws.com", Stage: "$default",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}}},
			"/chatops/slack", "https://abc.execute-api.us-east-1.amazonaws.com", "a=1", ""},
		{"HTTP API, named stage", event{RawPath: "/prod/chatops/wecom", RawQueryString: "msg_signature=x&echostr=a%2Bb",
			RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: "abc.execute-api.us-east-1.amazonaws.com", Stage: "prod",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}},
			"/prod/chatops/wecom", "https://abc.execute-api.us-east-1.amazonaws.com/prod", "", "a+b"},
		{"Function URL, base64 body", event{RawPath: "/chatops/feishu", Body: base64.StdEncoding.EncodeToString([]byte(`{"x":1}`)), IsBase64Encoded: true,
			RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: "xyz.lambda-url.us-east-1.on.aws",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}}},
			"/chatops/feishu", "https://xyz.lambda-url.us-east-1.on.aws", `{"x":1}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.event.Headers = map[string]string{"x-slack-signature": "v0=1"}
			r, err := request(tt.event)
			if err != nil {
				t.Fatal(err)
			}
			if r.Path != tt.wantPath || r.BaseURL != tt.wantBase || string(r.Body) != tt.wantBody ||
				r.Query.Get("echostr") != tt.wantQuery || r.Header.Get("X-Slack-Signature") != "v0=1" {
				t.Errorf("request = %+v", r)
			}
		})
	}
	if _, err := request(event{Body: "%%%", IsBase64Encoded: true}); err == nil {
		t.Error("a body marked base64 that is not was accepted")
	}
}

func TestInvoke(t *testing.T) {
	t.Setenv("LBFN_SLACK_SIGNING_SECRET", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	var logs bytes.Buffer
	h := New(slog.New(slog.NewJSONHandler(&logs, nil)))
	invoke := func(method, path string) int {
		b, _ := json.Marshal(event{RawPath: path, RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: "abc.example",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method}}})
		out, err := h.Invoke(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		var resp response
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"POST", "/chatops/slack", http.StatusUnauthorized}, // not configured
		{"POST", "/chatops/result/slack.AAAA", http.StatusUnauthorized},
		{"POST", "/elsewhere", http.StatusNotFound},
	} {
		if got := invoke(tt.method, tt.path); got != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, got, tt.want)
		}
	}
	if !strings.Contains(logs.String(), "LBFN_SLACK_SIGNING_SECRET") {
		t.Errorf("the log does not say which variable Slack lacks:\n%s", logs.String())
	}
	if out, _ := h.Invoke(context.Background(), []byte(`{"Records":[]}`)); !strings.Contains(string(out), `"statusCode":400`) {
		t.Errorf("an event that is not HTTP: %s", out)
	}

	t.Setenv("LBFN_CHATOPS_ENQUEUE_BUDGET", "1h")
	broken := New(slog.New(slog.NewJSONHandler(&logs, nil)))
	b, _ := json.Marshal(event{RawPath: "/chatops/slack", RequestContext: events.APIGatewayV2HTTPRequestContext{
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}}})
	if out, _ := broken.Invoke(context.Background(), b); !strings.Contains(string(out), `"statusCode":500`) {
		t.Errorf("a broken setting: %s", out)
	}
	if !strings.Contains(logs.String(), "LBFN_CHATOPS_ENQUEUE_BUDGET") {
		t.Error("the log does not name the broken setting")
	}
}
