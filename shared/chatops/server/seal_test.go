package server

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/redact"
)

var testNow = time.Unix(1767225600, 0)

func testSealer() sealer {
	return newSealer(map[string]redact.Secret{"slack": redact.NewSecret("slack-signing-secret"), "feishu": redact.NewSecret("feishu-app-secret"), "wecom": {}})
}

func testTicket() ticket {
	return ticket{Platform: "slack", URL: "https://hooks.slack.com/commands/T1/2/abcdefSECRET", JobID: "slack:1.2.3",
		Function: "huawei-create-pool", Expires: testNow.Add(time.Hour).Unix()}
}

func TestSealOpensOnlyWhatItSealed(t *testing.T) {
	s := testSealer()
	token, err := s.seal(testTicket())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(token, "hooks.slack.com") || strings.Contains(token, "SECRET") {
		t.Fatalf("the reply address is readable in the token %q", token)
	}
	got, err := s.open(token, testNow)
	if err != nil || got != testTicket() {
		t.Fatalf("open = %+v, %v; want the ticket back", got, err)
	}
	again, _ := s.seal(testTicket())
	if again == token {
		t.Error("two seals of one ticket are equal: the nonce is not random")
	}

	_, data, _ := strings.Cut(token, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(data)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return "slack." + base64.RawURLEncoding.EncodeToString(b)
	}
	other := newSealer(map[string]redact.Secret{"slack": redact.NewSecret("another-deployment")})
	forFeishu := testTicket()
	forFeishu.Platform = "feishu"
	feishuToken, _ := s.seal(forFeishu)
	_, feishuData, _ := strings.Cut(feishuToken, ".")
	noJob := testTicket()
	noJob.JobID = ""
	noJobToken, _ := s.seal(noJob)

	tests := []struct {
		name  string
		token string
		now   time.Time
		s     sealer
	}{
		{"expired", token, testNow.Add(time.Hour), s},
		{"long expired", token, testNow.Add(48 * time.Hour), s},
		{"another deployment's key", token, testNow, other},
		{"nonce tampered", flip(0), testNow, s},
		{"ciphertext tampered", flip(len(raw) / 2), testNow, s},
		{"tag tampered", flip(len(raw) - 1), testNow, s},
		{"platform renamed", "feishu." + data, testNow, s},
		{"another platform's token renamed", "slack." + feishuData, testNow, s},
		{"unconfigured platform", "wecom." + data, testNow, s},
		{"no platform", data, testNow, s},
		{"truncated", token[:len(token)-10], testNow, s},
		{"not base64", "slack.!!!!", testNow, s},
		{"empty", "", testNow, s},
		{"too long", "slack." + strings.Repeat("A", maxToken), testNow, s},
		{"no job id", noJobToken, testNow, s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.s.open(tt.token, tt.now); err != errToken {
				t.Errorf("open = %+v, %v; want errToken", got, err)
			}
		})
	}
	if _, err := s.seal(ticket{Platform: "wecom", JobID: "wecom:1", Expires: testNow.Unix() + 1}); err == nil {
		t.Error("sealed for a platform without a secret")
	}
}

func FuzzOpen(f *testing.F) {
	s := testSealer()
	token, _ := s.seal(testTicket())
	f.Add(token)
	f.Add("slack.")
	f.Add("feishu.AAAA")
	f.Fuzz(func(t *testing.T, token string) {
		if tk, err := s.open(token, testNow); err == nil && (tk.Platform == "" || tk.JobID == "") {
			t.Errorf("opened an incomplete ticket %+v", tk)
		}
	})
}
