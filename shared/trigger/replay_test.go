package trigger_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/trigger"
)

// TestSignedReplayCreatesNothingNew re-sends one signed request within its window with every
// unsigned header changed: the Idempotency-Key among them must not make a second creation.
func TestSignedReplayCreatesNothingNew(t *testing.T) {
	const secret = "replay-secret"
	now := time.Unix(1767225600, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	tests := []struct {
		name    string
		body    string
		wantKey string // "" means the request hash (sha256:...)
	}{
		{"key from the request hash", `{"name":"a"}`, ""},
		{"key from the body's idempotencyKey", `{"name":"a","idempotencyKey":"body-key"}`, "body-key"},
	}
	replays := []map[string]string{
		{},
		{"Idempotency-Key": "k-1"},
		{"Idempotency-Key": "k-2"},
		{"idempotency-key": "k-3", "Content-Type": "text/plain", "X-Forwarded-For": "203.0.113.9"},
	}
	for _, shape := range []string{"apigw", "furl", "net/http"} {
		for _, tt := range tests {
			t.Run(shape+" "+tt.name, func(t *testing.T) {
				o, client := newFakeOp()
				h := newHandler(o, trigger.Options{Logger: quietLogger(), WebhookSecret: redact.NewSecret(secret),
					Now: func() time.Time { return now }, Store: &op.MemoryStore{}})
				var first op.Result
				for i, extra := range replays {
					headers := map[string]string{"X-Lbfn-Timestamp": ts, "X-Lbfn-Signature": trigger.Signature(secret, ts, []byte(tt.body))}
					for k, v := range extra {
						headers[k] = v
					}
					status, _, body := httpCall(t, h, o, shape, tt.body, headers)
					var res op.Result
					if err := json.Unmarshal([]byte(body), &res); err != nil || status != 201 {
						t.Fatalf("replay %d: %d %s", i, status, body)
					}
					if i == 0 {
						first = res
					}
					if res.ID != first.ID || res.IdempotencyKey != first.IdempotencyKey {
						t.Errorf("replay %d answered %s/%s, the first %s/%s", i, res.ID, res.IdempotencyKey, first.ID, first.IdempotencyKey)
					}
					if strings.HasPrefix(res.IdempotencyKey, "k-") {
						t.Errorf("replay %d: key %q came from the unsigned header", i, res.IdempotencyKey)
					}
				}
				if n := client.calls.Load(); n != 1 {
					t.Errorf("%d creations from one signed request, want 1", n)
				}
				if tt.wantKey == "" && !strings.HasPrefix(first.IdempotencyKey, "sha256:") || tt.wantKey != "" && first.IdempotencyKey != tt.wantKey {
					t.Errorf("key %q, want %q", first.IdempotencyKey, tt.wantKey)
				}
			})
		}
	}
}

// TestUnsignedHeaderKeyStillUsed: without the webhook secret nothing is signed, and the
// Idempotency-Key header stays a source of the key, as documented.
func TestUnsignedHeaderKeyStillUsed(t *testing.T) {
	o, client := newFakeOp()
	h := newHandler(o, trigger.Options{Logger: quietLogger(), Store: &op.MemoryStore{}})
	for _, key := range []string{"k-1", "k-2"} {
		_, _, body := httpCall(t, h, o, "apigw", `{"name":"a"}`, map[string]string{"Idempotency-Key": key})
		if !strings.Contains(body, `"idempotencyKey":"`+key+`"`) {
			t.Errorf("key %s not used: %s", key, body)
		}
	}
	if n := client.calls.Load(); n != 2 {
		t.Errorf("%d creations for two keys", n)
	}
}

func TestLoadOptionsTTLCoversTheReplayWindow(t *testing.T) {
	tests := []struct {
		secret, ttl string
		ok          bool
	}{
		{"", "1m", true},
		{"w", "1h", true},
		{"w", "10m", true},
		{"w", "9m59s", false},
		{"w", "30s", false},
	}
	for _, tt := range tests {
		t.Setenv("LBFN_WEBHOOK_SECRET", tt.secret)
		t.Setenv("LBFN_IDEMPOTENCY_TTL", tt.ttl)
		_, err := trigger.LoadOptions()
		var e *op.Error
		if tt.ok && err != nil || !tt.ok && (!errors.As(err, &e) || e.Kind != op.KindConfig || !strings.Contains(e.Message, "LBFN_IDEMPOTENCY_TTL")) {
			t.Errorf("secret %q TTL %s: %v", tt.secret, tt.ttl, err)
		}
	}
}
