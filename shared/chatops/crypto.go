package chatops

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
)

var errPadding = errors.New("bad padding")

// Pad appends PKCS#7 padding to b for the given block size (1..255).
func Pad(b []byte, block int) []byte {
	n := block - len(b)%block
	out := make([]byte, len(b), len(b)+n)
	copy(out, b)
	for i := 0; i < n; i++ {
		out = append(out, byte(n))
	}
	return out
}

// Unpad removes strict PKCS#7 padding: every pad byte must equal the pad length, which is
// 1..block, and b must be a whole number of blocks. A wrong key almost always fails here.
func Unpad(b []byte, block int) ([]byte, error) {
	if len(b) == 0 || len(b)%block != 0 {
		return nil, errPadding
	}
	n := int(b[len(b)-1])
	if n == 0 || n > block {
		return nil, errPadding
	}
	var bad byte
	for _, c := range b[len(b)-n:] {
		bad |= c ^ byte(n)
	}
	if bad != 0 {
		return nil, errPadding
	}
	return b[:len(b)-n], nil
}

// DecryptCBC decrypts ct with AES-CBC (the key length picks AES-128/192/256) and removes
// strict PKCS#7 padding of the given block size (Feishu 16, WeCom 32).
func DecryptCBC(key, iv, ct []byte, block int) ([]byte, error) {
	c, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(iv) != aes.BlockSize || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, errors.New("ciphertext is not whole AES blocks")
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(c, iv).CryptBlocks(pt, ct)
	return Unpad(pt, block)
}

// EncryptCBC pads pt with PKCS#7 of the given block size (a multiple of 16) and encrypts it
// with AES-CBC.
func EncryptCBC(key, iv, pt []byte, block int) ([]byte, error) {
	c, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(iv) != aes.BlockSize || block%aes.BlockSize != 0 {
		return nil, errors.New("bad IV or block size")
	}
	ct := Pad(pt, block)
	cipher.NewCBCEncrypter(c, iv).CryptBlocks(ct, ct)
	return ct, nil
}
