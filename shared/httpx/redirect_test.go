package httpx_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/awsjson"
	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/idempotency"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/reply"
	"github.com/lbfn/lbfn/shared/secrets"
	"github.com/lbfn/lbfn/shared/sqsapi"
)

// redirector answers every request with a 307 to target, which counts what reaches it.
type redirector struct {
	srv, target *httptest.Server
	asked       atomic.Int32
	followed    atomic.Int32
}

func newRedirector(t *testing.T) *redirector {
	r := &redirector{}
	r.target = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.followed.Add(1)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{}`))
	}))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.asked.Add(1)
		http.Redirect(w, req, r.target.URL+req.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(func() { r.srv.Close(); r.target.Close() })
	return r
}

func (r *redirector) check(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Error("a call answered 307 succeeded")
	}
	if r.asked.Load() == 0 {
		t.Errorf("the call never reached the server: %v", err)
	}
	if n := r.followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

func resultErr(res *op.Result) error {
	if res.OK {
		return nil
	}
	return res.Err()
}

// TestNoClientFollowsARedirect walks every outbound client lbfn builds, as its constructor
// (or FromEnv) builds it, against a server that redirects: a 3xx is the failed answer of the
// call, and nothing reaches the redirect's target (which would receive the signature, the
// security token and the body).
func TestNoClientFollowsARedirect(t *testing.T) {
	aws := awsjson.Env{Region: "eu-west-1", AccessKeyID: "AKIDTEST", SecretAccessKey: redact.NewSecret("secret"), SessionToken: redact.NewSecret("token")}
	t.Setenv("LBFN_MAX_ATTEMPTS", "1")
	transport, err := config.LoadTransport()
	if err != nil {
		t.Fatal(err)
	}
	following := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}

	cases := map[string]func(t *testing.T, url string) error{
		"httpx zero value": func(t *testing.T, url string) error {
			return status(new(httpx.Client).Do(context.Background(), httpx.Request{Method: "GET", URL: url}, nil, nil))
		},
		"httpx given a client that follows": func(t *testing.T, url string) error {
			return status((&httpx.Client{HTTP: following}).Do(context.Background(), httpx.Request{Method: "GET", URL: url}, nil, nil))
		},
		"config transport": func(t *testing.T, url string) error {
			return status(transport.Client(true).Do(context.Background(), httpx.Request{Method: "GET", URL: url}, nil, nil))
		},
		"awsjson": func(t *testing.T, url string) error {
			c, err := awsjson.New(awsjson.Config{Service: "dynamodb", TargetPrefix: "DynamoDB_20120810", JSONVersion: "1.0",
				Endpoint: url, Env: aws}, transport.Client(true))
			if err != nil {
				t.Fatal(err)
			}
			return c.Call(context.Background(), "GetItem", map[string]string{}, nil)
		},
		"sqsapi": func(t *testing.T, url string) error {
			c, err := sqsapi.New(sqsapi.Settings{Endpoint: url, Region: aws.Region, AccessKeyID: aws.AccessKeyID,
				SecretAccessKey: aws.SecretAccessKey}, transport.Client(true))
			if err != nil {
				t.Fatal(err)
			}
			return c.SendMessage(context.Background(), url+"/1/q", "body", nil)
		},
		"idempotency": func(t *testing.T, url string) error {
			s, err := idempotency.New(idempotency.Settings{Table: "t", TTL: time.Hour, Endpoint: url, Region: aws.Region,
				AccessKeyID: aws.AccessKeyID, SecretAccessKey: aws.SecretAccessKey}, transport.Client(true))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Claim(context.Background(), "k", "h", time.Now().Add(time.Minute))
			return err
		},
		"secrets": func(t *testing.T, url string) error {
			t.Setenv(secrets.ARNVariable, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x")
			t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", url)
			t.Setenv("AWS_ACCESS_KEY_ID", aws.AccessKeyID)
			t.Setenv("AWS_SECRET_ACCESS_KEY", aws.SecretAccessKey.Reveal())
			return secrets.Apply(context.Background())
		},
		"reply": func(t *testing.T, url string) error {
			return reply.Poster{}.Post(context.Background(), url+"/reply", &op.Result{OK: true})
		},
	}
	providerEnv := map[string]string{
		"JDCLOUD_ACCESS_KEY": "ak", "JDCLOUD_SECRET_KEY": "sk",
		"HUAWEICLOUD_SDK_AK": "ak", "HUAWEICLOUD_SDK_SK": "sk", "HUAWEICLOUD_SDK_SECURITY_TOKEN": "tok",
		"CTYUN_AK": "ak", "CTYUN_SK": "sk",
	}
	for _, o := range catalog.Operations {
		cases["provider "+o.Function()] = func(t *testing.T, url string) error {
			raw, err := os.ReadFile(filepath.Join("..", "..", "events", o.Function(), "direct.json"))
			if err != nil {
				t.Fatal(err)
			}
			return resultErr(op.Run(context.Background(), o, raw, op.Meta{Trigger: "direct"}))
		}
	}
	// Every provider reads its endpoint once, at its first call: point them all here first.
	r := newRedirector(t)
	for k, v := range providerEnv {
		t.Setenv(k, v)
	}
	for _, name := range []string{"JDCLOUD_LB_ENDPOINT", "HUAWEICLOUD_ELB_ENDPOINT", "CTYUN_ELB_ENDPOINT"} {
		t.Setenv(name, r.srv.URL)
	}
	for name, call := range cases {
		t.Run(name, func(t *testing.T) {
			if strings.HasPrefix(name, "provider ") {
				r.asked.Store(0)
				r.check(t, call(t, r.srv.URL))
				return
			}
			r := newRedirector(t)
			r.check(t, call(t, r.srv.URL))
		})
	}
}

// status turns a 3xx answer into the error its caller reports.
func status(resp *httpx.Response, err error) error {
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &op.Error{Kind: op.KindProvider, Message: "HTTP " + strconv.Itoa(resp.StatusCode)}
	}
	return nil
}

// TestHTTPClientsAreBuiltInOnePlace keeps the rule structural: outside shared/httpx no code
// builds an *http.Client, uses http.DefaultClient or its helpers, or sets CheckRedirect, and
// outside shared/egress none builds a transport; a new client cannot forget the rule.
func TestHTTPClientsAreBuiltInOnePlace(t *testing.T) {
	root := filepath.Join("..", "..")
	allowed := map[string]map[string]bool{
		"http.Client":   {filepath.Join("shared", "httpx", "httpx.go"): true},
		"CheckRedirect": {filepath.Join("shared", "httpx", "httpx.go"): true},
		"Transport":     {filepath.Join("shared", "egress", "egress.go"): true},
	}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") && path != root {
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
		rel, _ := filepath.Rel(root, path)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		httpName := ""
		for _, imp := range f.Imports {
			if imp.Path.Value == `"net/http"` {
				httpName = "http"
				if imp.Name != nil {
					httpName = imp.Name.Name
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			report := func(what string) {
				if !allowed[what][rel] {
					t.Errorf("%s: %s outside its one place (use httpx.NewHTTPClient, egress.Transport)", rel, what)
				}
			}
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && httpName != "" && x.Name == httpName {
					switch n.Sel.Name {
					case "DefaultClient", "DefaultTransport", "Get", "Post", "Head", "PostForm":
						report("http." + n.Sel.Name)
					}
				}
				if n.Sel.Name == "CheckRedirect" {
					report("CheckRedirect")
				}
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && httpName != "" && x.Name == httpName {
						switch sel.Sel.Name {
						case "Client":
							report("http.Client")
						case "Transport":
							report("Transport")
						}
					}
				}
				for _, el := range n.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "CheckRedirect" {
							report("CheckRedirect")
						}
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
}
