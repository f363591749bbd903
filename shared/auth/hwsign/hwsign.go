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
//
// It runs on every attempt of every call, so it builds the canonical request, the string to
// sign and the header in stack buffers rather than through the string-returning functions
// below (which give the same bytes, for the verifier and the published vectors).
func (s *Signer) Sign(req *http.Request, body []byte) error {
	if s.AccessKey == "" || !s.SecretKey.IsSet() {
		return errors.New("hwsign: access key and secret key are required")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	var dateBuf [len(DateLayout)]byte
	date := string(now().UTC().AppendFormat(dateBuf[:0], DateLayout))
	req.Header[HeaderDate] = []string{date}
	if s.SecurityToken.IsSet() {
		req.Header[HeaderSecurityToken] = []string{s.SecurityToken.Reveal()}
	}
	names, joined := s.headerNames()
	for _, n := range names {
		if n != "host" && len(headerValues(req.Header, n)) == 0 {
			return fmt.Errorf("hwsign: header %q is to be signed but is not set", n)
		}
	}
	var crBuf [512]byte
	cr := appendCanonicalRequest(crBuf[:0], req, names, joined, body)
	var sig [2 * sha256.Size]byte
	sign(sig[:0], s.SecretKey.Reveal(), date, cr)

	var authBuf [256]byte
	auth := append(authBuf[:0], Algorithm+" Access="...)
	auth = append(auth, s.AccessKey...)
	auth = append(auth, ", SignedHeaders="...)
	auth = append(auth, joined...)
	auth = append(auth, ", Signature="...)
	auth = append(auth, sig[:]...)
	req.Header["Authorization"] = []string{string(auth)}
	return nil
}

// The names signed by default, sorted, with and without a security token.
var (
	defaultBase        = slices.Clone(DefaultSignedHeaders)
	defaultNames       = []string{"host", "x-project-id", "x-sdk-date"}
	defaultNamesToken  = []string{"host", "x-project-id", "x-sdk-date", "x-security-token"}
	defaultJoined      = strings.Join(defaultNames, ";")
	defaultJoinedToken = strings.Join(defaultNamesToken, ";")
)

// headerNames returns the sorted, lower-case, de-duplicated names to sign, and them joined
// by ";" as SignedHeaders lists them.
func (s *Signer) headerNames() ([]string, string) {
	base := s.SignedHeaders
	if len(base) == 0 {
		if slices.Equal(DefaultSignedHeaders, defaultBase) { // unless a program changed the default
			if s.SecurityToken.IsSet() {
				return defaultNamesToken, defaultJoinedToken
			}
			return defaultNames, defaultJoined
		}
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
	names = slices.Compact(names)
	return names, strings.Join(names, ";")
}

// canonicalKeys are the header keys of the names signed by default, as net/http stores them.
var canonicalKeys = map[string]string{"x-project-id": "X-Project-Id", "x-sdk-date": HeaderDate, "x-security-token": HeaderSecurityToken}

// headerValues is h.Values(name) for a lower-case name, without canonicalising the usual
// names afresh on every call.
func headerValues(h http.Header, name string) []string {
	if k, ok := canonicalKeys[name]; ok {
		return h[k]
	}
	return h.Values(name)
}

// CanonicalRequest returns the canonical request of req signing the lower-case, sorted
// header names, for body.
func CanonicalRequest(req *http.Request, names []string, body []byte) string {
	return string(appendCanonicalRequest(make([]byte, 0, 256), req, names, strings.Join(names, ";"), body))
}

// appendCanonicalRequest appends the canonical request to b; joined is names joined by ";".
func appendCanonicalRequest(b []byte, req *http.Request, names []string, joined string, body []byte) []byte {
	b = append(b, req.Method...)
	b = append(b, '\n')
	b = appendCanonicalURI(b, req.URL.Path)
	b = append(b, '\n')
	if req.URL.RawQuery != "" {
		b = append(b, CanonicalQuery(req.URL.Query())...)
	}
	b = append(b, '\n')
	for _, n := range names {
		b = append(b, n...)
		b = append(b, ':')
		b = appendHeaderValue(b, req, n)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = append(b, joined...)
	b = append(b, '\n')
	sum := sha256.Sum256(body)
	return hex.AppendEncode(b, sum[:])
}

// appendHeaderValue appends the header's values, each trimmed, joined by ",".
func appendHeaderValue(b []byte, req *http.Request, name string) []byte {
	if name == "host" {
		if req.Host != "" {
			return append(b, req.Host...)
		}
		return append(b, req.URL.Host...)
	}
	for i, v := range headerValues(req.Header, name) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, strings.TrimSpace(v)...)
	}
	return b
}

// CanonicalURI percent-encodes each segment of the (decoded) path and appends "/" when the
// path does not end with one. The slash is for signing only: the request is sent without it.
func CanonicalURI(path string) string {
	return string(appendCanonicalURI(nil, path))
}

func appendCanonicalURI(b []byte, path string) []byte {
	b = appendEscaped(b, path, '/')
	if len(b) == 0 || b[len(b)-1] != '/' {
		b = append(b, '/')
	}
	return b
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
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			return string(appendEscaped(make([]byte, 0, len(s)+8), s, 0))
		}
	}
	return s
}

// appendEscaped appends s escaped as Escape does, except that keep (when not 0) is kept as is.
func appendEscaped(b []byte, s string, keep byte) []byte {
	const hexUpper = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (keep != 0 && c == keep) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexUpper[c>>4], hexUpper[c&15])
		}
	}
	return b
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// StringToSign returns the string to sign for a canonical request signed at date (X-Sdk-Date).
func StringToSign(date, canonicalRequest string) string {
	return string(appendStringToSign(nil, date, []byte(canonicalRequest)))
}

func appendStringToSign(b []byte, date string, canonicalRequest []byte) []byte {
	sum := sha256.Sum256(canonicalRequest)
	b = append(b, Algorithm+"\n"...)
	b = append(b, date...)
	b = append(b, '\n')
	return hex.AppendEncode(b, sum[:])
}

// Signature is the lower-case hex HMAC-SHA256 of stringToSign keyed with the secret key.
func Signature(secretKey, stringToSign string) string {
	return string(appendSignature(nil, secretKey, []byte(stringToSign)))
}

func appendSignature(b []byte, secretKey string, stringToSign []byte) []byte {
	m := hmac.New(sha256.New, []byte(secretKey))
	m.Write(stringToSign)
	var mac [sha256.Size]byte
	return hex.AppendEncode(b, m.Sum(mac[:0]))
}

// sign appends to b the signature of the canonical request cr signed at date.
func sign(b []byte, secretKey, date string, cr []byte) []byte {
	var sts [len(Algorithm) + 1 + len(DateLayout) + 1 + 2*sha256.Size]byte
	mac := shortHMAC(secretKey, appendStringToSign(sts[:0], date, cr))
	return hex.AppendEncode(b, mac[:])
}

// shortMessage is the longest message shortHMAC takes: a string to sign is 97 bytes.
const shortMessage = 128

// shortHMAC is HMAC-SHA256 (RFC 2104) of a message of at most shortMessage bytes, computed in
// stack buffers: signing runs it on every attempt, and crypto/hmac allocates two hashes and
// their pads each time. TestShortHMAC holds it to crypto/hmac.
func shortHMAC(key string, msg []byte) [sha256.Size]byte {
	const block = 64 // SHA-256's block size
	if len(msg) > shortMessage {
		m := hmac.New(sha256.New, []byte(key))
		m.Write(msg)
		return [sha256.Size]byte(m.Sum(nil))
	}
	var k [block]byte
	if len(key) > block {
		sum := sha256.Sum256([]byte(key))
		copy(k[:], sum[:])
	} else {
		copy(k[:], key)
	}
	var inner [block + shortMessage]byte
	for i, c := range k {
		inner[i] = c ^ 0x36
	}
	n := copy(inner[block:], msg)
	innerSum := sha256.Sum256(inner[:block+n])
	var outer [block + sha256.Size]byte
	for i, c := range k {
		outer[i] = c ^ 0x5c
	}
	copy(outer[block:], innerSum[:])
	return sha256.Sum256(outer[:])
}
