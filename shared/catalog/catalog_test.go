package catalog_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/shared/catalog"
)

// root is the repository root, two levels above this package.
const root = "../.."

// TestEveryOperationIsWired checks, for each operation in the catalog, the places a new
// operation must appear: its Lambda main package, its sample events, the SAM template and the
// Makefile's function list. It names what is missing, so adding an operation is guided.
func TestEveryOperationIsWired(t *testing.T) {
	template := read(t, "template.yaml")
	makefile := read(t, "Makefile")
	seen := map[string]bool{}
	for _, o := range catalog.Operations {
		name := o.Function()
		t.Run(name, func(t *testing.T) {
			if seen[name] {
				t.Fatalf("function %s listed twice", name)
			}
			seen[name] = true
			if !slices.Contains([]string{"jdcloud", "huaweicloud", "ctyun"}, o.Provider()) {
				t.Errorf("provider %q is not one of the README's three", o.Provider())
			}
			if _, err := os.Stat(filepath.Join(root, "functions", name, "main.go")); err != nil {
				t.Errorf("functions/%s/main.go: %v", name, err)
			}
			for _, ev := range []string{"direct.json", "sqs.json", "http.json", "sns.json", "eventbridge.json"} {
				if _, err := os.Stat(filepath.Join(root, "events", name, ev)); err != nil {
					t.Errorf("events/%s/%s: %v", name, ev, err)
				}
			}
			if !strings.Contains(template, name) {
				t.Errorf("template.yaml does not mention %s", name)
			}
			if !strings.Contains(makefile, name) {
				t.Errorf("Makefile does not list %s", name)
			}
			if got, ok := catalog.Lookup(name); !ok || got != o {
				t.Errorf("Lookup(%q) = %v, %v", name, got, ok)
			}
		})
	}
	if _, ok := catalog.Lookup("no-such-function"); ok {
		t.Error("Lookup found a function that does not exist")
	}
	// Every functions/<name> main package (other than the GCP entry) is in the catalog.
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

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
