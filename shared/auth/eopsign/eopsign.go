// Package eopsign signs requests to CTyun (China Telecom Cloud) OpenAPI with the EOP scheme,
// and verifies such signatures (for the emulator).
//
// EOP differs from the better-known cloud signers in three ways that are easy to get wrong:
// the date is Beijing time (UTC+8) even though it ends in "Z", the signing key is chained
// through the full date, the access key and the day, and the signature is base64, not hex.
// Every attempt gets a fresh request id and date: a re-sent request is re-signed, never replayed.
package eopsign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lbfn/lbfn/shared/redact"
)

// Header names. Go canonicalises them on the wire; HTTP header names are case-insensitive.
const (
	HeaderRequestID     = "ctyun-eop-request-id"
	HeaderDate          = "Eop-date"
	HeaderAuthorization = "Eop-Authorization"
)

// DateFormat is the Eop-date layout. The trailing Z is literal: the time is Beijing time.
const DateFormat = "20060102T150405Z"

// Validity is how long a signature is accepted after its Eop-date.
const Validity = 15 * time.Minute

// beijing is UTC+8 without daylight saving; a fixed zone needs no tzdata in the container.
var beijing = time.FixedZone("UTC+8", 8*60*60)

// FormatDate returns t as an Eop-date: Beijing wall-clock time.
func FormatDate(t time.Time) string { return t.In(beijing).Format(DateFormat) }

// ParseDate reads an Eop-date as Beijing time.
func ParseDate(s string) (time.Time, error) { return time.ParseInLocation(DateFormat, s, beijing) }

// Signer adds EOP headers to requests. Only AccessKey and SecretKey are required.
type Signer struct {
	AccessKey string
	SecretKey redact.Secret
	// Now is the clock; default time.Now.
	Now func() time.Time
	// NewRequestID returns a fresh request id per call; default a random UUID.
	NewRequestID func() string
}

// String hides the secret key, should a Signer be printed.
func (s Signer) String() string {
	return "eopsign.Signer{AccessKey: " + s.AccessKey + ", SecretKey: <redacted>}"
}

// GoString hides it from %#v too.
func (s Signer) GoString() string { return s.String() }

// Sign sets ctyun-eop-request-id, Eop-date and Eop-Authorization on req for body, the exact
// bytes that will be sent. The query is taken from req.URL. It has the shape of an
// httpx.Signer, so the transport calls it before every attempt.
func (s *Signer) Sign(req *http.Request, body []byte) error {
	if s.AccessKey == "" || !s.SecretKey.IsSet() {
		return errors.New("eopsign: access key and secret key are required")
	}
	now, newID := time.Now, uuid.NewString
	if s.Now != nil {
		now = s.Now
	}
	if s.NewRequestID != nil {
		newID = s.NewRequestID
	}
	id, date := newID(), FormatDate(now()) // once per attempt: header and signature agree
	req.Header.Set(HeaderRequestID, id)
	req.Header.Set(HeaderDate, date)
	sig := Signature(s.AccessKey, s.SecretKey.Reveal(), id, date, SortedQuery(req.URL.RawQuery), body)
	req.Header.Set(HeaderAuthorization, Authorization(s.AccessKey, sig))
	return nil
}

// Authorization is the Eop-Authorization header value for a signature.
func Authorization(accessKey, signature string) string {
	return accessKey + authMiddle + signature
}

// StringToSign is what the signature covers: the two signed headers, the sorted query and
// the hex SHA-256 of the body.
func StringToSign(requestID, date, query string, body []byte) string {
	sum := sha256.Sum256(body)
	return HeaderRequestID + ":" + requestID + "\n" +
		"eop-date:" + date + "\n" +
		"\n" +
		query + "\n" +
		hex.EncodeToString(sum[:])
}

// Signature is the base64 EOP signature of one request.
func Signature(accessKey, secretKey, requestID, date, query string, body []byte) string {
	_, _, kDate := signingKeys(accessKey, secretKey, date)
	return base64.StdEncoding.EncodeToString(hmacSHA256(kDate, StringToSign(requestID, date, query, body)))
}

// signingKeys is the key chain: kTime from the full date, kAk from the access key, kDate from
// the day (the date's first eight characters).
func signingKeys(accessKey, secretKey, date string) (kTime, kAk, kDate []byte) {
	kTime = hmacSHA256([]byte(secretKey), date)
	kAk = hmacSHA256(kTime, accessKey)
	day := date
	if len(day) > 8 {
		day = day[:8]
	}
	kDate = hmacSHA256(kAk, day)
	return kTime, kAk, kDate
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// SortedQuery returns a raw query string with its k=v pairs sorted, as sent (not re-encoded).
func SortedQuery(raw string) string {
	if raw == "" {
		return ""
	}
	pairs := strings.Split(raw, "&")
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// Errors Verify returns, so a server can answer each precisely. None of them carries a secret.
var (
	ErrMissing      = errors.New("eopsign: missing or malformed EOP headers")
	ErrUnknownKey   = errors.New("eopsign: unknown access key")
	ErrStale        = errors.New("eopsign: Eop-date outside the validity window")
	ErrBadSignature = errors.New("eopsign: signature does not match")
)

// authMiddle separates the access key from the signature in Eop-Authorization.
const authMiddle = " Headers=" + HeaderRequestID + ";eop-date Signature="

// Verify checks req's EOP signature over body against one key pair at time now: the headers
// are present and well formed, the access key is accessKey, the Eop-date is within Validity of
// now (either way, for clock skew), and the signature matches. It is what a server does.
func Verify(req *http.Request, body []byte, accessKey, secretKey string, now time.Time) error {
	id, date, auth := req.Header.Get(HeaderRequestID), req.Header.Get(HeaderDate), req.Header.Get(HeaderAuthorization)
	if id == "" || date == "" || auth == "" {
		return ErrMissing
	}
	ak, sig, ok := strings.Cut(auth, authMiddle)
	if !ok || ak == "" || sig == "" {
		return ErrMissing
	}
	if ak != accessKey {
		return ErrUnknownKey
	}
	t, err := ParseDate(date)
	if err != nil {
		return fmt.Errorf("%w: Eop-date %q is not %s", ErrMissing, date, DateFormat)
	}
	if d := now.Sub(t); d > Validity || d < -Validity {
		return ErrStale
	}
	want := Signature(accessKey, secretKey, id, date, SortedQuery(req.URL.RawQuery), body)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return ErrBadSignature
	}
	return nil
}
