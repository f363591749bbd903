package main

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository root, seen from this package's directory.
const root = "../.."

// TestGeneratedFilesUpToDate fails when a file that follows shared/catalog (or
// template.yaml.tmpl, or a function's sample requests) is not what deploy/gen writes.
func TestGeneratedFilesUpToDate(t *testing.T) {
	files, err := generate(root, functions())
	if err != nil {
		t.Fatal(err)
	}
	stale, err := staleFiles(root, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range stale {
		t.Errorf("%s is stale: run go run ./deploy/gen -update", f.path)
	}
}

func TestReplaceRegion(t *testing.T) {
	tests := []struct {
		name, src, body, want, err string
	}{
		{"replaced", "a\n# BEGIN GENERATED x: why\nold\nold\n# END GENERATED x\nb\n", "new\n", "a\n# BEGIN GENERATED x: why\nnew\n# END GENERATED x\nb\n", ""},
		{"emptied", "<!-- BEGIN GENERATED x -->\nold\n<!-- END GENERATED x -->\n", "", "<!-- BEGIN GENERATED x -->\n<!-- END GENERATED x -->\n", ""},
		{"filled", "# BEGIN GENERATED x\n# END GENERATED x", "new\n", "# BEGIN GENERATED x\nnew\n# END GENERATED x", ""},
		{"another region left alone", "# BEGIN GENERATED xy\nkeep\n# END GENERATED xy\n# BEGIN GENERATED x\n# END GENERATED x\n", "new\n",
			"# BEGIN GENERATED xy\nkeep\n# END GENERATED xy\n# BEGIN GENERATED x\nnew\n# END GENERATED x\n", ""},
		{"no begin", "a\n# END GENERATED x\n", "new\n", "", "where does region x go"},
		{"no end", "# BEGIN GENERATED x\nold\n", "new\n", "", "has no \"END GENERATED x\" line"},
		{"end first", "# END GENERATED x\n# BEGIN GENERATED x\n", "new\n", "", "ends (line 1) before it begins (line 2)"},
		{"twice", "# BEGIN GENERATED x\n# END GENERATED x\n# BEGIN GENERATED x\n# END GENERATED x\n", "new\n", "", "begins twice"},
		{"body not a line", "# BEGIN GENERATED x\n# END GENERATED x\n", "new", "", "does not end a line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := replaceRegion([]byte(tt.src), "x", tt.body)
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want one containing %q", err, tt.err)
			case tt.err == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.err == "" && string(got) != tt.want:
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestSampleEventsCarryTheRequests decodes every envelope written for a made-up function and
// finds its requests in it exactly as written (key order, HTML characters, non-ASCII text).
func TestSampleEventsCarryTheRequests(t *testing.T) {
	dir := t.TempDir()
	const first = `{"name":"a <b> & c","nested":{"z":1,"a":[true,null]},"text":"负载均衡"}`
	const second = `{"name":"second"}`
	writeSamples(t, dir, "fake-create-thing", "{\n  \"name\": \"a <b> & c\",\n  \"nested\": {\"z\": 1, \"a\": [true, null]},\n  \"text\": \"负载均衡\"\n}\n", second)
	files, err := sampleEvents(dir, "fake-create-thing")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for _, f := range files {
		got[strings.TrimPrefix(f.path, "events/fake-create-thing/")] = f.content
	}
	var sqs struct {
		Records []struct{ MessageID, Body, MD5OfBody, EventSourceARN string }
	}
	decode(t, got["sqs.json"], &sqs)
	if len(sqs.Records) != 2 || sqs.Records[0].Body != first || sqs.Records[1].Body != second || sqs.Records[0].MessageID == sqs.Records[1].MessageID {
		t.Errorf("sqs.json records %+v", sqs.Records)
	}
	for _, r := range sqs.Records {
		if sum := md5.Sum([]byte(r.Body)); r.MD5OfBody != hex.EncodeToString(sum[:]) {
			t.Errorf("sqs.json md5OfBody %s does not match its body", r.MD5OfBody)
		}
	}
	var sns struct {
		Records []struct{ Sns struct{ Message string } }
	}
	decode(t, got["sns.json"], &sns)
	if len(sns.Records) != 1 || sns.Records[0].Sns.Message != first {
		t.Errorf("sns.json %+v", sns.Records)
	}
	var http struct {
		RouteKey        string
		Body            string
		IsBase64Encoded bool
	}
	decode(t, got["http.json"], &http)
	if http.Body != first || http.IsBase64Encoded || http.RouteKey != "POST /fake-create-thing" {
		t.Errorf("http.json %+v", http)
	}
	decode(t, got["http-base64.json"], &http)
	if b, err := base64.StdEncoding.DecodeString(http.Body); err != nil || string(b) != second || !http.IsBase64Encoded {
		t.Errorf("http-base64.json %+v (%s, %v)", http, b, err)
	}
	var eb struct {
		DetailType string `json:"detail-type"`
		Detail     json.RawMessage
	}
	decode(t, got["eventbridge.json"], &eb)
	if compact(t, eb.Detail) != first || eb.DetailType != "lbfn fake-create-thing" {
		t.Errorf("eventbridge.json detail %s, detail-type %q", eb.Detail, eb.DetailType)
	}
	if want := strings.TrimSuffix(first, "}") + `,"dryRun":true}`; compact(t, got["dry-run.json"]) != want {
		t.Errorf("dry-run.json %s, want %s", got["dry-run.json"], want)
	}
	if !bytes.Contains(got["sns.json"], []byte("a <b> & c")) || !bytes.Contains(got["sns.json"], []byte("负载均衡")) {
		t.Errorf("sns.json escapes the request's text:\n%s", got["sns.json"])
	}
}

func TestSampleEventsNeedBothRequests(t *testing.T) {
	dir := t.TempDir()
	writeSamples(t, dir, "fake-create-thing", `{"a":1}`, "")
	if _, err := sampleEvents(dir, "fake-create-thing"); err == nil || !strings.Contains(err.Error(), "second.json") {
		t.Errorf("error %v, want one naming second.json", err)
	}
	writeSamples(t, dir, "fake-create-thing", `["not an object"]`, `{}`)
	if _, err := sampleEvents(dir, "fake-create-thing"); err == nil || !strings.Contains(err.Error(), "direct.json: not a JSON object") {
		t.Errorf("error %v, want direct.json refused", err)
	}
}

// TestGenerateFollowsTheCatalog generates for the catalog plus one made-up function, in a copy
// of the hand-written files: the function appears in every generated file.
func TestGenerateFollowsTheCatalog(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"template.yaml", "deploy/gcp/deploy.sh", "README.md", "events/README.md"} {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, p), string(b))
	}
	fns := functions()
	for _, fn := range fns {
		for _, name := range []string{"direct.json", "second.json"} {
			b, err := os.ReadFile(filepath.Join(root, "events", fn.Name, name))
			if err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "events", fn.Name, name), string(b))
		}
	}
	fake := function{Name: "huawei-create-thing", ID: "HuaweiCreateThing", Title: "Huawei ELB create thing",
		Call: "Huawei ELB `POST /things`", Fields: "`thing`", provider: providers["huaweicloud"]}
	writeSamples(t, dir, fake.Name, `{"thing":{}}`, `{"thing":{"name":"2"}}`)
	files, err := generate(dir, append(fns, fake))
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]string{}
	for _, f := range files {
		byPath[f.path] = string(f.content)
	}
	for path, wants := range map[string][]string{
		"template.yaml": {"  HuaweiCreateThingFunction:\n", "      Function: huawei-create-thing\n", "      RouteKey: POST /huawei-create-thing\n",
			"          LBFN_QUEUE_URL_HUAWEI_CREATE_THING: !Ref HuaweiCreateThingQueue\n", "                - !GetAtt HuaweiCreateThingQueue.Arn\n",
			"  HuaweiCreateThingFailureQueueUrl:\n", "  CtyunCreatePolicyStateMachine:\n"},
		"deploy/gcp/deploy.sh":                    {"  ctyun-create-policy\n  huawei-create-thing\n  # END GENERATED functions\n)"},
		"README.md":                               {"| `huawei-create-thing` | Huawei ELB `POST /things` | `thing` |\n"},
		"events/huawei-create-thing/sqs.json":     {`"body": "{\"thing\":{\"name\":\"2\"}}"`},
		"events/huawei-create-thing/http.json":    {`"routeKey": "POST /huawei-create-thing"`},
		"events/ctyun-create-policy/sns.json":     {`lbfn-ctyun-create-policy`},
		"events/huawei-create-thing/dry-run.json": {`"dryRun": true`},
	} {
		for _, want := range wants {
			if !strings.Contains(byPath[path], want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
	}
	if _, err := generate(dir, append(fns, function{Name: "nowhere-create-thing"})); err == nil || !strings.Contains(err.Error(), "no provider settings") {
		t.Errorf("a function of an unknown provider: error %v", err)
	}
}

func writeSamples(t *testing.T, dir, fn, first, second string) {
	t.Helper()
	write(t, filepath.Join(dir, "events", fn, "direct.json"), first)
	p := filepath.Join(dir, "events", fn, "second.json")
	if second == "" {
		os.Remove(p)
		return
	}
	write(t, p, second)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v:\n%s", err, b)
	}
}

func compact(t *testing.T, b []byte) string {
	t.Helper()
	var c bytes.Buffer
	if err := json.Compact(&c, b); err != nil {
		t.Fatal(err)
	}
	return c.String()
}
