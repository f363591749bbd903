package emulator_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/emulator"
)

// The API pages live in ../shared, outside the repository.
var seedDir = filepath.Join("..", "..", "..", "shared", "seeds")

func readSeed(t *testing.T, page string) []byte {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(seedDir, page))
	if err != nil {
		t.Skipf("the API page %s is absent (%v): it lives in ../shared, outside the repository", page, err)
	}
	return text
}

// jsonAfter returns the first JSON value after each match of marker in text, once per value.
func jsonAfter(t *testing.T, text []byte, marker *regexp.Regexp) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	seen := map[int]bool{}
	for _, m := range marker.FindAllIndex(text, -1) {
		start := bytes.IndexByte(text[m[1]:], '{')
		if start < 0 || seen[m[1]+start] {
			continue
		}
		seen[m[1]+start] = true
		var v json.RawMessage
		if err := json.NewDecoder(bytes.NewReader(text[m[1]+start:])).Decode(&v); err != nil {
			t.Fatalf("the example after %q is not JSON: %v", text[m[0]:m[1]], err)
		}
		out = append(out, v)
	}
	return out
}

// missingKeys lists the members of the documented answer doc (objects, and the first item of
// arrays, recursively) that got lacks, as JSON paths.
func missingKeys(path string, doc, got any) []string {
	var out []string
	switch d := doc.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{path + " (not an object)"}
		}
		for k, dv := range d {
			gv, ok := g[k]
			if !ok {
				out = append(out, strings.TrimPrefix(path+"."+k, "."))
				continue
			}
			out = append(out, missingKeys(path+"."+k, dv, gv)...)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{path + " (not an array)"}
		}
		if len(d) > 0 && len(g) > 0 {
			out = append(out, missingKeys(path+"[0]", d[0], g[0])...)
		}
	}
	sort.Strings(out)
	return out
}

var (
	seedRequest  = regexp.MustCompile(`POST https://\{[A-Za-z_]+\}/[^\s{]+`)
	seedResponse = regexp.MustCompile(`响应样例[0-9]+|响应示例`)
)

// TestHuaweiSeedAnswers sends each API page's request examples to the emulator and checks the
// answer against the page's response example: 201, every documented member present, and
// request_id in the body of the v3 answer only.
func TestHuaweiSeedAnswers(t *testing.T) {
	pages := []struct {
		api, page string
		// fix makes the request example valid where the page breaks its own rule.
		fix func(string) string
	}{
		{"v2", "huaweicloud-elb-v2-create-pool.txt", nil},
		{"v2.0", "huaweicloud-elb-v2.0-lbaas-create-pool.md", nil},
		// The v3 example's members have public addresses, which its own rule forbids
		// without a subnet_cidr_id; the answer example shows private ones.
		{"v3", "huaweicloud-elb-v3-create-master-slave-pool.txt", func(s string) string {
			return strings.NewReplacer("120.10.10.16", "172.16.0.210", "110.4.10.16", "172.16.0.211").Replace(s)
		}},
	}
	srv := httptest.NewServer(emulator.New(emulator.Options{}))
	defer srv.Close()
	for _, p := range pages {
		t.Run(p.api, func(t *testing.T) {
			text := readSeed(t, p.page)
			requests, responses := jsonAfter(t, text, seedRequest), jsonAfter(t, text, seedResponse)
			if len(requests) == 0 || len(requests) != len(responses) {
				t.Fatalf("%d request and %d response examples", len(requests), len(responses))
			}
			for i, req := range requests {
				body := string(req)
				if p.fix != nil {
					body = p.fix(body)
				}
				status, _, got := hwDo(t, srv, hwCall{method: "POST", path: hwPaths[p.api], body: body})
				if status != 201 {
					t.Fatalf("example %d: status %d, want 201: %v", i+1, status, got)
				}
				var doc map[string]any
				if err := json.Unmarshal(responses[i], &doc); err != nil {
					t.Fatal(err)
				}
				if miss := missingKeys("", doc, got); len(miss) > 0 {
					t.Errorf("example %d: the answer lacks documented members %v\nanswer %v", i+1, miss, got)
				}
				if _, has := got["request_id"]; has != (p.api == "v3") {
					t.Errorf("example %d: request_id in the body is %v, want it only on v3", i+1, has)
				}
			}
		})
	}
}

// TestCTyunSeedAnswer sends the API page's request example and checks the first answer against
// the page's response example: the same envelope, member for member, in_progress with a null
// policyID.
func TestCTyunSeedAnswer(t *testing.T) {
	text := readSeed(t, "ctyun-elb-async-create-policy.txt")
	requests := jsonAfter(t, text, regexp.MustCompile(`请求体body\s`))
	responses := jsonAfter(t, text, regexp.MustCompile(`响应示例`))
	if len(requests) != 1 || len(responses) != 1 {
		t.Fatalf("%d request and %d response examples, want 1 each", len(requests), len(responses))
	}
	_, url := ctyunServer(t, emulator.Options{})
	status, body := ctyunPost(t, url, string(requests[0]), demoSigner(), nil)
	var got, doc map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil || status != 200 {
		t.Fatalf("status %d, body %s", status, body)
	}
	if err := json.Unmarshal(responses[0], &doc); err != nil {
		t.Fatal(err)
	}
	// The whole envelope is as documented; only the progress message's punctuation may differ.
	gotObj, _ := got["returnObj"].(map[string]any)
	docObj, _ := doc["returnObj"].(map[string]any)
	if gotObj == nil || docObj == nil {
		t.Fatalf("returnObj: got %v, documented %v", got["returnObj"], doc["returnObj"])
	}
	delete(gotObj, "message")
	delete(docObj, "message")
	gotJSON, _ := json.Marshal(got)
	docJSON, _ := json.Marshal(doc)
	if !bytes.Equal(gotJSON, docJSON) {
		t.Errorf("first answer\n%s\nwant the documented\n%s", gotJSON, docJSON)
	}
	if v, ok := gotObj["policyID"]; !ok || v != nil {
		t.Errorf("policyID is %v (present %v), want null while in progress", v, ok)
	}
}
