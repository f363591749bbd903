package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lbfn/lbfn/functions/gcp"
)

// TestEveryFunctionEverywhere keeps the deployments in step with the catalog: each create
// function has its Lambda main package, is registered for Google Cloud Functions, and is
// deployed by the Google script (the template's side is the checklist's).
func TestEveryFunctionEverywhere(t *testing.T) {
	var registered []string
	for _, o := range gcp.Operations {
		registered = append(registered, o.Function())
	}
	if !slices.Equal(registered, functionNames) {
		t.Errorf("functions/gcp registers %v, want the catalog's %v", registered, functionNames)
	}
	script, err := os.ReadFile(deployScript)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range functionNames {
		if _, err := os.Stat(filepath.Join(repoRoot, "functions", name, "main.go")); err != nil {
			t.Errorf("functions/%s/main.go: %v", name, err)
		}
		if !slices.Contains(splitWords(string(script)), name) {
			t.Errorf("deploy/gcp/deploy.sh does not deploy %s", name)
		}
	}
}

func splitWords(s string) []string {
	var words []string
	start := -1
	for i, r := range s + " " {
		word := r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			words = append(words, s[start:i])
			start = -1
		}
	}
	return words
}
