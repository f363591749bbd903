package huaweicloud_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// seedDir holds the provider's API pages, outside the repository (../shared from its root).
var seedDir = filepath.Join("..", "..", "..", "shared", "seeds")

// seedExample is one request example of an API page: the path it is POSTed to and its body.
type seedExample struct {
	path string
	body json.RawMessage
}

var seedPOST = regexp.MustCompile(`POST https://\{[A-Za-z_]+\}(/[^\s{]+)`)

// seedExamples returns every "POST https://{Endpoint}/path" of page with the JSON value that
// follows it, or skips the test when the pages are absent.
func seedExamples(t *testing.T, page string) []seedExample {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(seedDir, page))
	if err != nil {
		t.Skipf("the API page %s is absent (%v): it lives in ../shared, outside the repository", page, err)
	}
	var out []seedExample
	for _, m := range seedPOST.FindAllSubmatchIndex(text, -1) {
		rest := text[m[1]:]
		start := bytes.IndexByte(rest, '{')
		if start < 0 {
			t.Fatalf("%s: no JSON body after %s", page, text[m[0]:m[1]])
		}
		var body json.RawMessage
		if err := json.NewDecoder(bytes.NewReader(rest[start:])).Decode(&body); err != nil {
			t.Fatalf("%s: the example after %s is not JSON: %v", page, text[m[0]:m[1]], err)
		}
		out = append(out, seedExample{path: string(text[m[2]:m[3]]), body: body})
	}
	return out
}

// asRequest turns an example body {"pool": {...}} into the function's request: the region and
// the project of the example's path around the page's own pool object.
func asRequest(t *testing.T, ex seedExample) []byte {
	t.Helper()
	var body map[string]json.RawMessage
	if err := json.Unmarshal(ex.body, &body); err != nil {
		t.Fatal(err)
	}
	req := map[string]json.RawMessage{"region": json.RawMessage(`"cn-north-4"`), "pool": body["pool"]}
	if len(body) != 1 || body["pool"] == nil {
		t.Fatalf("example body %s is not {\"pool\": {...}}", ex.body)
	}
	if parts := strings.Split(ex.path, "/"); len(parts) > 2 && projectIDPattern.MatchString(parts[2]) {
		req["projectId"], _ = json.Marshal(parts[2])
	}
	raw, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

var projectIDPattern = regexp.MustCompile(`^[a-z0-9]{32}$`)

// TestSeedExamples runs every request example of the three API pages through the operation's
// Decode: a user must be able to paste them. The one exception is the v3 page's example, whose
// members have public addresses with no subnet_cidr_id: the page's own rule (a private IPv4
// then) wins, and both members are refused at their address.
func TestSeedExamples(t *testing.T) {
	pages := []struct {
		page, api, path string
		count           int
		want            [][]string // violation fields per example; nil: valid
	}{
		{"huaweicloud-elb-v2-create-pool.txt", v2, "/elb/pools", 3, [][]string{nil, nil, nil}},
		{"huaweicloud-elb-v2.0-lbaas-create-pool.md", lbaas, "/v2.0/lbaas/pools", 3, [][]string{nil, nil, nil}},
		{"huaweicloud-elb-v3-create-master-slave-pool.txt", v3, "/elb/master-slave-pools", 1,
			[][]string{{"pool.members[0].address", "pool.members[1].address"}}},
	}
	for _, p := range pages {
		t.Run(p.api, func(t *testing.T) {
			examples := seedExamples(t, p.page)
			if len(examples) != p.count {
				t.Fatalf("%s: found %d request examples, want %d", p.page, len(examples), p.count)
			}
			for i, ex := range examples {
				if !strings.HasSuffix(ex.path, p.path) {
					t.Errorf("example %d is POSTed to %s, not the %s API", i+1, ex.path, p.api)
				}
				raw := asRequest(t, ex)
				if got := violationFields(t, ops[p.api], raw); !slices.Equal(got, p.want[i]) {
					t.Errorf("example %d %s\nviolations %v, want %v", i+1, raw, got, p.want[i])
				}
			}
		})
	}
}
