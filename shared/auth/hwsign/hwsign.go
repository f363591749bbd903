// Package hwsign signs and verifies Huawei Cloud API requests with SDK-HMAC-SHA256, the AK/SK
// scheme of Huawei's SDKs and API gateway. It is pure: no network, no environment, an
// injectable clock, so that its output can be checked against the published vectors.
//
// The scheme, in short: a canonical request (method, canonical URI with a trailing "/",
// canonical query, the signed headers, hex SHA-256 of the exact body) is hashed into a string
// to sign with the X-Sdk-Date timestamp, and the signature is the hex HMAC-SHA256 of that
// string keyed with the secret key itself (unlike SigV4 there is no key derivation).
package hwsign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/redact"
)

const (
	// Algorithm names the scheme in the Authorization header and the string to sign.
	Algorithm = "SDK-HMAC-SHA256"
	// DateLayout is the layout of X-Sdk-Date.
	DateLayout = "20060102T150405Z"
	// HeaderDate carries the signing time; it is always signed.
	HeaderDate = "X-Sdk-Date"
	// HeaderSecurityToken carries the token of temporary credentials; signed when present.
	HeaderSecurityToken = "X-Security-Token"
	// MaxSkew is how far the gateway lets X-Sdk-Date drift from its own clock.
	MaxSkew = 15 * time.Minute
)

// DefaultSignedHeaders is the stable set signed when Signer.SignedHeaders is empty: headers
// no proxy or transport rewrites (never Content-Length or User-Agent, which a transport may set).
var DefaultSignedHeaders = []string{"host", "x-project-id", "x-sdk-date"}

// Signer signs requests with one access key. The zero Now means time.Now.
type Signer struct {
	AccessKey string
	SecretKey redact.Secret
	// SecurityToken, for temporary credentials, is sent as X-Security-Token and signed.
	SecurityToken redact.Secret
	// SignedHeaders are the lower-case names to sign; empty means DefaultSignedHeaders.
	// x-sdk-date is always added, and x-security-token when a token is set.
	SignedHeaders []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// String hides the secret key and the security token, should a Signer be printed.
func (s Signer) String() string {
	token := `""`
	if s.SecurityToken.IsSet() {
		token = "<redacted>"
	}
	return "hwsign.Signer{AccessKey: " + s.AccessKey + ", SecretKey: <redacted>, SecurityToken: " + token + "}"
}

// GoString hides them from %#v too.
func (s Signer) GoString() string { return s.String() }

// Sign sets X-Sdk-Date (and X-Security-Token) on req and then its Authorization header.
// body must be exactly the bytes that will be sent. Every header to sign must be present on
// req, except host, which is taken from req.Host or req.URL.Host as net/http sends it.
func (s *Signer) Sign(req *http.Request, body []byte) error {
	if s.AccessKey == "" || !s.SecretKey.IsSet() {
		return errors.New("hwsign: access key and secret key are required")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	req.Header.Set(HeaderDate, now().UTC().Format(DateLayout))
	if s.SecurityToken.IsSet() {
		req.Header.Set(HeaderSecurityToken, s.SecurityToken.Reveal())
	}
	names := s.headerNames()
	for _, n := range names {
		if n != "host" && len(req.Header.Values(n)) == 0 {
			return fmt.Errorf("hwsign: header %q is to be signed but is not set", n)
		}
	}
	sig := Signature(s.SecretKey.Reveal(), StringToSign(req.Header.Get(HeaderDate), CanonicalRequest(req, names, body)))
	req.Header.Set("Authorization", Algorithm+" Access="+s.AccessKey+", SignedHeaders="+strings.Join(names, ";")+", Signature="+sig)
	return nil
}

// headerNames returns the sorted, lower-case, de-duplicated names to sign.
func (s *Signer) headerNames() []string {
	base := s.SignedHeaders
	if len(base) == 0 {
		base = DefaultSignedHeaders
	}
	names := make([]string, 0, len(base)+2)
	for _, n := range base {
		names = append(names, strings.ToLower(n))
	}
	names = append(names, "x-sdk-date")
	if s.SecurityToken.IsSet() {
		names = append(names, "x-security-token")
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// CanonicalRequest returns the canonical request of req signing the lower-case, sorted
// header names, for body.
func CanonicalRequest(req *http.Request, names []string, body []byte) string {
	var b strings.Builder
	b.Grow(256)
	b.WriteString(req.Method)
	b.WriteByte('\n')
	b.WriteString(CanonicalURI(req.URL.Path))
	b.WriteByte('\n')
	b.WriteString(CanonicalQuery(req.URL.Query()))
	b.WriteByte('\n')
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(headerValue(req, n))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(names, ";"))
	b.WriteByte('\n')
	sum := sha256.Sum256(body)
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.String()
}

func headerValue(req *http.Request, name string) string {
	if name == "host" {
		if req.Host != "" {
			return req.Host
		}
		return req.URL.Host
	}
	vs := req.Header.Values(name)
	if len(vs) == 1 {
		return strings.TrimSpace(vs[0])
	}
	trimmed := make([]string, len(vs))
	for i, v := range vs {
		trimmed[i] = strings.TrimSpace(v)
	}
	return strings.Join(trimmed, ",")
}

// CanonicalURI percent-encodes each segment of the (decoded) path and appends "/" when the
// path does not end with one. The slash is for signing only: the request is sent without it.
func CanonicalURI(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = Escape(s)
	}
	u := strings.Join(segs, "/")
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// CanonicalQuery encodes keys and values with Escape and sorts them ("k=v" joined by "&").
func CanonicalQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	pairs := make([]string, 0, len(q))
	for k, vs := range q {
		ek := Escape(k)
		for _, v := range vs {
			pairs = append(pairs, ek+"="+Escape(v))
		}
	}
	slices.Sort(pairs)
	return strings.Join(pairs, "&")
}

// Escape percent-encodes s keeping only A-Z a-z 0-9 - _ . ~ (upper-case hex), as the SDK does.
func Escape(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexUpper = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexUpper[c>>4], hexUpper[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// StringToSign returns the string to sign for a canonical request signed at date (X-Sdk-Date).
func StringToSign(date, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + date + "\n" + hex.EncodeToString(sum[:])
}

// Signature is the lower-case hex HMAC-SHA256 of stringToSign keyed with the secret key.
func Signature(secretKey, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(secretKey))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}
