// Package config reads settings from the environment with envconfig, under exactly the names
// README.md's Configuration gives, and turns every problem into an *op.Error of kind config that names the
// variable, never a crash.
package config

import (
	"errors"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
)

// Load fills spec (a pointer to a struct whose fields carry `envconfig:"NAME"` tags) from the
// environment. A required string variable that is set but empty counts as not set: an empty
// credential is as missing as an absent one.
func Load(spec any) error {
	err := envconfig.Process("", spec)
	if err == nil {
		if name := emptyRequired(reflect.ValueOf(spec)); name != "" {
			return op.Errorf(op.KindConfig, "%s is not set", name)
		}
		return nil
	}
	var pe *envconfig.ParseError
	if errors.As(err, &pe) {
		return op.Errorf(op.KindConfig, "%s: cannot parse %q as %s", pe.KeyName, pe.Value, pe.TypeName)
	}
	// envconfig says "required key NAME missing value".
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "required key "); ok {
		name, _, _ = strings.Cut(name, " ")
		return op.Errorf(op.KindConfig, "%s is not set", name)
	}
	return op.Errorf(op.KindConfig, "%s", msg)
}

// emptyRequired returns the variable of the first required string field of spec (or of a
// struct it embeds) left empty, or "".
func emptyRequired(v reflect.Value) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() { // envconfig cannot set it either
			continue
		}
		if f.Anonymous && f.Tag.Get("envconfig") == "" {
			if name := emptyRequired(v.Field(i)); name != "" {
				return name
			}
			continue
		}
		if f.Type.Kind() != reflect.String || f.Tag.Get("ignored") == "true" {
			continue
		}
		if req, _ := strconv.ParseBool(f.Tag.Get("required")); req && v.Field(i).String() == "" {
			name := f.Tag.Get("envconfig")
			if name == "" {
				name = f.Name
			}
			return strings.ToUpper(name)
		}
	}
	return ""
}

// Endpoint checks a provider base URL read from variable: absolute, https, or plain http only
// for a loopback host (a local emulator), so credentials never cross a network in clear text.
// The returned URL has no trailing slash.
//
// Messages never repeat a password written into the URL.
func Endpoint(variable, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
	if err != nil || u.Host == "" {
		return nil, op.Errorf(op.KindConfig, "%s: %q is not an absolute URL", variable, redact(raw, u))
	}
	if u.User != nil {
		return nil, op.Errorf(op.KindConfig, "%s: must not carry user information, got %q", variable, u.Redacted())
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && op.IsLoopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, op.Errorf(op.KindConfig, "%s: plain http:// is allowed only for loopback hosts, got %q", variable, raw)
	default:
		return nil, op.Errorf(op.KindConfig, "%s: scheme must be https, got %q", variable, raw)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, op.Errorf(op.KindConfig, "%s: must not carry a query or fragment", variable)
	}
	return u, nil
}

// redact hides what could be a password in a URL that may not have parsed.
func redact(raw string, u *url.URL) string {
	if u != nil {
		return u.Redacted()
	}
	if strings.Contains(raw, "@") {
		return "(a URL with user information)"
	}
	return raw
}

// Transport holds the LBFN_ settings of the HTTP transport shared by every provider.
type Transport struct {
	Timeout         time.Duration `envconfig:"LBFN_HTTP_TIMEOUT" default:"10s"`
	MaxAttempts     int           `envconfig:"LBFN_MAX_ATTEMPTS" default:"4"`
	InitialInterval time.Duration `envconfig:"LBFN_RETRY_INITIAL_INTERVAL" default:"200ms"`
	MaxInterval     time.Duration `envconfig:"LBFN_RETRY_MAX_INTERVAL" default:"5s"`
	MaxRetryAfter   time.Duration `envconfig:"LBFN_MAX_RETRY_AFTER" default:"30s"`
	UserAgent       string        `envconfig:"LBFN_USER_AGENT" default:"lbfn/1.0"`
}

// LoadTransport reads the transport settings.
func LoadTransport() (Transport, error) {
	var t Transport
	if err := Load(&t); err != nil {
		return t, err
	}
	if t.MaxAttempts < 1 {
		return t, op.Errorf(op.KindConfig, "LBFN_MAX_ATTEMPTS must be at least 1, got %d", t.MaxAttempts)
	}
	return t, nil
}

// Client builds the HTTP client the settings describe. ambiguous says whether a request that
// was written but never answered may be retried (see httpx.Policy.RetryAmbiguous).
func (t Transport) Client(ambiguous bool) *httpx.Client {
	return &httpx.Client{
		HTTP:      httpx.NewHTTPClient(t.Timeout),
		UserAgent: t.UserAgent,
		Policy: httpx.Policy{
			MaxAttempts:     t.MaxAttempts,
			InitialInterval: t.InitialInterval,
			MaxInterval:     t.MaxInterval,
			MaxRetryAfter:   t.MaxRetryAfter,
			RetryAmbiguous:  ambiguous,
		},
	}
}
