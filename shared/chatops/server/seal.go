package server

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/redact"
)

// A reply token is what the create function's replyTo carries after /chatops/result/: the
// platform's name, a dot, and base64url(nonce | AES-256-GCM(ticket)). The platform's reply
// address is a bearer capability (whoever holds a Slack response_url may post into that
// channel), so it never travels in clear on a queue; the key is derived from the platform's
// own secret, so every instance of chatops can open what any other sealed, and a token sealed
// for one platform never opens as another's.

// keyLabel is the HMAC-SHA256 message that derives a platform's token key from its secret.
const keyLabel = "lbfn chatops reply v1"

// maxToken bounds a token read from a path: a ticket is a few hundred bytes.
const maxToken = 4096

// errToken is every failure to open a token: forged, tampered, for another platform or
// expired. Which one it was is not said to the caller.
var errToken = errors.New("chatops: reply token not valid")

// A ticket is what a reply token seals: where the result goes and for which job.
type ticket struct {
	Platform  string `json:"p"`
	URL       string `json:"u,omitempty"` // Slack response_url, DingTalk sessionWebhook, WeCom response_url
	MessageID string `json:"m,omitempty"` // Feishu: the message replied to
	// ReplyExpires is when the platform stops accepting the reply (Unix seconds, 0: not said).
	ReplyExpires int64  `json:"r,omitempty"`
	JobID        string `json:"j"`
	Function     string `json:"f"`
	// Expires is when the token stops opening (Unix seconds).
	Expires int64 `json:"e"`
}

// sealer seals and opens tickets with one AEAD per configured platform.
type sealer struct {
	aeads map[string]cipher.AEAD
}

// newSealer derives each platform's key from its secret; platforms with an empty secret get
// none, so their tokens neither seal nor open. The secret is revealed only here, to key the
// derivation; the AEAD is all that is kept.
func newSealer(secrets map[string]redact.Secret) sealer {
	s := sealer{aeads: map[string]cipher.AEAD{}}
	for platform, secret := range secrets {
		if !secret.IsSet() {
			continue
		}
		m := hmac.New(sha256.New, []byte(secret.Reveal()))
		m.Write([]byte(keyLabel))
		block, err := aes.NewCipher(m.Sum(nil)) // 32 bytes: AES-256
		if err != nil {
			panic("chatops: AES-256 refused a 32-byte key: " + err.Error())
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			panic("chatops: GCM: " + err.Error())
		}
		s.aeads[platform] = aead
	}
	return s
}

// additional binds a token to its platform and format version.
func additional(platform string) []byte { return []byte(keyLabel + "\x00" + platform) }

// seal returns the token of t.
func (s sealer) seal(t ticket) (string, error) {
	aead, ok := s.aeads[t.Platform]
	if !ok {
		return "", errors.New("chatops: no reply key for " + t.Platform)
	}
	plain, err := json.Marshal(t)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := aead.Seal(nonce, nonce, plain, additional(t.Platform))
	return t.Platform + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// open returns the ticket of token, if it was sealed by this deployment for the platform it
// names and has not expired at now.
func (s sealer) open(token string, now time.Time) (ticket, error) {
	if len(token) > maxToken {
		return ticket{}, errToken
	}
	platform, data, ok := strings.Cut(token, ".")
	aead, known := s.aeads[platform]
	if !ok || !known {
		return ticket{}, errToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(data)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return ticket{}, errToken
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], additional(platform))
	if err != nil {
		return ticket{}, errToken
	}
	var t ticket
	if json.Unmarshal(plain, &t) != nil || t.Platform != platform || t.JobID == "" || now.Unix() >= t.Expires {
		return ticket{}, errToken
	}
	return t, nil
}
