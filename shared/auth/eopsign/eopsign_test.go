package eopsign

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/redact"
)

// vectors are not CTyun's own, but three independent implementations of its EOP signing
// agree on them.
var vectors = []struct {
	name, requestID, date, query, body, want string
}{
	{"empty body", "27cfe4dc-e640-45f6-92ca-492ca73e8680", "20220525T160752Z", "", "",
		"aKjmc2+PInoLvaesnMY0WL50CbyC4LeGm/IlKy0CqWk="},
	{"query and body", "request-123", "20260613T010203Z", "a=1&b=two",
		`{"regionID":"81f7728662dd11ec810800155d307d5b"}`,
		"h+H8K5CbPz1DjnbVWA+FEPGbbcEJOzVsi2GQv4LroyM="},
	{"create-policy body", "8f14e45f-ceea-467a-9575-0b1a5c0e9a11", "20250101T200000Z", "",
		`{"clientToken":"79fa97e3-c48b-4e2b-9f46-6a13d8163678","regionID":"bb9fdb42056f11eda1610242ac110002","listenerID":"listener-3ba2dlfbec","name":"policy01","conditions":[{"ruleType":"PATH","matchType":"STARTS_WITH","matchValue":"/api"}],"targetGroup":{"name":"tg01","algorithm":"rr","targets":[{"instanceID":"ss-0123456789","protocolPort":8080,"instanceType":"vm","weight":100,"address":"192.168.0.10"}]}}`,
		"KOxTaQkxQT4DA2WTneMwFYlppUZLlW/k2VlPExYcZmQ="},
}

func TestSignatureVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			if got := Signature("test-ak", "test-sk", v.requestID, v.date, v.query, []byte(v.body)); got != v.want {
				t.Errorf("Signature = %s, want %s", got, v.want)
			}
		})
	}
}

func TestKeyChainVector(t *testing.T) {
	kTime, kAk, kDate := signingKeys("test-ak", "test-sk", "20220525T160752Z")
	for _, k := range []struct{ name, got, want string }{
		{"kTime", hex.EncodeToString(kTime), "5f1a312916c6ad2aadb3a3d1cad82c531e8268b94831c90149745dcd08f5274c"},
		{"kAk", hex.EncodeToString(kAk), "2200888e8f74b6fea55717c5e5aad9285f3bdfabc9534a6164ef17d344d737b8"},
		{"kDate", hex.EncodeToString(kDate), "a13b007838ff65e7d02987837c747e09a2d9720de6766b7d40dc6498b489b227"},
	} {
		if k.got != k.want {
			t.Errorf("%s = %s, want %s", k.name, k.got, k.want)
		}
	}
}

func TestBodyHashVector(t *testing.T) {
	s := StringToSign("x", "20250101T200000Z", "", []byte(vectors[2].body))
	if len(vectors[2].body) != 402 {
		t.Fatalf("vector body is %d bytes, want 402", len(vectors[2].body))
	}
	if !strings.HasSuffix(s, "\nab5cbf1e76b0038d990426eb344553946ab6ffef429c8d1dba30b309e5cec72e") {
		t.Errorf("string to sign does not end with the documented body hash:\n%s", s)
	}
}

// fixed returns a signer whose clock and ids are the vector's.
func fixed(date, id string) *Signer {
	t, err := ParseDate(date)
	if err != nil {
		panic(err)
	}
	return &Signer{AccessKey: "test-ak", SecretKey: redact.NewSecret("test-sk"),
		Now: func() time.Time { return t }, NewRequestID: func() string { return id }}
}

func TestSignSetsHeaders(t *testing.T) {
	v := vectors[1]
	req, _ := http.NewRequest("POST", "https://example.test/v4/x?b=two&a=1", strings.NewReader(v.body))
	if err := fixed(v.date, v.requestID).Sign(req, []byte(v.body)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		HeaderRequestID:     v.requestID,
		HeaderDate:          v.date,
		HeaderAuthorization: "test-ak Headers=ctyun-eop-request-id;eop-date Signature=" + v.want,
	}
	for h, w := range want {
		if got := req.Header.Get(h); got != w {
			t.Errorf("%s = %q, want %q", h, got, w)
		}
	}
}

func TestDateIsBeijingTime(t *testing.T) {
	utc := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	if got := FormatDate(utc); got != "20250101T200000Z" {
		t.Errorf("FormatDate(12:00 UTC) = %s, want 20250101T200000Z (Beijing, UTC+8)", got)
	}
	// Crossing midnight changes the day that goes into kDate.
	if got := FormatDate(time.Date(2025, 1, 1, 16, 30, 0, 0, time.UTC)); got != "20250102T003000Z" {
		t.Errorf("FormatDate(16:30 UTC) = %s, want 20250102T003000Z", got)
	}
}

func TestSignFreshPerAttempt(t *testing.T) {
	s := &Signer{AccessKey: "ak", SecretKey: redact.NewSecret("sk")}
	seen := map[string]bool{}
	for range 3 {
		req, _ := http.NewRequest("POST", "https://example.test/", nil)
		if err := s.Sign(req, nil); err != nil {
			t.Fatal(err)
		}
		id := req.Header.Get(HeaderRequestID)
		if len(id) != 36 || seen[id] {
			t.Fatalf("request id %q is not a fresh UUID", id)
		}
		seen[id] = true
	}
}

func TestSignRequiresKeys(t *testing.T) {
	req, _ := http.NewRequest("POST", "https://example.test/", nil)
	if err := (&Signer{AccessKey: "ak"}).Sign(req, nil); err == nil {
		t.Fatal("Sign without a secret key succeeded")
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"a":1}`)
	signedAt := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	sign := func(s *Signer) *http.Request {
		req, _ := http.NewRequest("POST", "https://example.test/p?z=1&a=2", nil)
		s.Now = func() time.Time { return signedAt }
		if err := s.Sign(req, body); err != nil {
			t.Fatal(err)
		}
		return req
	}
	good := func() *Signer { return &Signer{AccessKey: "ak", SecretKey: redact.NewSecret("sk")} }
	tests := []struct {
		name string
		req  *http.Request
		body []byte
		now  time.Time
		want error
	}{
		{"valid", sign(good()), body, signedAt, nil},
		{"valid 14 minutes later", sign(good()), body, signedAt.Add(14 * time.Minute), nil},
		{"stale", sign(good()), body, signedAt.Add(16 * time.Minute), ErrStale},
		{"from the future", sign(good()), body, signedAt.Add(-16 * time.Minute), ErrStale},
		{"tampered body", sign(good()), []byte(`{"a":2}`), signedAt, ErrBadSignature},
		{"wrong secret", sign(&Signer{AccessKey: "ak", SecretKey: redact.NewSecret("other")}), body, signedAt, ErrBadSignature},
		{"unknown access key", sign(&Signer{AccessKey: "other", SecretKey: redact.NewSecret("sk")}), body, signedAt, ErrUnknownKey},
		{"unsigned", func() *http.Request { r, _ := http.NewRequest("POST", "https://example.test/", nil); return r }(), body, signedAt, ErrMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.req, tt.body, "ak", "sk", tt.now)
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("UTC date rejected", func(t *testing.T) {
		// A signer that sends UTC instead of Beijing time is eight hours off.
		req := sign(good())
		req.Header.Set(HeaderDate, signedAt.UTC().Format(DateFormat))
		if err := Verify(req, body, "ak", "sk", signedAt); !errors.Is(err, ErrStale) {
			t.Errorf("Verify = %v, want %v", err, ErrStale)
		}
	})
	t.Run("query order does not matter", func(t *testing.T) {
		req := sign(good())
		req.URL.RawQuery = "a=2&z=1"
		if err := Verify(req, body, "ak", "sk", signedAt); err != nil {
			t.Errorf("Verify = %v", err)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	body := []byte(vectors[2].body)
	s := &Signer{AccessKey: "test-ak", SecretKey: redact.NewSecret("test-sk")}
	req, _ := http.NewRequest("POST", "https://ctelb-global.ctapi.ctyun.cn/v4/elb/async-create-policy", nil)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Sign(req, body); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSecretNotPrinted(t *testing.T) {
	s := Signer{AccessKey: "AK", SecretKey: redact.NewSecret("very-secret-key")}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", &s), fmt.Sprintf("%#v", s)} {
		if strings.Contains(out, "very-secret") || !strings.Contains(out, "AK") {
			t.Errorf("printed %s", out)
		}
	}
}
