package huaweicloud

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCreatedIDs(t *testing.T) {
	tests := []struct {
		name, body string
		id, rid    string
		ok         bool
	}{
		{"v3 answer", `{"pool":{"id":"p-1","members":[{"id":"m-1"}],"healthmonitor":{"id":"h-1"}},"request_id":"r-1"}`, "p-1", "r-1", true},
		{"v2 answer, no request id", ` {"pool": {"lb_algorithm": "ROUND_ROBIN", "id": "p-2", "x": [1, -0.5e+3, true, null, {}]}} `, "p-2", "", true},
		{"escaped strings", `{"pool":{"name":"a\"b\\c\u00e9\n","id":"p\u002d3"},"request_id":"r\/1"}`, "p-3", "r/1", true},
		{"the last of repeated members", `{"pool":{"id":"a","id":"b"}}`, "b", "", true},
		{"ids elsewhere are not the pool's", `{"pools":[{"id":"x"}],"pool":{"listeners":[{"id":"l"}]},"x":{"request_id":"y"}}`, "", "", true},
		{"an id that is not a string", `{"pool":{"id":7},"request_id":["r"]}`, "", "", true},
		{"a pool that is not an object", `{"pool":"p"}`, "", "", true},
		{"top-level array", `[{"pool":{"id":"p"}}]`, "", "", true},
		{"empty", ``, "", "", false},
		{"trailing data", `{"pool":{"id":"p"}} {}`, "p", "", false},
		{"unterminated", `{"pool":{"id":"p"`, "p", "", false},
		{"bad escape", `{"pool":{"id":"\x"}}`, "", "", false},
		{"control character", "{\"pool\":{\"id\":\"a\tb\"}}", "", "", false},
		{"bad number", `{"n":01}`, "", "", false},
		{"bad literal", `{"n":tru}`, "", "", false},
		{"missing colon", `{"pool" {}}`, "", "", false},
		{"trailing comma", `{"a":1,}`, "", "", false},
		{"HTML error page", `<html><body>502</body></html>`, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, rid, ok := createdIDs([]byte(tt.body), "pool")
			if ok != tt.ok || ok && (id != tt.id || rid != tt.rid) {
				t.Errorf("createdIDs = %q, %q, %v; want %q, %q, %v", id, rid, ok, tt.id, tt.rid, tt.ok)
			}
			if ok != json.Valid([]byte(tt.body)) {
				t.Errorf("ok = %v, but json.Valid says %v", ok, !ok)
			}
		})
	}
}

// FuzzCreatedIDs holds createdIDs to encoding/json: the same verdict on whether an answer is
// JSON, and, where encoding/json decodes it into the old struct without error and no key
// could match only case-insensitively (which encoding/json allows), the same ids.
func FuzzCreatedIDs(f *testing.F) {
	for _, s := range []string{`{"pool":{"id":"p-1"},"request_id":"r"}`, `{"pool":{"id":"\u0070"}}`, `[1,{"a":[]}]`, `{"pool":null}`, `"x"`, `-1.5e3`, `{"a":{"b":{"c":[[[]]]}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, rid, ok := createdIDs(body, "pool")
		if ok != json.Valid(body) {
			t.Fatalf("ok = %v, json.Valid = %v", ok, !ok)
		}
		if !ok || strings.ContainsFunc(string(body), func(r rune) bool { return r >= 'A' && r <= 'Z' || r >= 0x80 }) {
			return
		}
		var b struct {
			Pool struct {
				ID string `json:"id"`
			} `json:"pool"`
			RequestID string `json:"request_id"`
		}
		if json.Unmarshal(body, &b) != nil {
			return
		}
		if id != b.Pool.ID || rid != b.RequestID {
			t.Fatalf("createdIDs = %q, %q; encoding/json reads %q, %q", id, rid, b.Pool.ID, b.RequestID)
		}
	})
}
