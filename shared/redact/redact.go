// Package redact keeps credentials out of text: Secret holds one so that no fmt verb, log
// handler or JSON encoding prints it, and Text removes every credential, token and signature
// form from text taken from an answer (an error message a provider wrote, which may echo the
// request's headers or its canonical request) before it reaches an error, a result or a log.
package redact

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// Placeholder stands where a secret was.
const Placeholder = "<redacted>"

// Secret holds a credential: a secret key, a session or security token, a webhook secret.
// Every way of printing it prints Placeholder (or "" when it is empty): String, GoString and
// Format for every fmt verb, slog's LogValue, MarshalJSON and MarshalText. The value sits
// behind a pointer, so even where fmt cannot call those methods (an unexported field of a
// struct printed with %+v) it prints an address, never the text. Reveal is the one way out,
// for the code that signs with it.
//
// Compare secrets with Reveal, not ==. The zero value is the empty secret. A Secret is read
// from the environment by envconfig (Decode) and from JSON (UnmarshalJSON).
type Secret struct {
	v *string
}

// NewSecret returns the secret s.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: &s}
}

// Reveal returns the secret itself.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsSet reports whether the secret is not empty.
func (s Secret) IsSet() bool { return s.v != nil && *s.v != "" }

// String is Placeholder, or "" for the empty secret.
func (s Secret) String() string {
	if !s.IsSet() {
		return ""
	}
	return Placeholder
}

// GoString is what %#v prints.
func (s Secret) GoString() string { return `redact.Secret("` + s.String() + `")` }

// Format prints String for every verb (%v %+v %s %q %x %d ...), and GoString for %#v.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = f.Write([]byte(s.GoString()))
	case verb == 'q':
		_, _ = fmt.Fprintf(f, "%q", s.String())
	default:
		_, _ = f.Write([]byte(s.String()))
	}
}

// LogValue is what slog logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes the placeholder, never the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText encodes the placeholder, never the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalJSON reads a JSON string as the secret.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("a secret must be a JSON string")
	}
	*s = NewSecret(v)
	return nil
}

// Decode sets the secret from an environment variable's value (envconfig.Decoder).
func (s *Secret) Decode(value string) error {
	*s = NewSecret(value)
	return nil
}

// The forms Text removes. Each keeps its name (so a message still says what was wrong) and
// replaces the value.
var (
	// An Authorization-like header written out, up to the end of its line or quoted value:
	// "Authorization: SDK-HMAC-SHA256 Access=..., Signature=...", "eop-authorization:...",
	// "Proxy-Authorization=...".
	authHeader = regexp.MustCompile(`(?i)([\w-]*authorization["']?\s*[:=]\s*)("[^"\r\n]*"|'[^'\r\n]*'|[^\r\n"']+)`)
	// A signing scheme's header value without its name: JD's JDCLOUD2-HMAC-SHA256, Huawei's
	// SDK-HMAC-SHA256, AWS's AWS4-HMAC-SHA256 (Credential=..., SignedHeaders=..., Signature=...).
	scheme = regexp.MustCompile(`(?i)\b(JDCLOUD2|SDK|AWS4|OPENSTACK)-HMAC-SHA256\b[^\r\n"']*`)
	// Bearer and Basic credentials.
	bearer = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`)
	// name=value and name: value pairs whose name says credential: signature, token,
	// secret, password, credential (X-Amz-Signature=, x-security-token:, Signature=, "sk": ...).
	pair = regexp.MustCompile(`(?i)([\w-]*(signature|token|secret|password|passwd|credential|accesskeysecret)[\w-]*` +
		`["']?\s*[:=]\s*["']?)([^\s"',;&<>]+)`)
	// A bare hex run as long as an HMAC-SHA256 (64 digits) or longer: a signature quoted
	// without its name. Request ids and resource ids are shorter.
	longHex = regexp.MustCompile(`\b[0-9a-fA-F]{64,}\b`)
)

// notSecret are pair names that look like a credential but are not one.
var notSecret = map[string]bool{
	"clienttoken":   true, // CTyun's idempotency token: the result carries it by contract
	"signedheaders": true,
}

// Text returns text without any credential, token or signature form it holds (see the forms
// above), and without any of the known values (the caller's own secrets, which a provider may
// echo in any form). Names stay; values become Placeholder.
func Text(text string, known ...string) string {
	for _, k := range known {
		if len(k) >= 4 { // a shorter "secret" would erase ordinary words
			text = strings.ReplaceAll(text, k, Placeholder)
		}
	}
	text = authHeader.ReplaceAllString(text, "${1}"+Placeholder)
	text = scheme.ReplaceAllString(text, Placeholder)
	text = bearer.ReplaceAllString(text, "${1} "+Placeholder)
	text = pair.ReplaceAllStringFunc(text, func(m string) string {
		sub := pair.FindStringSubmatch(m)
		name := strings.ToLower(strings.TrimRight(sub[1], `"' :=`))
		if notSecret[name] || sub[3] == Placeholder {
			return m
		}
		return sub[1] + Placeholder
	})
	return longHex.ReplaceAllString(text, Placeholder)
}

// Values returns the revealed values of secrets, for Text's known list.
func Values(secrets ...Secret) []string {
	out := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s.IsSet() {
			out = append(out, s.Reveal())
		}
	}
	return out
}
