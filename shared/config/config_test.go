package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/op"
)

type Creds struct {
	AccessKey string        `envconfig:"LBFNTEST_ACCESS_KEY" required:"true"`
	SecretKey string        `envconfig:"LBFNTEST_SECRET_KEY" required:"true"`
	Endpoint  string        `envconfig:"LBFNTEST_ENDPOINT" default:"https://lb.example.com"`
	Timeout   time.Duration `envconfig:"LBFNTEST_TIMEOUT" default:"1s"`
	Workers   int           `envconfig:"LBFNTEST_WORKERS"`
}

type embedding struct {
	Creds
	Token string `envconfig:"LBFNTEST_TOKEN"`
}

// unset removes a variable for the test, restoring it after.
func unset(t *testing.T, name string) {
	t.Setenv(name, "")
	os.Unsetenv(name)
}

func configError(t *testing.T, err error) *op.Error {
	t.Helper()
	var e *op.Error
	if !errors.As(err, &e) || e.Kind != op.KindConfig || e.Retryable {
		t.Fatalf("error %v is not a config *op.Error", err)
	}
	return e
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string // "" value: unset
		wantErr string            // substring; "" when it loads
	}{
		{"all set", map[string]string{"LBFNTEST_ACCESS_KEY": "ak", "LBFNTEST_SECRET_KEY": "sk"}, ""},
		{"missing access key", map[string]string{"LBFNTEST_SECRET_KEY": "sk"}, "LBFNTEST_ACCESS_KEY is not set"},
		{"missing secret key", map[string]string{"LBFNTEST_ACCESS_KEY": "ak"}, "LBFNTEST_SECRET_KEY is not set"},
		{"empty secret key", map[string]string{"LBFNTEST_ACCESS_KEY": "ak", "LBFNTEST_SECRET_KEY": "\x00"}, "LBFNTEST_SECRET_KEY is not set"},
		{"bad duration", map[string]string{"LBFNTEST_ACCESS_KEY": "ak", "LBFNTEST_SECRET_KEY": "sk", "LBFNTEST_TIMEOUT": "soon"},
			`LBFNTEST_TIMEOUT: cannot parse "soon" as time.Duration`},
		{"bad int", map[string]string{"LBFNTEST_ACCESS_KEY": "ak", "LBFNTEST_SECRET_KEY": "sk", "LBFNTEST_WORKERS": "many"},
			`LBFNTEST_WORKERS: cannot parse "many" as int`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{"LBFNTEST_ACCESS_KEY", "LBFNTEST_SECRET_KEY", "LBFNTEST_ENDPOINT", "LBFNTEST_TIMEOUT", "LBFNTEST_WORKERS", "LBFNTEST_TOKEN"} {
				unset(t, name)
			}
			for k, v := range tt.env {
				if v == "\x00" {
					v = ""
				}
				t.Setenv(k, v)
			}
			for _, spec := range []any{&Creds{}, &embedding{}} {
				err := Load(spec)
				if tt.wantErr == "" {
					if err != nil {
						t.Fatalf("Load(%T): %v", spec, err)
					}
					continue
				}
				e := configError(t, err)
				if !strings.Contains(e.Message, tt.wantErr) {
					t.Errorf("Load(%T) = %q, want it to say %q", spec, e.Message, tt.wantErr)
				}
				if strings.Contains(e.Message, "sk") && !strings.Contains(e.Message, "is not set") {
					t.Errorf("message %q may carry the secret", e.Message)
				}
			}
		})
	}
	t.Setenv("LBFNTEST_ACCESS_KEY", "ak")
	t.Setenv("LBFNTEST_SECRET_KEY", "sk")
	unset(t, "LBFNTEST_ENDPOINT")
	t.Setenv("LBFNTEST_TIMEOUT", "250ms")
	var c Creds
	if err := Load(&c); err != nil {
		t.Fatal(err)
	}
	if c.AccessKey != "ak" || c.SecretKey != "sk" || c.Endpoint != "https://lb.example.com" || c.Timeout != 250*time.Millisecond {
		t.Errorf("loaded %+v", c)
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct {
		raw     string
		want    string // "" when rejected
		wantErr string
	}{
		{"https://lb.jdcloud-api.com", "https://lb.jdcloud-api.com", ""},
		{"https://lb.jdcloud-api.com/", "https://lb.jdcloud-api.com", ""},
		{"https://elb.cn-north-4.myhuaweicloud.com:443//", "https://elb.cn-north-4.myhuaweicloud.com:443", ""},
		{"https://gw.example.com/base/", "https://gw.example.com/base", ""},
		{" https://lb.example.com\n", "https://lb.example.com", ""},
		{"http://127.0.0.1:8090", "http://127.0.0.1:8090", ""},
		{"http://127.0.0.1:8090/", "http://127.0.0.1:8090", ""},
		{"http://[::1]:8090", "http://[::1]:8090", ""},
		{"http://localhost:8090", "http://localhost:8090", ""},
		{"http://lb.jdcloud-api.com", "", "plain http:// is allowed only for loopback hosts"},
		{"http://10.0.0.1:8090", "", "plain http:// is allowed only for loopback hosts"},
		{"http://localhost.evil.com", "", "plain http:// is allowed only for loopback hosts"},
		{"ftp://lb.example.com", "", "scheme must be https"},
		{"lb.example.com", "", "is not an absolute URL"},
		{"", "", "is not an absolute URL"},
		{"https://", "", "is not an absolute URL"},
		{"https://lb.example.com/?x=1", "", "must not carry a query or fragment"},
		{"https://lb.example.com?", "", "must not carry a query or fragment"},
		{"https://lb.example.com/#frag", "", "must not carry a query or fragment"},
		{"https://user:hunter2@lb.example.com", "", "must not carry user information"},
		{"https://user:hunter2@lb example.com", "", "is not an absolute URL"},
	}
	for _, tt := range tests {
		u, err := Endpoint("JDCLOUD_LB_ENDPOINT", tt.raw)
		if tt.want != "" {
			if err != nil || u.String() != tt.want {
				t.Errorf("Endpoint(%q) = %v, %v; want %s", tt.raw, u, err, tt.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("Endpoint(%q) = %v, want an error", tt.raw, u)
			continue
		}
		e := configError(t, err)
		if !strings.HasPrefix(e.Message, "JDCLOUD_LB_ENDPOINT: ") || !strings.Contains(e.Message, tt.wantErr) {
			t.Errorf("Endpoint(%q) = %q, want the variable and %q", tt.raw, e.Message, tt.wantErr)
		}
		if strings.Contains(e.Message, "hunter2") {
			t.Errorf("Endpoint(%q) message %q repeats the password", tt.raw, e.Message)
		}
	}
}

var transportVars = []string{"LBFN_HTTP_TIMEOUT", "LBFN_MAX_ATTEMPTS", "LBFN_RETRY_INITIAL_INTERVAL",
	"LBFN_RETRY_MAX_INTERVAL", "LBFN_MAX_RETRY_AFTER", "LBFN_USER_AGENT"}

func TestLoadTransportDefaults(t *testing.T) {
	for _, name := range transportVars {
		unset(t, name)
	}
	tr, err := LoadTransport()
	if err != nil {
		t.Fatal(err)
	}
	want := Transport{Timeout: 10 * time.Second, MaxAttempts: 4, InitialInterval: 200 * time.Millisecond,
		MaxInterval: 5 * time.Second, MaxRetryAfter: 30 * time.Second, UserAgent: "lbfn/1.0"}
	if tr != want {
		t.Errorf("defaults %+v, want %+v", tr, want)
	}
	c := tr.Client(true)
	if c.HTTP.Timeout != 10*time.Second || c.UserAgent != "lbfn/1.0" || !c.Policy.RetryAmbiguous ||
		c.Policy.MaxAttempts != 4 || c.Policy.InitialInterval != 200*time.Millisecond || c.Policy.MaxInterval != 5*time.Second ||
		c.Policy.MaxRetryAfter != 30*time.Second {
		t.Errorf("Client(true) = %+v %+v", c, c.Policy)
	}
	if tr.Client(false).Policy.RetryAmbiguous {
		t.Error("Client(false) retries ambiguous failures")
	}
}

func TestLoadTransportOverrides(t *testing.T) {
	env := map[string]string{"LBFN_HTTP_TIMEOUT": "3s", "LBFN_MAX_ATTEMPTS": "7", "LBFN_RETRY_INITIAL_INTERVAL": "10ms",
		"LBFN_RETRY_MAX_INTERVAL": "1s", "LBFN_MAX_RETRY_AFTER": "2m", "LBFN_USER_AGENT": "me/2"}
	for k, v := range env {
		t.Setenv(k, v)
	}
	tr, err := LoadTransport()
	if err != nil {
		t.Fatal(err)
	}
	want := Transport{Timeout: 3 * time.Second, MaxAttempts: 7, InitialInterval: 10 * time.Millisecond,
		MaxInterval: time.Second, MaxRetryAfter: 2 * time.Minute, UserAgent: "me/2"}
	if tr != want {
		t.Errorf("overrides %+v, want %+v", tr, want)
	}
}

func TestLoadTransportErrors(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"LBFN_MAX_ATTEMPTS", "0", "LBFN_MAX_ATTEMPTS must be at least 1, got 0"},
		{"LBFN_MAX_ATTEMPTS", "-2", "LBFN_MAX_ATTEMPTS must be at least 1, got -2"},
		{"LBFN_MAX_ATTEMPTS", "four", `LBFN_MAX_ATTEMPTS: cannot parse "four" as int`},
		{"LBFN_HTTP_TIMEOUT", "10", `LBFN_HTTP_TIMEOUT: cannot parse "10" as time.Duration`},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			for _, name := range transportVars {
				unset(t, name)
			}
			t.Setenv(tt.name, tt.value)
			_, err := LoadTransport()
			if e := configError(t, err); e.Message != tt.want {
				t.Errorf("message %q, want %q", e.Message, tt.want)
			}
		})
	}
}
