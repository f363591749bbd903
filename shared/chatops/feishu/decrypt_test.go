package feishu

import (
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/redact"
)

// The vector of Feishu's official Go SDK (larksuite/oapi-sdk-go): strict PKCS#7 gives exactly
// "hello world"; the SDK's own brace trim would leave five 0x05 bytes behind.
func TestDecryptOfficialVector(t *testing.T) {
	const encrypted = "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="
	p := New(Config{EncryptKey: redact.NewSecret("test key")}).(*platform)
	got, err := p.decrypt(encrypted)
	if err != nil || string(got) != "hello world" {
		t.Fatalf("decrypt = %q, %v; want \"hello world\"", got, err)
	}
	wrong := New(Config{EncryptKey: redact.NewSecret("test kez")}).(*platform)
	if got, err := wrong.decrypt(encrypted); err == nil {
		t.Errorf("wrong key decrypted to %q", got)
	}
	for _, bad := range []string{"", "!!!", "P37w+VZImNgPEO1RBhJ6Rg==", strings.Repeat("A", 44)} {
		if got, err := p.decrypt(bad); err == nil {
			t.Errorf("decrypt(%q) = %q, want an error", bad, got)
		}
	}
}
