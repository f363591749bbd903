package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lbfn/lbfn/shared/op"
)

const (
	testAKID   = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testToken  = "session-token"
	arnA       = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:lbfn-creds-AbCdEf"
	arnB       = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:lbfn-webhook-GhIjKl"
)

// fakeSecretsManager answers GetSecretValue like Secrets Manager, after checking the SigV4
// signature with the test credentials.
type fakeSecretsManager struct {
	t       *testing.T
	secrets map[string]string // id -> SecretString
	status  map[string]int    // id -> forced error status
	calls   atomic.Int32
}

func (f *fakeSecretsManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" ||
		r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		http.Error(w, `{"__type":"InvalidRequestException","message":"bad call"}`, http.StatusBadRequest)
		return
	}
	if !f.signatureValid(r, body) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"__type":"com.amazon.coral.service#InvalidSignatureException","message":"signature mismatch"}`)
		return
	}
	var in struct{ SecretId string }
	_ = json.Unmarshal(body, &in)
	if st := f.status[in.SecretId]; st != 0 {
		w.WriteHeader(st)
		_, _ = io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
		return
	}
	s, ok := f.secrets[in.SecretId]
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ARN": in.SecretId, "Name": "x", "SecretString": s, "VersionId": "v1"})
}

// signatureValid re-signs the received request with the expected credentials, at the time it
// claims, and compares the Authorization headers.
func (f *fakeSecretsManager) signatureValid(r *http.Request, body []byte) bool {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+testAKID+"/") ||
		!strings.Contains(auth, "/eu-west-1/secretsmanager/aws4_request") ||
		r.Header.Get("X-Amz-Security-Token") != testToken {
		return false
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return false
	}
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), strings.NewReader(string(body)))
	for _, h := range []string{"Content-Type", "X-Amz-Target"} {
		again.Header.Set(h, r.Header.Get(h))
	}
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: testToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, sha256Hex(body), "secretsmanager", "eu-west-1", at); err != nil {
		return false
	}
	return again.Header.Get("Authorization") == auth
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func setup(t *testing.T, f *fakeSecretsManager) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", testAKID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_SESSION_TOKEN", testToken)
	t.Setenv("AWS_REGION", "eu-west-1")
	for _, v := range Variables {
		t.Setenv(v, "") // registers the restore at cleanup
		os.Unsetenv(v)
	}
}

func TestApply(t *testing.T) {
	const credsJSON = `{"CTYUN_AK":"ak-1","CTYUN_SK":"sk-1","JDCLOUD_SECRET_KEY":"jd-sk","CTYUN_ELB_ENDPOINT":"https://evil.example","Other":"x"}`
	tests := []struct {
		name      string
		arns      string
		preset    map[string]string
		secrets   map[string]string
		status    map[string]int
		unsetAWS  bool
		want      map[string]string // variables after Apply ("" = unset)
		wantErr   string            // fragment of the config error
		wantCalls int32
	}{
		{name: "unset: nothing to read", arns: "", want: map[string]string{"CTYUN_AK": ""}, wantCalls: 0},
		{name: "known variables set, others ignored", arns: arnA, secrets: map[string]string{arnA: credsJSON},
			want:      map[string]string{"CTYUN_AK": "ak-1", "CTYUN_SK": "sk-1", "JDCLOUD_SECRET_KEY": "jd-sk", "CTYUN_ELB_ENDPOINT": ""},
			wantCalls: 1},
		{name: "environment wins", arns: arnA, secrets: map[string]string{arnA: credsJSON},
			preset:    map[string]string{"CTYUN_AK": "from-env"},
			want:      map[string]string{"CTYUN_AK": "from-env", "CTYUN_SK": "sk-1"},
			wantCalls: 1},
		{name: "several secrets, first wins", arns: arnA + " , " + arnB,
			secrets:   map[string]string{arnA: credsJSON, arnB: `{"LBFN_WEBHOOK_SECRET":"hook","CTYUN_AK":"ak-2"}`},
			want:      map[string]string{"CTYUN_AK": "ak-1", "LBFN_WEBHOOK_SECRET": "hook"},
			wantCalls: 2},
		{name: "secret not found", arns: arnA, secrets: map[string]string{}, wantErr: "ResourceNotFoundException", wantCalls: 1},
		{name: "access denied", arns: arnA, status: map[string]int{arnA: 400}, wantErr: "HTTP 400", wantCalls: 1},
		{name: "not a JSON object", arns: arnA, secrets: map[string]string{arnA: "sk-plain-value"},
			wantErr: "not a JSON object", wantCalls: 1},
		{name: "value not a string", arns: arnA, secrets: map[string]string{arnA: `{"CTYUN_SK":98765}`},
			wantErr: "CTYUN_SK must be a string", wantCalls: 1},
		{name: "no AWS credentials", arns: arnA, unsetAWS: true, wantErr: "AWS_ACCESS_KEY_ID", wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSecretsManager{t: t, secrets: tt.secrets, status: tt.status}
			setup(t, f)
			t.Setenv(ARNVariable, tt.arns)
			for k, v := range tt.preset {
				t.Setenv(k, v)
			}
			if tt.unsetAWS {
				os.Unsetenv("AWS_ACCESS_KEY_ID")
			}
			err := apply(context.Background(), http.DefaultClient)
			if got := f.calls.Load(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if tt.wantErr != "" {
				var e *op.Error
				if !errors.As(err, &e) || e.Kind != op.KindConfig {
					t.Fatalf("err = %v, want an *op.Error of kind config", err)
				}
				if !strings.Contains(e.Error(), tt.wantErr) {
					t.Errorf("err = %q, want it to contain %q", e, tt.wantErr)
				}
				for _, secret := range []string{"sk-plain-value", "98765", testSecret} {
					if strings.Contains(e.Error(), secret) {
						t.Errorf("err %q leaks a secret value", e)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.want {
				if got := os.Getenv(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestApplyCachesSuccessOnly(t *testing.T) {
	f := &fakeSecretsManager{t: t, secrets: map[string]string{}}
	setup(t, f)
	t.Setenv(ARNVariable, arnA)
	mu.Lock()
	applied = false
	mu.Unlock()
	t.Cleanup(func() { mu.Lock(); applied = false; mu.Unlock() })

	if err := Apply(context.Background()); err == nil {
		t.Fatal("want an error while the secret is missing")
	}
	f.secrets = map[string]string{arnA: `{"CTYUN_AK":"ak-1"}`}
	for range 3 {
		if err := Apply(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.calls.Load(); got != 2 {
		t.Errorf("calls = %d, want 2 (one failure, then one success cached)", got)
	}
	if os.Getenv("CTYUN_AK") != "ak-1" {
		t.Errorf("CTYUN_AK not set")
	}
}

func TestRegionOf(t *testing.T) {
	t.Setenv("AWS_REGION", "ap-southeast-1")
	for id, want := range map[string]string{
		arnA: "eu-west-1",
		"arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x": "cn-north-1",
		"lbfn-creds": "ap-southeast-1",
	} {
		if got := regionOf(id); got != want {
			t.Errorf("regionOf(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestEndpointRejectsPlainHTTP(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://secrets.example.com")
	if _, err := endpointFor("eu-west-1"); err == nil {
		t.Error("want a config error for plain http to a non-loopback host")
	}
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "")
	if got, _ := endpointFor("cn-north-1"); got != "https://secretsmanager.cn-north-1.amazonaws.com.cn" {
		t.Errorf("China endpoint = %q", got)
	}
}
