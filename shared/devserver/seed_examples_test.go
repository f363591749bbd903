package devserver_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/devserver"
)

// The providers' API pages live in ../shared, outside the repository.
var seedDir = filepath.Join("..", "..", "..", "shared", "seeds")

// seedRequest matches a Huawei page's request example line: the API's path, with the page's
// own project id in it, followed by the body.
var seedRequest = regexp.MustCompile(`POST https://\{[A-Za-z_]+\}/(v2|v3)/([a-z0-9]{32})/elb/(?:pools|master-slave-pools)`)

// seedFunctions are the function serving each path version.
var seedFunctions = map[string]string{"v2": "huawei-create-pool", "v3": "huawei-create-master-slave-pool"}

// publicMembers are the member addresses of the v3 page's example, public IPv4 addresses
// without a subnet_cidr_id, which the same page's rule refuses (shared/huaweicloud's
// TestSeedExamples); private ones stand in for them so that its project id can be tried.
var publicMembers = strings.NewReplacer(`"120.10.10.16"`, `"192.168.10.16"`, `"110.4.10.16"`, `"192.168.4.16"`)

// testSeedExamples posts the Huawei pages' own request examples, each with the project id of
// its page, to make run's functions: the emulator's demo credentials own any well-formed
// project, so each one is created in its own project.
func testSeedExamples(t *testing.T, srv *devserver.Server) {
	found := map[string]bool{}
	for _, page := range []string{"huaweicloud-elb-v2-create-pool.txt", "huaweicloud-elb-v3-create-master-slave-pool.txt"} {
		text, err := os.ReadFile(filepath.Join(seedDir, page))
		if err != nil {
			t.Skipf("the API page %s is absent (%v): it lives in ../shared, outside the repository", page, err)
		}
		for _, m := range seedRequest.FindAllSubmatchIndex(text, -1) {
			version, project := string(text[m[2]:m[3]]), string(text[m[4]:m[5]])
			var body struct {
				Pool json.RawMessage `json:"pool"`
			}
			if err := json.NewDecoder(bytes.NewReader(text[m[1]:])).Decode(&body); err != nil || body.Pool == nil {
				t.Fatalf("%s: the example after %q is not a pool body: %v", page, text[m[0]:m[1]], err)
			}
			found[project] = true
			pool := json.RawMessage(publicMembers.Replace(string(body.Pool)))
			request, _ := json.Marshal(map[string]any{"region": "cn-north-4", "projectId": project, "pool": pool})
			fn := seedFunctions[version]
			status, res := post(t, srv.URL+"/"+fn, request)
			if status != http.StatusCreated || res["status"] != "created" {
				t.Errorf("%s example in project %s: %d %v, want 201 created", fn, project, status, res)
				continue
			}
			created, _ := res["response"].(map[string]any)["pool"].(map[string]any)
			if created["project_id"] != project {
				t.Errorf("%s example: created in project %v, want its own %s", fn, created["project_id"], project)
			}
		}
	}
	for _, project := range []string{"601240b9c5c94059b63d484c92cfe308", "99a3fff0d03c428eac3678da6a7d0f24"} {
		if !found[project] {
			t.Errorf("no example of project %s found in the pages", project)
		}
	}
}
