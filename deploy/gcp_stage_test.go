package deploy

import (
	"bytes"
	"context"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	texttemplate "text/template"
	"time"
)

// The Go buildpack of Google Cloud Functions (github.com/GoogleCloudPlatform/buildpacks,
// cmd/go/functions_framework: lib/lib.go BuildFn and converter/get_package/main.go) builds an
// uploaded source this way, and these tests reproduce each step on what deploy.sh stages:
//
//  1. It moves the upload into serverless_function_source_code and runs get_package on that
//     directory: go/parser.ParseDir with parser.ImportsOnly over every .go file there (test
//     files included, no build tags applied), which must yield exactly one package, or it
//     fails ("multiple packages in user code directory" / "unable to find Go package").
//  2. Without go.mod at the root it takes the GOPATH vendored path; go.mod must be writable;
//     with a vendor directory, vendor must hold the framework; without go.sum it runs
//     `go mod tidy` first.
//  3. `go list -m` is the module path, whose first element must contain a dot; the package
//     imported is the module's root package.
//  4. The framework's version comes from go.mod (else v1.9.2 is injected).
//  5. When the package imports .../functions-framework-go/functions, it writes the declarative
//     main (below), which imports the package blank and starts the framework; otherwise it
//     writes a main calling <package>.<FUNCTION_TARGET>, which lbfn's names ("ctyun-create-policy")
//     can never be.
//  6. It builds functions.local/app inside the source.

const (
	frameworkModule    = "github.com/GoogleCloudPlatform/functions-framework-go"
	frameworkFunctions = frameworkModule + "/functions"
	buildpackAppDir    = "functions.local/app"
)

// declarativeMain is the buildpack's mainTextTemplateDeclarative
// (cmd/go/functions_framework/lib/template_declarative.go, Apache License 2.0), comments
// shortened.
var declarativeMain = texttemplate.Must(texttemplate.New("main").Parse(`// Binary main file implements an HTTP server that loads and runs user's code.
package main

import (
	"log"
	"net/http"
	"os"

	// Blank import the function package to run the init(), which is where
	// declarative function signatures are expected to be registered.
	_ "{{.Package}}"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

func main() {
	// Don't invoke the function for reserved URLs.
	http.HandleFunc("/robots.txt", http.NotFound)
	http.HandleFunc("/favicon.ico", http.NotFound)

	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if err := funcframework.Start(port); err != nil {
		log.Fatalf("Function failed to start: %v\n", err)
	}
}
`))

// functionPackage is what get_package finds in dir: the one package's name and imports, or
// the buildpack's refusal.
func functionPackage(dir string) (name string, imports map[string]bool, err error) {
	pkgs, err := parser.ParseDir(token.NewFileSet(), dir, nil, parser.ImportsOnly) //nolint:staticcheck // the buildpack's own call
	if err != nil {
		return "", nil, fmt.Errorf("failed to parse source in %s: %v", dir, err)
	}
	for k := range pkgs {
		if name != "" && k != name {
			return "", nil, fmt.Errorf("multiple packages in user code directory: %s != %s", name, k)
		}
		name = k
	}
	if name == "" {
		return "", nil, fmt.Errorf("unable to find Go package in %s", dir)
	}
	imports = map[string]bool{}
	for _, f := range pkgs[name].Files {
		for _, im := range f.Imports {
			imports[strings.Trim(im.Path.Value, `"`)] = true
		}
	}
	return name, imports, nil
}

// goIn runs the go tool in dir, offline: the module cache the repository's tests use.
func goIn(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOPROXY=off", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// buildpackProblems checks source as the buildpack reads it (steps 1 to 5) and returns the
// package it would import, with every reason it would refuse the source.
func buildpackProblems(source string) (pkg string, problems []string) {
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	name, imports, err := functionPackage(source)
	if err != nil {
		return "", []string{err.Error()}
	}
	if name == "main" {
		fail("the root package is main: the generated main cannot import it")
	}
	if !imports[frameworkFunctions] {
		fail("the root package does not import %s: the buildpack would call %s.<FUNCTION_TARGET>", frameworkFunctions, name)
	}
	info, err := os.Stat(filepath.Join(source, "go.mod"))
	switch {
	case err != nil:
		fail("no go.mod at the root: the buildpack takes the GOPATH vendored path")
	case info.Mode().Perm()&0o200 == 0:
		fail("go.mod is not writable")
	}
	if _, err := os.Stat(filepath.Join(source, "go.sum")); err != nil {
		fail("no go.sum at the root: the buildpack would run go mod tidy on its own")
	}
	if _, err := os.Stat(filepath.Join(source, "vendor")); err == nil {
		fail("a vendor directory: the buildpack requires the framework vendored in it")
	}
	module, err := goIn(source, "list", "-m")
	if err != nil {
		return "", append(problems, "go list -m: "+module)
	}
	if first, _, _ := strings.Cut(module, "/"); !strings.Contains(first, ".") {
		fail("module path %s: its first element has no dot", module)
	}
	if v, err := goIn(source, "list", "-m", "-f", "{{.Version}}", frameworkModule); err != nil || v == "" {
		fail("go.mod does not require %s: the buildpack would inject its own version", frameworkModule)
	}
	return module, problems
}

// stage runs deploy.sh as a dry run, which stages the upload into a new directory.
func stage(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	dir := filepath.Join(t.TempDir(), "stage")
	cmd := exec.Command("bash", deployScript)
	cmd.Env = append(os.Environ(), "DRY_RUN=1", "PROJECT=lbfn-test", "STAGE_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("deploy.sh: %v\n%s", err, out)
	}
	return dir
}

// TestStagedSourceBuildpackChecks: the staged upload passes every check of the buildpack,
// and the checks refuse what the buildpack refuses: the repository's top level (no package)
// and functions/gcp (gcp and gcp_test in one directory).
func TestStagedSourceBuildpackChecks(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go tool is not on PATH")
	}
	source := stage(t)
	if pkg, problems := buildpackProblems(source); len(problems) > 0 || pkg != "github.com/lbfn/lbfn" {
		t.Errorf("the staged source is refused (imports %q): %q", pkg, problems)
	}
	_ = filepath.WalkDir(source, func(path string, d fs.DirEntry, err error) error {
		if err == nil && (strings.HasSuffix(path, "_test.go") || d.Name() == "testdata") {
			t.Errorf("the stage carries tests: %s", path)
		}
		return err
	})
	for dir, want := range map[string]string{
		repoRoot: "unable to find Go package",
		filepath.Join(repoRoot, "functions", "gcp"): "multiple packages in user code directory",
	} {
		if _, problems := buildpackProblems(dir); !containsFragment(problems, want) {
			t.Errorf("%s: want the buildpack's %q, got %q", dir, want, problems)
		}
	}
}

// TestStagedSourceBuildsAndServes goes on as the buildpack does (step 6): the declarative
// main in functions.local/app, built inside the staged source, and then started, as Cloud
// Run starts the image; every function answers at its name.
func TestStagedSourceBuildsAndServes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Cloud Functions app")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go tool is not on PATH")
	}
	source := stage(t)
	pkg, problems := buildpackProblems(source)
	if len(problems) > 0 {
		t.Fatalf("refused: %q", problems)
	}
	var main bytes.Buffer
	if err := declarativeMain.Execute(&main, map[string]string{"Package": pkg}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(source, buildpackAppDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(source, buildpackAppDir, "main.go"), main.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "app")
	if out, err := goIn(source, "build", "-o", bin, "./"+buildpackAppDir); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// The port is one the OS has just handed out.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{"PORT=" + port, "PATH=" + os.Getenv("PATH")} // no credentials: config failures
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	base := "http://127.0.0.1:" + port
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/robots.txt")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i == 3000 { // 30 s: a loaded machine is slow, but not that slow
			t.Fatalf("the app did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, fn := range functionNames {
		resp, err := http.Post(base+"/"+fn, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		resp.Body.Close()
		if !strings.Contains(body.String(), `"function":"`+fn+`"`) {
			t.Errorf("%s: answered %d %s, want its own result", fn, resp.StatusCode, body.String())
		}
	}
}
