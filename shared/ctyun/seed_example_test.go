package ctyun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/lbfn/lbfn/shared/ctyun"
)

// TestSeedExample runs the async-create-policy page's request example through Decode: a user
// must be able to paste it. The page lives in ../shared, outside the repository.
func TestSeedExample(t *testing.T) {
	page := filepath.Join("..", "..", "..", "shared", "seeds", "ctyun-elb-async-create-policy.txt")
	text, err := os.ReadFile(page)
	if err != nil {
		t.Skipf("the API page is absent (%v): it lives in ../shared, outside the repository", err)
	}
	const marker = "请求体body\n"
	at := bytes.Index(text, []byte(marker))
	if at < 0 {
		t.Fatalf("%s has no %q example", page, marker)
	}
	var example json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(text[at+len(marker):])).Decode(&example); err != nil {
		t.Fatalf("the request example is not JSON: %v", err)
	}
	req, err := ctyun.CreatePolicy.Decode(context.Background(), example)
	if err != nil {
		t.Fatalf("the page's example %s is refused: %v", example, err)
	}
	// Every member of the example is a documented field, kept as written.
	again, _ := json.Marshal(&req.(*ctyun.CreatePolicyRequest).PolicyBody)
	var want, got any
	_ = json.Unmarshal(example, &want)
	_ = json.Unmarshal(again, &got)
	wantJSON, _ := json.Marshal(want)
	gotJSON, _ := json.Marshal(got)
	if !bytes.Equal(wantJSON, gotJSON) {
		t.Errorf("wire body\n%s\nwant the example's\n%s", gotJSON, wantJSON)
	}
}
