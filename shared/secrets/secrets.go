// Package secrets puts the functions' credentials into the process environment from AWS
// Secrets Manager, once per process, before any operation reads them.
//
// A deployment never writes a credential into its template: it passes the secret's ARN in
// LBFN_SECRET_ARN, and Apply reads it at start. The secret is a JSON object of README.md's
// variable names ({"CTYUN_AK": "...", "CTYUN_SK": "..."}); only those names are set, and only
// when the environment does not already set them, so a value given directly (a local run, a
// test) always wins.
//
// How it is read: one signed GetSecretValue call, made with the credentials Lambda hands the
// process (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) through shared/awsjson
// (aws-sdk-go-v2's SigV4 signer), not the full SDK client. The alternative, the "AWS Parameters and Secrets"
// Lambda extension, needs a layer whose ARN differs by region and account, runs a second
// process in every sandbox, and still makes the same call; the signer alone adds a few hundred
// kilobytes to the binary and nothing to deploy. The value is read once, at start, so the
// extension's cache would buy nothing.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/lbfn/lbfn/shared/awsjson"
	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// ARNVariable names the secrets to read: one ARN (or name), or several separated by commas,
// read in order (the first that sets a variable wins).
const ARNVariable = "LBFN_SECRET_ARN"

// Variables are the names a secret may set: the credentials of README.md's Configuration, the webhook secret,
// and chatops's chat secrets with the identities and allow-list kept beside them. Any other
// key in a secret is ignored, so a secret cannot redirect an endpoint (the Feishu API base
// and LBFN_CHATOPS_URL included) or change a tuning setting.
var Variables = []string{
	"JDCLOUD_ACCESS_KEY", "JDCLOUD_SECRET_KEY",
	"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_SDK_PROJECT_ID",
	"CTYUN_AK", "CTYUN_SK",
	"LBFN_WEBHOOK_SECRET",
	"LBFN_SLACK_SIGNING_SECRET",
	"LBFN_FEISHU_VERIFICATION_TOKEN", "LBFN_FEISHU_ENCRYPT_KEY", "LBFN_FEISHU_APP_ID", "LBFN_FEISHU_APP_SECRET",
	"LBFN_DINGTALK_APP_SECRET", "LBFN_DINGTALK_CORP_IDS",
	"LBFN_WECOM_TOKEN", "LBFN_WECOM_ENCODING_AES_KEY",
	"LBFN_CHATOPS_ALLOW",
}

var (
	mu      sync.Mutex
	applied bool
)

// Apply reads the secrets LBFN_SECRET_ARN names (nothing when it is unset) and sets their
// known variables that the environment lacks. It succeeds once per process and is then a
// no-op; after a failure the next call tries again, so a passing network error does not stick
// to a warm sandbox. Its errors are *op.Error and never carry a secret value: kind config for
// what the deployment must fix (a missing setting, a secret that does not exist or may not be
// read, a malformed value), unavailable or throttled, retryable, when Secrets Manager did not
// answer, failed (5xx) or asked to slow down. Every wait ends with ctx.
func Apply(ctx context.Context) error {
	mu.Lock()
	defer mu.Unlock()
	if applied {
		return nil
	}
	if err := apply(ctx, httpx.NewHTTPClient(0)); err != nil {
		return err
	}
	applied = true
	return nil
}

func apply(ctx context.Context, client *http.Client) error {
	list := strings.TrimSpace(os.Getenv(ARNVariable))
	if list == "" {
		return nil
	}
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		values, err := getSecret(ctx, client, id)
		if err != nil {
			return err
		}
		for _, name := range Variables {
			v, ok := values[name]
			if !ok {
				continue
			}
			if _, set := os.LookupEnv(name); set {
				continue
			}
			if err := os.Setenv(name, v); err != nil {
				return op.Errorf(op.KindConfig, "%s: cannot set %s from secret %s", ARNVariable, name, id)
			}
		}
	}
	return nil
}

// getSecret calls Secrets Manager's GetSecretValue for id and decodes its SecretString. It
// makes one attempt: Apply runs again at the next invocation after a failure.
func getSecret(ctx context.Context, client *http.Client, id string) (map[string]string, error) {
	env, err := awsjson.LoadEnv()
	if err != nil {
		return nil, err
	}
	if r := regionOf(id); r != "" {
		env.Region = r
	}
	if env.Region == "" {
		return nil, op.Errorf(op.KindConfig, "%s: %s is not an ARN with a region, and AWS_REGION is not set", ARNVariable, id)
	}
	if !env.HasCredentials() {
		return nil, op.Errorf(op.KindConfig, "%s is set but AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not: cannot read the secret", ARNVariable)
	}
	endpoint, err := endpointFor(env.Region)
	if err != nil {
		return nil, err
	}
	// One attempt, bounded by the context: the init phase's budget, or an invocation's less
	// the time it keeps to answer (see op.Invocation), so an invocation that finds Secrets
	// Manager hanging still answers in time (a retryable failure).
	api, err := awsjson.New(awsjson.Config{
		Service: "secretsmanager", TargetPrefix: "secretsmanager", JSONVersion: "1.1",
		Endpoint: endpoint, Env: env, Purpose: "needed to read " + ARNVariable,
	}, &httpx.Client{HTTP: client, Policy: httpx.Policy{MaxAttempts: 1}})
	if err != nil {
		return nil, err
	}

	var out struct {
		SecretString *redact.Secret `json:"SecretString"`
	}
	err = api.Call(ctx, "GetSecretValue", map[string]string{"SecretId": id}, &out)
	if refusal := awsjson.AsError(err); refusal != nil {
		// Secrets Manager's error body ({"__type": ..., "message": ...}) names the problem,
		// never the value. An outage (5xx) or throttling passes: it is retryable, so a queued
		// request waits for it rather than going to the failure queue. A refusal (no such
		// secret, access denied) is the deployment's to fix.
		kind := op.KindConfig
		switch {
		case refusal.Throttled():
			kind = op.KindThrottled
		case refusal.StatusCode >= 500:
			kind = op.KindUnavailable
		}
		return nil, &op.Error{Kind: kind, Retryable: kind.Retryable(), HTTPStatus: refusal.StatusCode, ProviderCode: refusal.Code, Err: refusal,
			Message: fmt.Sprintf("%s: Secrets Manager refused %s: HTTP %d %s %s", ARNVariable, id, refusal.StatusCode, refusal.Code, refusal.Message)}
	}
	if err != nil && !errors.Is(err, awsjson.ErrUnreadable) {
		// No answer (a connection failure, or none before the deadline): Secrets Manager is
		// unavailable, which passes.
		cause := op.AsError(err)
		return nil, &op.Error{Kind: op.KindUnavailable, Retryable: true, Attempts: cause.Attempts, Err: err,
			Message: fmt.Sprintf("%s: no answer from Secrets Manager for %s: %s", ARNVariable, id, cause.Message)}
	}
	if err != nil || out.SecretString == nil {
		return nil, op.Errorf(op.KindConfig, "%s: secret %s has no SecretString (a binary secret is not supported)", ARNVariable, id)
	}
	// Decode into raw values first, so a wrong type can be reported by key without echoing
	// the value (json's type errors would quote it).
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out.SecretString.Reveal()), &fields); err != nil {
		return nil, op.Errorf(op.KindConfig, "%s: secret %s is not a JSON object of variable names", ARNVariable, id)
	}
	values := make(map[string]string, len(fields))
	for _, name := range Variables {
		f, ok := fields[name]
		if !ok {
			continue
		}
		var s string
		if err := json.Unmarshal(f, &s); err != nil {
			return nil, op.Errorf(op.KindConfig, "%s: secret %s: %s must be a string", ARNVariable, id, name)
		}
		values[name] = s
	}
	return values, nil
}

// regionOf returns the region of a secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME),
// or AWS_REGION for a plain name.
func regionOf(id string) string {
	if parts := strings.SplitN(id, ":", 5); len(parts) == 5 && parts[0] == "arn" && parts[3] != "" {
		return parts[3]
	}
	return os.Getenv("AWS_REGION")
}

// endpointFor returns Secrets Manager's base URL: AWS_ENDPOINT_URL_SECRETS_MANAGER (or
// AWS_ENDPOINT_URL), the SDKs' own override variables, else the regional endpoint.
func endpointFor(region string) (string, error) {
	for _, name := range []string{"AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"} {
		if raw := os.Getenv(name); raw != "" {
			u, err := config.Endpoint(name, raw)
			if err != nil {
				return "", err
			}
			return u.String(), nil
		}
	}
	suffix := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		suffix = "amazonaws.com.cn"
	}
	return "https://secretsmanager." + region + "." + suffix, nil
}
