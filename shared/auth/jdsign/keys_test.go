package jdsign

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/redact"
)

// A Signer with a KeyCache signs exactly as one without, whatever changes between signatures:
// the day, the region, the service, the secret; and past the cache's bound.
func TestKeyCacheSignsAsWithout(t *testing.T) {
	keys := &KeyCache{}
	sign := func(s *Signer) string {
		body := []byte(vectorBody)
		req, _ := http.NewRequest("POST", vectorURL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if err := s.Sign(req, body); err != nil {
			t.Fatal(err)
		}
		return req.Header.Get("Authorization")
	}
	day := time.Date(2024, 1, 1, 23, 59, 59, 0, time.UTC)
	tests := []struct {
		name   string
		change func(s *Signer)
	}{
		{"as is", func(*Signer) {}},
		{"again", func(*Signer) {}},
		{"next day", func(s *Signer) { s.Now = fixed(day.Add(time.Second)) }},
		{"other region", func(s *Signer) { s.Region = "cn-east-2" }},
		{"other service", func(s *Signer) { s.Service = "vpc" }},
		{"other secret", func(s *Signer) { s.Credentials.SecretKey = redact.NewSecret("OTHER") }},
		{"the same secret value, another Secret", func(s *Signer) { s.Credentials.SecretKey = redact.NewSecret("TESTSK") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain, cached := vectorSigner(), vectorSigner()
			plain.Now, cached.Now = fixed(day), fixed(day)
			tt.change(plain)
			tt.change(cached)
			cached.Keys = keys
			if got, want := sign(cached), sign(plain); got != want {
				t.Errorf("with the cache\n%s\nwithout\n%s", got, want)
			}
		})
	}
	for i := range 2 * maxCachedKeys {
		s := vectorSigner()
		s.Region = "cn-north-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		plain := *s
		s.Keys = keys
		if got, want := sign(s), sign(&plain); got != want {
			t.Fatalf("region %s: with the cache %s, without %s", s.Region, got, want)
		}
		if n := len(keys.keys); n > maxCachedKeys {
			t.Fatalf("the cache holds %d keys, more than %d", n, maxCachedKeys)
		}
	}
}
