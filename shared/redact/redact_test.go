package redact

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestTextRemovesEveryForm(t *testing.T) {
	const sig = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name, in string
		gone     []string // must not survive
		kept     []string // must survive
	}{
		{"Signature=hex", "mismatch: Signature=" + sig + " expected", []string{sig}, []string{"Signature=", "mismatch", "expected"}},
		{"signature= lower", "signature=abc123def456ghi", []string{"abc123def456ghi"}, []string{"signature="}},
		{"JD authorization", `authorization: JDCLOUD2-HMAC-SHA256 Credential=AKID/20260101/cn-north-1/lb/jdcloud2_request, SignedHeaders=content-type;host, Signature=` + sig,
			[]string{sig, "AKID/20260101"}, []string{"authorization:"}},
		{"Huawei scheme without header name", `"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=` + sig + `"`, []string{sig, "Access=AK1"}, nil},
		{"AWS4 in a canonical request", "got AWS4-HMAC-SHA256 Credential=AKIA/x, SignedHeaders=host, Signature=" + sig, []string{sig}, []string{"got"}},
		{"security token line", "x-security-token:TOKENVALUE123\nhost:elb", []string{"TOKENVALUE123"}, []string{"x-security-token:", "host:elb"}},
		{"X-Security-Token header", "X-Security-Token: TOKENVALUE123", []string{"TOKENVALUE123"}, nil},
		{"amz security token query", "X-Amz-Security-Token=FQoG%2Fxyz&X-Amz-Date=2026", []string{"FQoG%2Fxyz"}, []string{"X-Amz-Date=2026"}},
		{"CTyun Eop-Authorization", "Eop-Authorization: AK1 Headers=ctyun-eop-request-id;eop-date Signature=q1w2e3r4t5y6u7i8o9p0+/=", []string{"q1w2e3r4t5y6u7i8o9p0"}, []string{"Eop-Authorization:"}},
		{"JSON secret member", `{"sk":"x","secretKey":"TOPSECRETVALUE","name":"pool-1"}`, []string{"TOPSECRETVALUE"}, []string{"pool-1"}},
		{"bearer", "Authorization was Bearer ya29.a0AfH6SMBxyz", []string{"ya29.a0AfH6SMBxyz"}, nil},
		{"bare long hex", "calculated " + sig, []string{sig}, []string{"calculated"}},
		{"known value in any form", "your key wJalrXUtnFEMI/K7MDENG is wrong", []string{"wJalrXUtnFEMI/K7MDENG"}, []string{"is wrong"}},
		{"clientToken kept", `clientToken=3f1c2e4a-uuid name=pool`, nil, []string{"clientToken=3f1c2e4a-uuid", "name=pool"}},
		{"plain message kept", "ELB.8905: quota exceeded for pool, request id 8c1e9a7f4b2d", nil, []string{"ELB.8905: quota exceeded for pool, request id 8c1e9a7f4b2d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Text(tt.in, "wJalrXUtnFEMI/K7MDENG")
			for _, g := range tt.gone {
				if strings.Contains(out, g) {
					t.Errorf("Text(%q) = %q: %q survived", tt.in, out, g)
				}
			}
			for _, k := range tt.kept {
				if !strings.Contains(out, k) {
					t.Errorf("Text(%q) = %q: lost %q", tt.in, out, k)
				}
			}
		})
	}
}

// FuzzText: whatever surrounds a signature or token, it does not survive.
func FuzzText(f *testing.F) {
	f.Add("a ", " b")
	f.Add(`{"error":"`, `"}`)
	f.Add("authorization: ", "\n")
	f.Fuzz(func(t *testing.T, before, after string) {
		const sig = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
		for _, form := range []string{"Signature=" + sig, "X-Security-Token: " + sig, "SDK-HMAC-SHA256 Access=a, Signature=" + sig} {
			in := before + " " + form + " " + after
			if out := Text(in); strings.Contains(out, sig) {
				t.Fatalf("Text(%q) = %q", in, out)
			}
		}
	})
}

func TestSecretNeverPrints(t *testing.T) {
	const v = "the-secret-value"
	s := NewSecret(v)
	type inner struct {
		Key    Secret
		hidden Secret
	}
	type outer struct {
		In  inner
		Ptr *inner
		in  inner
	}
	o := outer{In: inner{s, s}, Ptr: &inner{s, s}, in: inner{s, s}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		for _, x := range []any{s, &s, o, &o, []Secret{s}, map[string]Secret{"k": s}} {
			if out := fmt.Sprintf(verb, x); strings.Contains(out, v) || strings.Contains(out, fmt.Sprintf("%x", v)) {
				t.Errorf("%s of %T prints the secret: %s", verb, x, out)
			}
		}
	}
	b, _ := json.Marshal(o)
	if strings.Contains(string(b), v) {
		t.Errorf("JSON prints the secret: %s", b)
	}
	if s.Reveal() != v || !s.IsSet() || NewSecret("").IsSet() || (Secret{}).Reveal() != "" {
		t.Error("Reveal or IsSet broken")
	}
	var back Secret
	if err := json.Unmarshal([]byte(`"x1"`), &back); err != nil || back.Reveal() != "x1" {
		t.Errorf("UnmarshalJSON: %v %q", err, back.Reveal())
	}
}
