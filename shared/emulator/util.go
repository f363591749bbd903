package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
)

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newID returns a random UUID-shaped id, with prefix and a dash when prefix is set.
func newID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	id := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	if prefix != "" {
		return prefix + "-" + id
	}
	return id
}

// providerState returns the state of provider, creating it with init on first use. Callers
// hold no lock; the state's own methods must lock e.mu or their own mutex.
func providerState[T any](e *Emulator, provider string, init func() *T) *T {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.state[provider]; ok {
		return s.(*T)
	}
	s := init()
	e.state[provider] = s
	return s
}
