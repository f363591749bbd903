package main

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/lbfn/lbfn/shared/catalog"
)

// A function is what the generated files say of one catalog function.
type function struct {
	Name   string // "huawei-create-pool"
	ID     string // the template's logical ids start with it: "HuaweiCreatePool"
	Title  string // "Huawei ELB v2 create pool"
	Call   string // the README's "provider call" (Markdown)
	Fields string // the README's "request fields" (Markdown)
	provider
}

// A provider is what the template gives each of a provider's functions.
type provider struct {
	// Endpoint is the variable of the provider's base URL, set from the template parameter
	// EndpointParam when that is not empty (condition Has<EndpointParam>).
	Endpoint, EndpointParam string
	// MaxReceive is the parameter of the deliveries of a message before its dead-letter
	// queue.
	MaxReceive string
}

// providers are the template's settings of each provider. CTyun's creations are asynchronous:
// a policy still in progress comes back every few seconds and each delivery counts, so its
// queues allow more of them (CtyunMaxReceiveCount).
var providers = map[string]provider{
	"jdcloud":     {Endpoint: "JDCLOUD_LB_ENDPOINT", EndpointParam: "JdcloudLbEndpoint", MaxReceive: "MaxReceiveCount"},
	"huaweicloud": {Endpoint: "HUAWEICLOUD_ELB_ENDPOINT", EndpointParam: "HuaweiElbEndpoint", MaxReceive: "MaxReceiveCount"},
	"ctyun":       {Endpoint: "CTYUN_ELB_ENDPOINT", EndpointParam: "CtyunElbEndpoint", MaxReceive: "CtyunMaxReceiveCount"},
}

// functions returns the catalog's functions as the generated files describe them.
func functions() []function {
	fns := make([]function, len(catalog.Functions))
	for i, f := range catalog.Functions {
		name := f.Op.Function()
		fns[i] = function{Name: name, ID: catalog.LogicalName(name), Title: f.Title, Call: f.Call, Fields: f.Fields,
			provider: providers[f.Op.Provider()]}
	}
	return fns
}

// Header is the comment line that opens the function's resources in template.yaml.
func (f function) Header() string {
	h := "# ---- " + f.Name + ": " + f.Title + " "
	return h + strings.Repeat("-", max(2, 95-len(h)))
}

// QueueVariable is the variable chatops reads the function's queue URL from.
func (f function) QueueVariable() string {
	return "LBFN_QUEUE_URL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
}

// A file is one generated file as it must be: its path under the repository root, slash
// separated, and its content.
type file struct {
	path    string
	content []byte
}

func (f file) write(root string) error {
	p := filepath.Join(root, filepath.FromSlash(f.path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, f.content, 0o644)
}

//go:embed template.yaml.tmpl
var templateText string

var yamlParts = template.Must(template.New("template.yaml.tmpl").Parse(templateText))

// generate returns every generated file as it must be for fns, reading from root the
// hand-written parts: the text around each region, and each function's sample requests.
func generate(root string, fns []function) ([]file, error) {
	var files []file
	for _, fn := range fns {
		if fn.Endpoint == "" {
			return nil, fmt.Errorf("%s: deploy/gen knows no provider settings for its provider (providers in gen.go)", fn.Name)
		}
	}
	regions := []struct {
		path  string
		parts map[string]func() (string, error)
	}{
		{"template.yaml", map[string]func() (string, error){
			"functions": func() (string, error) { return execute("functions", fns) },
			"outputs":   func() (string, error) { return execute("outputs", fns) },
		}},
		{"deploy/gcp/deploy.sh", map[string]func() (string, error){
			"functions": func() (string, error) { return deployFunctions(fns), nil },
		}},
		{"README.md", map[string]func() (string, error){
			"functions": func() (string, error) { return functionTable(fns), nil },
		}},
		{"events/README.md", map[string]func() (string, error){
			"files": func() (string, error) { return sampleTable(), nil },
		}},
	}
	for _, r := range regions {
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(r.path)))
		if err != nil {
			return nil, err
		}
		for name, body := range r.parts {
			text, err := body()
			if err != nil {
				return nil, fmt.Errorf("%s, region %s: %w", r.path, name, err)
			}
			if src, err = replaceRegion(src, name, text); err != nil {
				return nil, fmt.Errorf("%s: %w", r.path, err)
			}
		}
		files = append(files, file{r.path, src})
	}
	for _, fn := range fns {
		events, err := sampleEvents(root, fn.Name)
		if err != nil {
			return nil, err
		}
		files = append(files, events...)
	}
	return files, nil
}

// staleFiles returns the files whose content on disk differs from what it must be (or that
// are missing).
func staleFiles(root string, files []file) ([]file, error) {
	var stale []file
	for _, f := range files {
		have, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.path)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if err != nil || !bytes.Equal(have, f.content) {
			stale = append(stale, f)
		}
	}
	return stale, nil
}

// execute runs one part of template.yaml.tmpl: the region's lines, without blank lines around.
func execute(part string, fns []function) (string, error) {
	var b strings.Builder
	if err := yamlParts.ExecuteTemplate(&b, part, struct{ Functions []function }{fns}); err != nil {
		return "", err
	}
	return strings.Trim(b.String(), "\n") + "\n", nil
}

// deployFunctions are the entries of deploy.sh's FUNCTIONS array.
func deployFunctions(fns []function) string {
	var b strings.Builder
	for _, fn := range fns {
		b.WriteString("  " + fn.Name + "\n")
	}
	return b.String()
}

// functionTable is the README's table of functions.
func functionTable(fns []function) string {
	var b strings.Builder
	b.WriteString("| function | provider call | request fields |\n|---|---|---|\n")
	for _, fn := range fns {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", fn.Name, fn.Call, fn.Fields)
	}
	return b.String()
}
