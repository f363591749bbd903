package hwsign

import (
	"crypto/hmac"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/redact"
)

// Verifier checks signed requests the way Huawei's API gateway does; the emulator uses it.
type Verifier struct {
	AccessKey string
	SecretKey redact.Secret
	// SecurityToken, when set, must arrive as a signed X-Security-Token header.
	SecurityToken redact.Secret
	// Now is the server clock; nil means time.Now.
	Now func() time.Time
	// MaxSkew bounds |X-Sdk-Date - Now|; zero means MaxSkew (15 minutes).
	MaxSkew time.Duration
}

// String hides the secret key and the security token, should a Verifier be printed.
func (v Verifier) String() string {
	return "hwsign.Verifier" + strings.TrimPrefix(Signer{AccessKey: v.AccessKey, SecretKey: v.SecretKey, SecurityToken: v.SecurityToken}.String(), "hwsign.Signer")
}

// GoString hides them from %#v too.
func (v Verifier) GoString() string { return v.String() }

// VerifyError says why a request was refused. It never holds the secret or the expected
// signature; CanonicalRequest is the server's view, which the real gateway also returns to
// help debugging.
type VerifyError struct {
	Reason           string
	CanonicalRequest string
}

func (e *VerifyError) Error() string { return e.Reason }

// Authorization is a parsed Authorization header.
type Authorization struct {
	AccessKey     string
	SignedHeaders []string
	Signature     string
}

// ParseAuthorization reads "SDK-HMAC-SHA256 Access=..., SignedHeaders=a;b, Signature=...".
func ParseAuthorization(h string) (Authorization, bool) {
	rest, ok := strings.CutPrefix(h, Algorithm+" ")
	if !ok {
		return Authorization{}, false
	}
	var a Authorization
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Authorization{}, false
		}
		switch k {
		case "Access":
			a.AccessKey = v
		case "SignedHeaders":
			a.SignedHeaders = strings.Split(v, ";")
		case "Signature":
			a.Signature = v
		}
	}
	if a.AccessKey == "" || len(a.SignedHeaders) == 0 || a.Signature == "" {
		return Authorization{}, false
	}
	return a, true
}

// Verify recomputes the signature of req over body from the headers it received, using the
// SignedHeaders list its Authorization names, and compares in constant time. A date further
// than MaxSkew from now is refused with "signature expired".
func (v *Verifier) Verify(req *http.Request, body []byte) error {
	a, ok := ParseAuthorization(req.Header.Get("Authorization"))
	if !ok {
		return &VerifyError{Reason: "missing or malformed Authorization header"}
	}
	if subtle.ConstantTimeCompare([]byte(a.AccessKey), []byte(v.AccessKey)) != 1 {
		return &VerifyError{Reason: "unknown access key " + a.AccessKey}
	}
	signed := map[string]bool{}
	for _, n := range a.SignedHeaders {
		if n != strings.ToLower(n) {
			return &VerifyError{Reason: "signed header names must be lower-case: " + n}
		}
		signed[n] = true
	}
	if !signed["x-sdk-date"] {
		return &VerifyError{Reason: "x-sdk-date must be signed"}
	}
	date, err := time.Parse(DateLayout, req.Header.Get(HeaderDate))
	if err != nil {
		return &VerifyError{Reason: "X-Sdk-Date is missing or not in the form " + DateLayout}
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = MaxSkew
	}
	if d := now().Sub(date); d > skew || d < -skew {
		return &VerifyError{Reason: "signature expired: X-Sdk-Date " + req.Header.Get(HeaderDate) + " is more than " + skew.String() + " from the server time"}
	}
	if v.SecurityToken.IsSet() {
		if !signed["x-security-token"] ||
			subtle.ConstantTimeCompare([]byte(req.Header.Get(HeaderSecurityToken)), []byte(v.SecurityToken.Reveal())) != 1 {
			return &VerifyError{Reason: "missing, unsigned or invalid X-Security-Token"}
		}
	}
	cr := CanonicalRequest(req, a.SignedHeaders, body)
	want := Signature(v.SecretKey.Reveal(), StringToSign(req.Header.Get(HeaderDate), cr))
	if !hmac.Equal([]byte(want), []byte(a.Signature)) {
		return &VerifyError{Reason: "the request signature does not match", CanonicalRequest: cr}
	}
	return nil
}
