package catalog_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/lbfn/lbfn/shared/catalog"
)

// root is the repository root, two levels above this package.
const root = "../.."

// TestEveryOperationIsWired checks, for each function in the catalog, what is not generated
// from it: its Lambda main package, its resources in template.yaml as deploy/gen wrote them,
// and the Makefile's build-<LogicalId> rule finding its main package. (deploy/gen's test
// keeps the generated files, events/<function>/ among them, in step with the catalog.)
func TestEveryOperationIsWired(t *testing.T) {
	tpl := readTemplate(t)
	seen := map[string]bool{}
	var order []string
	for _, f := range catalog.Functions {
		o := f.Op
		name := o.Function()
		order = append(order, name)
		t.Run(name, func(t *testing.T) {
			if seen[name] {
				t.Fatalf("function %s listed twice", name)
			}
			seen[name] = true
			if !slices.Contains([]string{"jdcloud", "huaweicloud", "ctyun"}, o.Provider()) {
				t.Errorf("provider %q is not one of the README's three", o.Provider())
			}
			if f.Title == "" || f.Call == "" || f.Fields == "" {
				t.Errorf("Title, Call and Fields must describe the function (template.yaml and the README show them)")
			}
			if _, err := os.Stat(filepath.Join(root, "functions", name, "main.go")); err != nil {
				t.Errorf("functions/%s/main.go: %v", name, err)
			}
			id := catalog.LogicalName(name) + "Function"
			fn, ok := tpl.Resources[id]
			switch {
			case !ok:
				t.Errorf("template.yaml declares no %s (run go run ./deploy/gen -update)", id)
			case fn.Type != "AWS::Serverless::Function" || fn.Metadata.BuildMethod != "makefile" || fn.Metadata.Function != name:
				t.Errorf("template.yaml's %s is a %s with Metadata %+v, want an AWS::Serverless::Function built by make from functions/%s",
					id, fn.Type, fn.Metadata, name)
			case fn.Properties.Events["Queue"].Type != "SQS":
				t.Errorf("template.yaml's %s has no SQS event Queue", id)
			}
			var routes int
			for _, r := range tpl.Resources {
				if r.Type == "AWS::ApiGatewayV2::Route" && r.Properties.RouteKey == "POST /"+name {
					routes++
				}
			}
			if routes != 1 {
				t.Errorf("template.yaml has %d routes POST /%s, want 1", routes, name)
			}
			if got := makeBuilds(t, id); got != "./functions/"+name {
				t.Errorf("make build-%s builds %q, want ./functions/%s", id, got, name)
			}
			if got, ok := catalog.Lookup(name); !ok || got != o {
				t.Errorf("Lookup(%q) = %v, %v", name, got, ok)
			}
		})
	}
	if _, ok := catalog.Lookup("no-such-function"); ok {
		t.Error("Lookup found a function that does not exist")
	}
	if names := catalog.Names(); !slices.Equal(names, order) {
		t.Errorf("Names() = %v, want %v", names, order)
	}
	// Every functions/<name> main package (other than the GCP entry and chatops) is in the catalog.
	dirs, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if d.IsDir() && d.Name() != "gcp" && !seen[d.Name()] && d.Name() != "chatops" {
			t.Errorf("functions/%s is not in the catalog", d.Name())
		}
	}
}

func TestLogicalName(t *testing.T) {
	for name, want := range map[string]string{
		"huawei-create-pool":              "HuaweiCreatePool",
		"huawei-create-master-slave-pool": "HuaweiCreateMasterSlavePool",
		"ctyun-create-policy":             "CtyunCreatePolicy",
		"chatops":                         "Chatops",
	} {
		if got := catalog.LogicalName(name); got != want {
			t.Errorf("LogicalName(%q) = %q, want %q", name, got, want)
		}
	}
}

// template is the part of template.yaml these checks read.
type template struct {
	Resources map[string]struct {
		Type     string `yaml:"Type"`
		Metadata struct {
			BuildMethod string `yaml:"BuildMethod"`
			Function    string `yaml:"Function"`
		} `yaml:"Metadata"`
		Properties struct {
			Events map[string]struct {
				Type string `yaml:"Type"`
			} `yaml:"Events"`
			RouteKey string `yaml:"RouteKey"`
		} `yaml:"Properties"`
	} `yaml:"Resources"`
}

func readTemplate(t *testing.T) template {
	t.Helper()
	var tpl template
	if err := yaml.Unmarshal([]byte(read(t, "template.yaml")), &tpl); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return tpl
}

// makeBuilds returns the package `make build-<id>` (what sam build runs) builds, with a GO
// that only prints its arguments: the package is the last one.
func makeBuilds(t *testing.T, id string) string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	cmd := exec.Command("make", "-s", "build-"+id, "ARTIFACTS_DIR="+t.TempDir(), "GO=echo")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make build-%s: %v\n%s", id, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	words := strings.Fields(lines[len(lines)-1])
	if len(words) == 0 {
		return ""
	}
	return words[len(words)-1]
}

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
