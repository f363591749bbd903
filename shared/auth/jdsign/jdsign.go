// Package jdsign implements JD Cloud's JDCLOUD2-HMAC-SHA256 request signature: AWS SigV4 with
// JD's names (x-jdcloud-date, x-jdcloud-nonce, the "JDCLOUD2" key prefix and the
// "jdcloud2_request" scope terminator). It signs on the client and verifies on the emulator,
// from the same canonical form, so both sides cannot drift apart.
//
// It knows nothing of HTTP transport or retries: the caller signs every attempt, and every
// call to Sign draws a fresh date and nonce.
package jdsign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/lbfn/lbfn/shared/redact"
)

// Wire names of the scheme.
const (
	Algorithm    = "JDCLOUD2-HMAC-SHA256"
	DateHeader   = "x-jdcloud-date"
	NonceHeader  = "x-jdcloud-nonce"
	DateLayout   = "20060102T150405Z"
	scopeDay     = "20060102"
	scopeEnd     = "jdcloud2_request"
	keyPrefix    = "JDCLOUD2"
	credPrefix   = "Credential="
	headersPrefx = "SignedHeaders="
	sigPrefix    = "Signature="
)

// DefaultSignedHeaders are the headers JD Cloud's SDKs sign, in canonical (sorted) order.
var DefaultSignedHeaders = []string{"content-type", "host", DateHeader, NonceHeader}

// MaxSkew is how far a request's x-jdcloud-date may lie from the verifier's clock.
const MaxSkew = 15 * time.Minute

// Credentials are a JD Cloud access key pair. The secret key never leaves this package in
// any form other than an HMAC.
type Credentials struct {
	AccessKey string
	SecretKey redact.Secret
}

// String hides the secret key, so a Credentials value printed by mistake leaks nothing.
func (c Credentials) String() string { return "{AccessKey:" + c.AccessKey + " SecretKey:<redacted>}" }

// GoString hides the secret key from %#v too.
func (c Credentials) GoString() string { return c.String() }

// Signer signs (and verifies) requests for one service in one region. The zero values of the
// optional fields give production behaviour.
type Signer struct {
	Credentials Credentials
	// Service is the signing service name: "lb" for the load-balancer API.
	Service string
	// Region is the credential scope's region, the regionId of the request path.
	Region string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Nonce returns the x-jdcloud-nonce of one request; default a fresh random UUIDv4.
	Nonce func() string
	// SignedHeaders overrides DefaultSignedHeaders (lower-case names). Sign fails when the
	// request lacks one of them, rather than signing an empty value.
	SignedHeaders []string
	// Keys, when set, keeps the signing keys derived for each day, region and service, so
	// that Signers sharing it derive each once (as AWS's SigV4 signer does): four of the five
	// HMACs of a signature depend on nothing else. Nil derives the key for every signature.
	Keys *KeyCache
}

// A KeyCache keeps derived signing keys for Signers (Signer.Keys). The zero value is ready to
// use, and it is safe for concurrent use.
type KeyCache struct {
	mu   sync.Mutex
	keys map[keyScope][]byte
}

// keyScope is what a signing key is derived from. The secret is compared as a redact.Secret
// is, by identity: a key is never found for another secret.
type keyScope struct {
	secret               redact.Secret
	day, region, service string
}

// maxCachedKeys bounds a KeyCache: past it, the cache starts again empty. A day has one key
// per region and service a client signs for, a handful.
const maxCachedKeys = 32

// key returns the signing key of scope, deriving it on first use.
func (c *KeyCache) key(scope keyScope) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.keys[scope]; ok {
		return k
	}
	if c.keys == nil || len(c.keys) >= maxCachedKeys {
		c.keys = make(map[keyScope][]byte)
	}
	k := deriveKey(scope)
	c.keys[scope] = k
	return k
}

// deriveKey is SigV4's signing key with JD's names: the secret, then the day, region, service
// and terminator, each through HMAC-SHA256.
func deriveKey(scope keyScope) []byte {
	k := hmacSHA256([]byte(keyPrefix+scope.secret.Reveal()), scope.day)
	k = hmacSHA256(k, scope.region)
	k = hmacSHA256(k, scope.service)
	return hmacSHA256(k, scopeEnd)
}

// Verification failures. Each is returned wrapped with detail that never includes a secret.
var (
	ErrUnsigned  = errors.New("jdsign: request is not signed")
	ErrMalformed = errors.New("jdsign: malformed signature")
	ErrAccessKey = errors.New("jdsign: unknown access key")
	ErrExpired   = errors.New("jdsign: request date is outside the allowed skew")
	ErrMismatch  = errors.New("jdsign: signature does not match")
)

// Sign sets x-jdcloud-date, x-jdcloud-nonce and Authorization on req. body must be exactly
// the bytes that will be sent (nil or empty for none).
func (s *Signer) Sign(req *http.Request, body []byte) error {
	if s.Credentials.AccessKey == "" || !s.Credentials.SecretKey.IsSet() {
		return errors.New("jdsign: credentials are not set")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	nonce := uuid.NewString
	if s.Nonce != nil {
		nonce = s.Nonce
	}
	date := now().UTC().Format(DateLayout)
	req.Header.Set(DateHeader, date)
	req.Header.Set(NonceHeader, nonce())
	signed := s.SignedHeaders
	if signed == nil {
		signed = DefaultSignedHeaders
	}
	canonical, err := CanonicalRequest(req, body, signed)
	if err != nil {
		return err
	}
	sig := s.signature(date, canonical)
	req.Header.Set("Authorization", Algorithm+" "+credPrefix+s.Credentials.AccessKey+"/"+s.scope(date)+
		", "+headersPrefx+strings.Join(signed, ";")+", "+sigPrefix+sig)
	return nil
}

// Verify checks a received request's signature against s's credentials: the access key, the
// credential scope (day, s.Region, s.Service), the date within MaxSkew of
// s.Now, and the signature recomputed from the received headers and body, compared in
// constant time. The signed headers must include host, x-jdcloud-date and x-jdcloud-nonce,
// and content-type when the request carries one.
func (s *Signer) Verify(req *http.Request, body []byte) error {
	auth := req.Header.Get("Authorization")
	date := req.Header.Get(DateHeader)
	if auth == "" || date == "" {
		return ErrUnsigned
	}
	parsed, err := ParseAuthorization(auth)
	if err != nil {
		return err
	}
	if !hmac.Equal([]byte(parsed.AccessKey), []byte(s.Credentials.AccessKey)) {
		return ErrAccessKey
	}
	t, err := time.Parse(DateLayout, date)
	if err != nil {
		return fmt.Errorf("%w: %s is not %s", ErrMalformed, DateHeader, DateLayout)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if skew := now().Sub(t); skew > MaxSkew || skew < -MaxSkew {
		return ErrExpired
	}
	if parsed.Scope != s.scope(date) {
		return fmt.Errorf("%w: credential scope %q, want %q", ErrMismatch, parsed.Scope, s.scope(date))
	}
	required := []string{"host", DateHeader, NonceHeader}
	if req.Header.Get("Content-Type") != "" {
		required = append(required, "content-type")
	}
	for _, h := range required {
		if !contains(parsed.SignedHeaders, h) {
			return fmt.Errorf("%w: header %s is not signed", ErrMismatch, h)
		}
	}
	canonical, err := CanonicalRequest(req, body, parsed.SignedHeaders)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	want := s.signature(date, canonical)
	if !hmac.Equal([]byte(want), []byte(parsed.Signature)) {
		return ErrMismatch
	}
	return nil
}

// Authorization is a parsed Authorization header.
type Authorization struct {
	AccessKey     string
	Scope         string // YYYYMMDD/region/service/jdcloud2_request
	SignedHeaders []string
	Signature     string
}

// ParseAuthorization reads "JDCLOUD2-HMAC-SHA256 Credential=AK/scope, SignedHeaders=a;b,
// Signature=hex", on the separators JD's gateway parses.
func ParseAuthorization(h string) (Authorization, error) {
	var a Authorization
	rest, ok := strings.CutPrefix(h, Algorithm+" ")
	if !ok {
		return a, fmt.Errorf("%w: algorithm is not %s", ErrMalformed, Algorithm)
	}
	parts := strings.Split(rest, ", ")
	if len(parts) != 3 {
		return a, fmt.Errorf("%w: want Credential, SignedHeaders and Signature", ErrMalformed)
	}
	cred, ok1 := strings.CutPrefix(parts[0], credPrefix)
	headers, ok2 := strings.CutPrefix(parts[1], headersPrefx)
	sig, ok3 := strings.CutPrefix(parts[2], sigPrefix)
	if !ok1 || !ok2 || !ok3 {
		return a, fmt.Errorf("%w: want Credential, SignedHeaders and Signature", ErrMalformed)
	}
	a.AccessKey, a.Scope, ok = strings.Cut(cred, "/")
	if !ok || a.AccessKey == "" || strings.Count(a.Scope, "/") != 3 {
		return a, fmt.Errorf("%w: credential is not AK/day/region/service/%s", ErrMalformed, scopeEnd)
	}
	if headers == "" {
		return a, fmt.Errorf("%w: no signed headers", ErrMalformed)
	}
	a.SignedHeaders = strings.Split(headers, ";")
	a.Signature = sig
	return a, nil
}

// CanonicalRequest is step 2 of the scheme: method, escaped path as sent, canonical query,
// the signed headers as "name:value" lines plus an empty line, the signed header names, and
// the hex SHA-256 of body. It is exported for tests and for debugging a mismatch.
func CanonicalRequest(req *http.Request, body []byte, signed []string) (string, error) {
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	var b strings.Builder
	b.WriteString(req.Method)
	b.WriteByte('\n')
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(CanonicalQuery(req.URL.RawQuery))
	b.WriteByte('\n')
	names := append([]string(nil), signed...)
	sort.Strings(names)
	for _, name := range names {
		var value string
		if name == "host" {
			value = hostOf(req)
		} else {
			vs, ok := req.Header[http.CanonicalHeaderKey(name)]
			if !ok {
				return "", fmt.Errorf("jdsign: header %s to sign is missing", name)
			}
			value = strings.Join(vs, ",")
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.TrimSpace(value))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(names, ";"))
	b.WriteByte('\n')
	b.WriteString(hexSHA256(body))
	return b.String(), nil
}

// CanonicalQuery sorts the query by name and value and escapes it as JD's SDKs do
// (url.Values.Encode with spaces as %20). A client that sends exactly this string, as
// lbfn's does, is signed over what it sends.
func CanonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return raw
	}
	for _, vs := range q {
		sort.Strings(vs)
	}
	return strings.ReplaceAll(q.Encode(), "+", "%20")
}

// StringToSign is step 5: the algorithm, the date, the scope and the canonical request's hash.
func (s *Signer) StringToSign(date, canonicalRequest string) string {
	return Algorithm + "\n" + date + "\n" + s.scope(date) + "\n" + hexSHA256([]byte(canonicalRequest))
}

func (s *Signer) signature(date, canonical string) string {
	scope := keyScope{secret: s.Credentials.SecretKey, day: date[:len(scopeDay)], region: s.Region, service: s.Service}
	var k []byte
	if s.Keys != nil {
		k = s.Keys.key(scope)
	} else {
		k = deriveKey(scope)
	}
	return hex.EncodeToString(hmacSHA256(k, s.StringToSign(date, canonical)))
}

func (s *Signer) scope(date string) string {
	day := date
	if len(day) >= len(scopeDay) {
		day = day[:len(scopeDay)]
	}
	return day + "/" + s.Region + "/" + s.Service + "/" + scopeEnd
}

// hostOf is the Host as sent: what net/http's client writes (req.Host, else URL.Host) and
// what a server receives in req.Host.
func hostOf(req *http.Request) string {
	if req.Host != "" {
		return req.Host
	}
	return req.URL.Host
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
