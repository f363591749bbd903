package wecom

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sort"
	"strings"

	"github.com/lbfn/lbfn/shared/chatops"
)

// WeCom's message crypto (its official WXBizMsgCrypt samples): AES-256-CBC with
// key = base64(EncodingAESKey + "="), IV = key[:16], PKCS#7 padding to 32 bytes, over
// random(16) | len(msg) as 4 bytes big-endian | msg | receiveid. It is written here rather
// than taken from a library because the well-known Go one refuses the empty receiveid every
// smart robot uses.

// blockSize is WeCom's PKCS#7 block: 32, not AES's 16.
const blockSize = 32

// aesKey decodes an EncodingAESKey (43 characters) into the 32-byte AES key.
func aesKey(encodingAESKey string) ([]byte, error) {
	if len(encodingAESKey) != 43 {
		return nil, errors.New("EncodingAESKey must be 43 characters")
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("EncodingAESKey is not base64 of 32 bytes")
	}
	return key, nil
}

// signature is msg_signature: hex SHA-1 of the byte-wise sorted, concatenated parts.
func signature(token, timestamp, nonce, encrypted string) string {
	parts := []string{token, timestamp, nonce, encrypted}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// signatureOK compares in constant time, case-insensitively for the hex.
func signatureOK(got, token, timestamp, nonce, encrypted string) bool {
	want := signature(token, timestamp, nonce, encrypted)
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

// decrypt opens a base64 ciphertext and returns the message and the receiveid after it.
func decrypt(key []byte, encrypted string) (msg []byte, receiveID string, err error) {
	ct, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		return nil, "", errors.New("not base64")
	}
	plain, err := chatops.DecryptCBC(key, key[:16], ct, blockSize)
	if err != nil {
		return nil, "", err
	}
	if len(plain) < 20 {
		return nil, "", errors.New("plaintext too short")
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	rest := plain[20:]
	if uint64(n) > uint64(len(rest)) {
		return nil, "", errors.New("message length beyond the plaintext")
	}
	return rest[:n], string(rest[n:]), nil
}

// encrypt seals msg with receiveID into a base64 ciphertext, with 16 fresh random bytes.
func encrypt(key, msg []byte, receiveID string) (string, error) {
	plain := make([]byte, 20, 20+len(msg)+len(receiveID))
	if _, err := rand.Read(plain[:16]); err != nil {
		return "", err
	}
	binary.BigEndian.PutUint32(plain[16:20], uint32(len(msg)))
	plain = append(append(plain, msg...), receiveID...)
	ct, err := chatops.EncryptCBC(key, key[:16], plain, blockSize)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}
