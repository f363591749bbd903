package redact_test

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/auth/eopsign"
	"github.com/lbfn/lbfn/shared/auth/hwsign"
	"github.com/lbfn/lbfn/shared/auth/jdsign"
	"github.com/lbfn/lbfn/shared/awsjson"
	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/ctyun"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/huaweicloud"
	"github.com/lbfn/lbfn/shared/idempotency"
	"github.com/lbfn/lbfn/shared/jdcloud"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/sqsapi"
	"github.com/lbfn/lbfn/shared/trigger"
)

// secretName is a field name that says it holds a credential.
var secretName = regexp.MustCompile(`(?i)(secret|token|password|passwd|credential|privatekey|signingkey|encryptkey|aeskey|apikey)`)

// notSecret are fields named like a secret that hold none, each with its reason.
var notSecret = map[string]string{
	"ClientToken":  "CTyun's idempotency token: results carry it by contract",
	"SecretKeyVar": "the name of a variable, not its value",
	"Credentials":  "a struct (jdsign.Credentials) whose secret field is a redact.Secret",
}

// TestSecretFieldsAreSecrets walks every Go source file of the module: a struct field (of a
// named or anonymous struct, exported or not) whose name says it holds a credential must be
// a redact.Secret, so no fmt verb, log or JSON prints it, wherever the struct is nested. A new
// type with a plain string SecretKey, Token or Password fails here.
func TestSecretFieldsAreSecrets(t *testing.T) {
	root := filepath.Join("..", "..")
	checked := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() && path != root {
			// Another module (bench/, which measures against the official SDKs) is not the
			// product: no function binary links it.
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		ast.Inspect(f, func(n ast.Node) bool {
			st, ok := n.(*ast.StructType)
			if !ok {
				return true
			}
			for _, field := range st.Fields.List {
				for _, name := range field.Names {
					if !secretName.MatchString(name.Name) || notSecret[name.Name] != "" {
						continue
					}
					checked++
					if !isSecretType(field.Type) {
						t.Errorf("%s: field %s holds a credential but is not a redact.Secret", rel, name.Name)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Errorf("only %d secret fields found: is the walk reading the module?", checked)
	}
}

func isSecretType(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.SelectorExpr:
		x, ok := e.X.(*ast.Ident)
		return ok && x.Name == "redact" && e.Sel.Name == "Secret"
	case *ast.Ident:
		return e.Name == "Secret" // inside package redact
	case *ast.StarExpr:
		return isSecretType(e.X)
	case *ast.FuncType:
		return true // a func prints as an address
	}
	return false
}

const (
	sk    = "SK-the-secret-value-123"
	tok   = "TOKEN-the-token-value-456"
	whook = "WEBHOOK-secret-value-789"
)

// TestNoVerbPrintsASecret prints every type that holds a secret, alone and nested in another
// struct, with every verb.
func TestNoVerbPrintsASecret(t *testing.T) {
	s, tk, wh := redact.NewSecret(sk), redact.NewSecret(tok), redact.NewSecret(whook)
	env := awsjson.Env{Region: "eu-west-1", AccessKeyID: "AKID", SecretAccessKey: s, SessionToken: tk}
	awsCfg := awsjson.Config{Service: "sqs", TargetPrefix: "AmazonSQS", JSONVersion: "1.0", Env: env}
	awsClient, err := awsjson.New(awsCfg, &httpx.Client{})
	if err != nil {
		t.Fatal(err)
	}
	sqsSettings := sqsapi.Settings{Region: "eu-west-1", AccessKeyID: "AKID", SecretAccessKey: s, SessionToken: tk}
	sqsClient, err := sqsapi.New(sqsSettings, &httpx.Client{})
	if err != nil {
		t.Fatal(err)
	}
	idemSettings := idempotency.Settings{Table: "t", TTL: time.Hour, Region: "eu-west-1", AccessKeyID: "AKID", SecretAccessKey: s, SessionToken: tk}
	store, err := idempotency.New(idemSettings, &httpx.Client{})
	if err != nil {
		t.Fatal(err)
	}
	jdCfg := jdcloud.Config{AccessKey: "AK", SecretKey: s}
	jdClient, err := jdcloud.NewClient(jdCfg)
	if err != nil {
		t.Fatal(err)
	}
	hwCfg := huaweicloud.Config{AccessKey: "AK", SecretKey: s, SecurityToken: tk}
	hwClient, err := huaweicloud.NewClient(hwCfg)
	if err != nil {
		t.Fatal(err)
	}
	ctCfg := ctyun.Config{AccessKey: "AK", SecretKey: s}
	ctClient, err := ctyun.NewClient(ctCfg)
	if err != nil {
		t.Fatal(err)
	}
	values := []any{
		env, awsCfg, awsClient, *awsClient,
		sqsSettings, sqsClient, *sqsClient,
		idemSettings, store, *store,
		trigger.Options{WebhookSecret: wh},
		jdCfg, jdClient, *jdClient, jdsign.Credentials{AccessKey: "AK", SecretKey: s}, jdsign.Signer{Credentials: jdsign.Credentials{SecretKey: s}},
		hwCfg, hwClient, *hwClient, hwsign.Signer{SecretKey: s, SecurityToken: tk}, hwsign.Verifier{SecretKey: s, SecurityToken: tk},
		ctCfg, ctClient, *ctClient, eopsign.Signer{AccessKey: "AK", SecretKey: s},
		emulator.Options{SecretKey: s, SecurityToken: tk},
	}
	type wrapper struct {
		Exported any
		hidden   any
	}
	for _, v := range values {
		for _, x := range []any{v, wrapper{v, v}, &wrapper{v, v}, []any{v}, map[string]any{"v": v}} {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
				out := fmt.Sprintf(verb, x)
				for _, secret := range []string{sk, tok, whook} {
					if strings.Contains(out, secret) || strings.Contains(strings.ToLower(out), fmt.Sprintf("%x", secret)) {
						t.Errorf("%s of %T prints a secret: %.300s", verb, x, out)
					}
				}
			}
			if b, err := json.Marshal(x); err == nil && (strings.Contains(string(b), sk) || strings.Contains(string(b), tok)) {
				t.Errorf("JSON of %T prints a secret: %s", x, b)
			}
		}
	}
}

// echo answers every request as a provider that quotes the request's headers in its error
// message does, in each provider's error shape.
func echo(shape string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		// The credentials first, so no length bound on a message hides them by chance.
		var headers strings.Builder
		for _, k := range []string{"Authorization", "Eop-Authorization", "X-Security-Token", "X-Amz-Security-Token"} {
			if v := r.Header.Get(k); v != "" {
				headers.WriteString(strings.ToLower(k) + ":" + v + "\n")
			}
		}
		for k, vs := range r.Header {
			headers.WriteString(strings.ToLower(k) + ":" + strings.Join(vs, ",") + "\n")
		}
		quoted := "request rejected, headers were:\n" + headers.String()
		var body any
		switch shape {
		case "jdcloud":
			body = map[string]any{"requestId": "r1", "error": map[string]any{"code": 400, "status": "INVALID_ARGUMENT", "message": quoted}}
		case "huaweicloud":
			body = map[string]any{"error_code": "ELB.0001", "error_msg": quoted, "request_id": "r1"}
		case "ctyun":
			body = map[string]any{"statusCode": 900, "errorCode": "Openapi.Parameter.Error", "message": quoted, "description": quoted}
		case "aws":
			// AWS's messages are kept to their first line, bounded: echo what fits.
			body = map[string]any{"__type": "com.amazon.coral#InvalidSignatureException",
				"message": "got Signature=" + signatureOf(r.Header.Get("Authorization")) + " with token " + r.Header.Get("X-Amz-Security-Token")}
		}
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(body)
	}
}

func signatureOf(auth string) string {
	_, sig, _ := strings.Cut(auth, "Signature=")
	return sig
}

// received collects what a provider was sent that is secret: every signature and token.
type received struct{ values []string }

func (rc *received) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, name := range []string{"Authorization", "Eop-Authorization", "X-Security-Token", "X-Amz-Security-Token"} {
			v := r.Header.Get(name)
			if v == "" {
				continue
			}
			if i := strings.Index(v, "Signature="); i >= 0 {
				rc.values = append(rc.values, strings.TrimSpace(v[i+len("Signature="):]))
			} else {
				rc.values = append(rc.values, v)
			}
		}
		h(w, r)
	}
}

func (rc *received) check(t *testing.T, texts ...string) {
	t.Helper()
	if len(rc.values) == 0 {
		t.Fatal("the provider received no signature")
	}
	for _, text := range texts {
		for _, v := range append(rc.values, sk, tok) {
			if strings.Contains(text, v) {
				t.Errorf("text carries a credential %q: %s", v, text)
			}
		}
		if regexp.MustCompile(`(?i)signature=[0-9a-z+/=]{8,}`).MatchString(text) {
			t.Errorf("text carries a signature: %s", text)
		}
	}
}

// TestProviderEchoIsScrubbed: a provider (JD, Huawei, CTyun) or AWS that echoes the request's
// headers in its error message gets no signature or token into error.message or
// providerMessage, and so none into the logs, which print those.
func TestProviderEchoIsScrubbed(t *testing.T) {
	t.Setenv("LBFN_MAX_ATTEMPTS", "1")
	env := map[string]string{"JDCLOUD_ACCESS_KEY": "ak", "JDCLOUD_SECRET_KEY": sk, "HUAWEICLOUD_SDK_AK": "ak",
		"HUAWEICLOUD_SDK_SK": sk, "HUAWEICLOUD_SDK_SECURITY_TOKEN": tok, "CTYUN_AK": "ak", "CTYUN_SK": sk}
	for k, v := range env {
		t.Setenv(k, v)
	}
	servers := map[string]*received{}
	for provider, variable := range map[string]string{"jdcloud": "JDCLOUD_LB_ENDPOINT", "huaweicloud": "HUAWEICLOUD_ELB_ENDPOINT", "ctyun": "CTYUN_ELB_ENDPOINT"} {
		rc := &received{}
		srv := httptest.NewServer(rc.wrap(echo(provider)))
		t.Cleanup(srv.Close)
		t.Setenv(variable, srv.URL)
		servers[provider] = rc
	}
	for _, o := range catalog.Operations {
		t.Run(o.Function(), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "..", "events", o.Function(), "direct.json"))
			if err != nil {
				t.Fatal(err)
			}
			res := op.Run(context.Background(), o, raw, op.Meta{Trigger: "direct"})
			if res.OK {
				t.Fatalf("created against a server that refuses: %+v", res)
			}
			b, _ := json.Marshal(res)
			servers[o.Provider()].check(t, res.Err().Message, res.Err().ProviderMessage, string(b))
		})
	}
	t.Run("aws", func(t *testing.T) {
		rc := &received{}
		srv := httptest.NewServer(rc.wrap(echo("aws")))
		defer srv.Close()
		c, err := awsjson.New(awsjson.Config{Service: "sqs", TargetPrefix: "AmazonSQS", JSONVersion: "1.0", Endpoint: srv.URL,
			Env: awsjson.Env{Region: "eu-west-1", AccessKeyID: "AKID", SecretAccessKey: redact.NewSecret(sk), SessionToken: redact.NewSecret(tok)}},
			&httpx.Client{Policy: httpx.Policy{MaxAttempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Call(context.Background(), "SendMessage", map[string]string{}, nil)
		e := op.AsError(err)
		rc.check(t, e.Message, e.ProviderMessage, err.Error())
	})
}
