package deploy

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// TestBuild runs what `sam build` runs, make build-<LogicalId> for every function in
// template.yaml, and `make build`, then checks that each function got its own arm64 Linux
// binary (SAM's shared-CodeUri trap would give every function the same one), the same from
// both routes, and a zip Lambda can run.
// maxBootstrapBytes is the size budget of one function's stripped arm64 bootstrap.
const maxBootstrapBytes = 10 << 20

// builtFunctions are every Lambda function of the template: the create functions and chatops.
var builtFunctions = append(slices.Clone(functionNames), "chatops")

func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds five arm64 binaries twice; skipped with -short")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	for _, name := range builtFunctions {
		if _, err := os.Stat(filepath.Join(repoRoot, "functions", name, "main.go")); err != nil {
			t.Skipf("functions/%s/main.go is absent: nothing to build yet", name)
		}
	}
	tpl := loadTemplate(t, filepath.Join(repoRoot, "template.yaml"))
	out := t.TempDir()

	byHash := map[string]string{}
	samBinaries := map[string][]byte{}
	for _, name := range builtFunctions {
		id := logicalID(name)
		if tpl.resource(id)["Type"] != "AWS::Serverless::Function" {
			t.Fatalf("%s is not in template.yaml", id)
		}
		artifacts := filepath.Join(out, "sam", id)
		if err := os.MkdirAll(artifacts, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("make", "-s", "build-"+id, "ARTIFACTS_DIR="+artifacts)
		cmd.Dir = repoRoot
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make build-%s: %v\n%s", id, err, b)
		}
		bin := readBootstrap(t, filepath.Join(artifacts, "bootstrap"))
		// A size budget, not a timing: cold start grows with what a binary links, and the
		// emulator or a heavy SDK creeping in shows here first.
		t.Logf("%s: arm64 bootstrap %d bytes", name, len(bin))
		if len(bin) > maxBootstrapBytes {
			t.Errorf("%s: bootstrap is %d bytes, over the %d budget", name, len(bin), maxBootstrapBytes)
		}
		sum := sha256.Sum256(bin)
		h := hex.EncodeToString(sum[:])
		if other, dup := byHash[h]; dup {
			t.Errorf("build-%s wrote the same binary as %s", id, other)
		}
		byHash[h] = id
		samBinaries[name] = bin
	}

	buildDir := filepath.Join(out, "build")
	cmd := exec.Command("make", "-s", "build", "BUILD_DIR="+buildDir)
	cmd.Dir = repoRoot
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, b)
	}
	for _, name := range builtFunctions {
		bin := readBootstrap(t, filepath.Join(buildDir, name, "bootstrap"))
		if !bytes.Equal(bin, samBinaries[name]) {
			t.Errorf("%s: make build and make build-%s disagree (flags differ?)", name, logicalID(name))
		}
		zipped := readZippedBootstrap(t, filepath.Join(buildDir, name+".zip"))
		if !bytes.Equal(zipped, bin) {
			t.Errorf("%s.zip does not hold build/%s/bootstrap", name, name)
		}
	}
}

// readBootstrap reads a bootstrap and checks it is a static arm64 Linux executable.
func readBootstrap(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: not an ELF binary: %v", path, err)
	}
	if f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC {
		t.Errorf("%s: machine %v type %v, want an arm64 executable", path, f.Machine, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s: dynamically linked (CGO_ENABLED=0 missing?)", path)
		}
	}
	if f.Section(".symtab") != nil {
		t.Errorf("%s: not stripped (-ldflags \"-s -w\" missing?)", path)
	}
	return b
}

// readZippedBootstrap checks a deployment zip holds exactly an executable "bootstrap".
func readZippedBootstrap(t *testing.T, path string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		t.Fatalf("%s: want exactly one entry named bootstrap", path)
	}
	if zr.File[0].Mode()&0o111 == 0 {
		t.Errorf("%s: bootstrap is not executable (mode %v)", path, zr.File[0].Mode())
	}
	r, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
