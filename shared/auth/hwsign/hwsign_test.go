package hwsign

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/redact"
)

func fixedClock(layoutValue string) func() time.Time {
	t, err := time.Parse(DateLayout, layoutValue)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return t }
}

const elbBody = `{"pool":{"lb_algorithm":"ROUND_ROBIN","protocol":"TCP","type":"ip","loadbalancer_id":"lb1","members":[{"address":"10.0.0.1","protocol_port":80,"role":"master"},{"address":"10.0.0.2","protocol_port":80,"role":"slave"}],"healthmonitor":{"delay":5,"max_retries":3,"timeout":3,"type":"TCP"}}}`

// TestVectors checks the signing vectors of Huawei's official Go SDK (huaweicloud-sdk-go-v3):
// its own tests' GET and POST, and two ELB requests confirmed against both the SDK's signer
// and the API gateway's example signer.
func TestVectors(t *testing.T) {
	tests := []struct {
		name          string
		signer        Signer
		method, url   string
		header        map[string]string
		body          string
		wantCanonical string // checked when set
		wantAuth      string
	}{
		{
			name:          "sdk GET",
			signer:        Signer{AccessKey: "AccessKey", SecretKey: redact.NewSecret("SecretKey"), SignedHeaders: []string{"x-sdk-date"}, Now: fixedClock("20060102T150405Z")},
			method:        "GET",
			url:           "https://example.huaweicloud.com/path?limit=1",
			wantCanonical: "GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			wantAuth:      "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624",
		},
		{
			name:     "sdk POST with trailing newline body",
			signer:   Signer{AccessKey: "AccessKey", SecretKey: redact.NewSecret("SecretKey"), SignedHeaders: []string{"x-sdk-date"}, Now: fixedClock("20060102T150405Z")},
			method:   "POST",
			url:      "https://example.huaweicloud.com/path?key=value",
			body:     "{\"Name\":\"test\",\"Id\":1}\n",
			wantAuth: "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59",
		},
		{
			name:     "elb x-project-id;x-sdk-date",
			signer:   Signer{AccessKey: "AKEXAMPLE", SecretKey: redact.NewSecret("SKEXAMPLE"), SignedHeaders: []string{"x-project-id", "x-sdk-date"}, Now: fixedClock("20240101T000000Z")},
			method:   "POST",
			url:      "https://elb.cn-north-4.myhuaweicloud.com/v3/0123456789abcdef0123456789abcdef/elb/master-slave-pools",
			header:   map[string]string{"X-Project-Id": "0123456789abcdef0123456789abcdef"},
			body:     elbBody,
			wantAuth: "SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=x-project-id;x-sdk-date, Signature=9897d10033832b4387ff1e0fe78045ac83e0add4f8ef9363ea7f15b384e03b03",
		},
		{
			name:     "elb content-type;host;x-project-id;x-sdk-date",
			signer:   Signer{AccessKey: "AKEXAMPLE", SecretKey: redact.NewSecret("SKEXAMPLE"), SignedHeaders: []string{"content-type", "host", "x-project-id", "x-sdk-date"}, Now: fixedClock("20240101T000000Z")},
			method:   "POST",
			url:      "https://elb.cn-north-4.myhuaweicloud.com/v3/0123456789abcdef0123456789abcdef/elb/master-slave-pools",
			header:   map[string]string{"X-Project-Id": "0123456789abcdef0123456789abcdef", "Content-Type": "application/json;charset=UTF-8"},
			body:     elbBody,
			wantAuth: "SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=8f5056980787f3b5d33ed65037062bb777cf8aacbd3f820f6ad70bffc018dae4",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if err := tt.signer.Sign(req, []byte(tt.body)); err != nil {
				t.Fatal(err)
			}
			if tt.wantCanonical != "" {
				names, _ := tt.signer.headerNames()
				if got := CanonicalRequest(req, names, []byte(tt.body)); got != tt.wantCanonical {
					t.Errorf("canonical request\n got %q\nwant %q", got, tt.wantCanonical)
				}
			}
			if got := req.Header.Get("Authorization"); got != tt.wantAuth {
				t.Errorf("Authorization\n got %s\nwant %s", got, tt.wantAuth)
			}
			if got := req.URL.Path; strings.HasSuffix(got, "/") {
				t.Errorf("the trailing slash is for signing only, but the request path became %q", got)
			}
			// What was signed verifies, with the signer's own clock.
			v := Verifier{AccessKey: tt.signer.AccessKey, SecretKey: tt.signer.SecretKey, Now: tt.signer.Now}
			if err := v.Verify(req, []byte(tt.body)); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func TestCanonicalQueryVector(t *testing.T) {
	q := url.Values{
		"limit":  {"1"},
		"enable": {"true"},
		"test":   {"一 (&=?!#%.*)"},
		"path":   {"/tmp/123"},
		"multi":  {"1", "2", "3"},
	}
	const want = "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29"
	if got := CanonicalQuery(q); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// The same through a URL, as Sign reads it.
	u := &url.URL{RawQuery: q.Encode()}
	if got := CanonicalQuery(u.Query()); got != want {
		t.Errorf("from URL: got %s", got)
	}
}

func TestCanonicalURI(t *testing.T) {
	tests := map[string]string{
		"":                   "/",
		"/":                  "/",
		"/path":              "/path/",
		"/v2.0/lbaas/pools":  "/v2.0/lbaas/pools/",
		"/a b/c~d/":          "/a%20b/c~d/",
		"/v3/项目/elb":         "/v3/%E9%A1%B9%E7%9B%AE/elb/",
		"/x/%2F/y":           "/x/%252F/y/",
		"/keep-_.~AZaz09/xx": "/keep-_.~AZaz09/xx/",
	}
	for in, want := range tests {
		if got := CanonicalURI(in); got != want {
			t.Errorf("CanonicalURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultHeadersAndToken(t *testing.T) {
	s := Signer{AccessKey: "AK", SecretKey: redact.NewSecret("SK"), SecurityToken: redact.NewSecret("tok"), Now: fixedClock("20240101T000000Z")}
	req, _ := http.NewRequest("POST", "https://elb.cn-north-4.myhuaweicloud.com/v2.0/lbaas/pools", nil)
	req.Header.Set("X-Project-Id", "p")
	if err := s.Sign(req, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	a, ok := ParseAuthorization(req.Header.Get("Authorization"))
	if !ok {
		t.Fatalf("unparsable Authorization %q", req.Header.Get("Authorization"))
	}
	if got := strings.Join(a.SignedHeaders, ";"); got != "host;x-project-id;x-sdk-date;x-security-token" {
		t.Errorf("signed headers %s", got)
	}
	if req.Header.Get(HeaderSecurityToken) != "tok" || req.Header.Get(HeaderDate) != "20240101T000000Z" {
		t.Errorf("headers not set: %v", req.Header)
	}
	if strings.Contains(req.Header.Get("Authorization"), "SK") {
		t.Error("the secret leaked into Authorization")
	}

	v := Verifier{AccessKey: "AK", SecretKey: redact.NewSecret("SK"), SecurityToken: redact.NewSecret("tok"), Now: s.Now}
	if err := v.Verify(req, []byte("{}")); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	v.SecurityToken = redact.NewSecret("other")
	if err := v.Verify(req, []byte("{}")); err == nil {
		t.Error("a wrong token verified")
	}
}

func TestSignMissingHeader(t *testing.T) {
	s := Signer{AccessKey: "AK", SecretKey: redact.NewSecret("SK")}
	req, _ := http.NewRequest("GET", "https://h/x", nil)
	if err := s.Sign(req, nil); err == nil || !strings.Contains(err.Error(), "x-project-id") {
		t.Errorf("want an error naming x-project-id, got %v", err)
	}
	if err := (&Signer{AccessKey: "AK"}).Sign(req, nil); err == nil {
		t.Error("signed without a secret key")
	}
}

func TestVerifyRefusals(t *testing.T) {
	clock := fixedClock("20240101T000000Z")
	body := []byte(`{"pool":{}}`)
	signed := func() *http.Request {
		req, _ := http.NewRequest("POST", "http://127.0.0.1:1/v2/p/elb/pools", bytes.NewReader(body))
		req.Header.Set("X-Project-Id", "p")
		s := Signer{AccessKey: "AK", SecretKey: redact.NewSecret("SK"), Now: clock}
		if err := s.Sign(req, body); err != nil {
			t.Fatal(err)
		}
		return req
	}
	tests := []struct {
		name   string
		v      Verifier
		mutate func(*http.Request) []byte
		want   string
	}{
		{"ok", Verifier{AccessKey: "AK", SecretKey: redact.NewSecret("SK"), Now: clock}, nil, ""},
		{"tampered body", Verifier{AccessKey: "AK", SecretKey: redact.NewSecret("SK"), Now: clock},
			func(*http.Request) []byte { return []byte(`{"pool":{"x":1}}`) }, "does not match"},
		{"wrong secret", Verifier{AccessKey: "AK", SecretKey: redact.NewSecret("other"), Now: clock}, nil, "does not match"},
		{"unknown key", Verifier{AccessKey: "AK2", SecretKey: redact.NewSecret("SK"), Now: clock}, nil, "unknown access key"},
		{"tampered signed header", Verifier{AccessKey: "AK", SecretKey: redact.NewSecret("SK"), Now: clock},
			func(r *http.Request) []byte { r.Header.Set("X-Project-Id", "q"); return nil }, "does not match"},
		{"stale date", Verifier{AccessKey: "AK", SecretKey: redact.NewSecret("SK"), Now: func() time.Time { return clock().Add(16 * time.Minute) }}, nil, "signature expired"},
		{"future date", Verifier{AccessKey: "AK", SecretKey: redact.NewSecret("SK"), Now: func() time.Time { return clock().Add(-16 * time.Minute) }}, nil, "signature expired"},
		{"within skew", Verifier{AccessKey: "AK", SecretKey: redact.NewSecret("SK"), Now: func() time.Time { return clock().Add(14 * time.Minute) }}, nil, ""},
		{"no authorization", Verifier{AccessKey: "AK", SecretKey: redact.NewSecret("SK"), Now: clock},
			func(r *http.Request) []byte { r.Header.Del("Authorization"); return nil }, "Authorization"},
		{"token required", Verifier{AccessKey: "AK", SecretKey: redact.NewSecret("SK"), SecurityToken: redact.NewSecret("tok"), Now: clock}, nil, "X-Security-Token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := signed()
			b := body
			if tt.mutate != nil {
				if nb := tt.mutate(req); nb != nil {
					b = nb
				}
			}
			err := tt.v.Verify(req, b)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			var ve *VerifyError
			if !errors.As(err, &ve) || !strings.Contains(ve.Reason, tt.want) {
				t.Fatalf("got %v, want a VerifyError containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SK") {
				t.Error("the secret leaked into the error")
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	s := Signer{AccessKey: "AKEXAMPLE", SecretKey: redact.NewSecret("SKEXAMPLE")}
	body := []byte(elbBody)
	req, _ := http.NewRequest("POST", "https://elb.cn-north-4.myhuaweicloud.com/v3/0123456789abcdef0123456789abcdef/elb/master-slave-pools", nil)
	req.Header.Set("X-Project-Id", "0123456789abcdef0123456789abcdef")
	req.Header.Set("Content-Type", "application/json")
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Sign(req, body); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSecretsNotPrinted(t *testing.T) {
	s := Signer{AccessKey: "AK", SecretKey: redact.NewSecret("very-secret-key"), SecurityToken: redact.NewSecret("very-secret-token")}
	v := Verifier{AccessKey: "AK", SecretKey: redact.NewSecret("very-secret-key"), SecurityToken: redact.NewSecret("very-secret-token")}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", &s), fmt.Sprintf("%#v", s), fmt.Sprint(v), fmt.Sprintf("%#v", &v)} {
		if strings.Contains(out, "very-secret") || !strings.Contains(out, "AK") {
			t.Errorf("printed %s", out)
		}
	}
}

// TestShortHMAC holds the signing path's HMAC to crypto/hmac, for keys shorter and longer
// than the block and messages up to and past the stack buffer.
func TestShortHMAC(t *testing.T) {
	for _, keyLen := range []int{0, 1, 20, 40, 63, 64, 65, 130} {
		for _, msgLen := range []int{0, 1, 97, shortMessage - 1, shortMessage, shortMessage + 1, 300} {
			key := strings.Repeat("k", keyLen)
			msg := []byte(strings.Repeat("m", msgLen))
			m := hmac.New(sha256.New, []byte(key))
			m.Write(msg)
			if got := shortHMAC(key, msg); !bytes.Equal(got[:], m.Sum(nil)) {
				t.Errorf("key %d bytes, message %d bytes: %x, want %x", keyLen, msgLen, got, m.Sum(nil))
			}
		}
	}
}
