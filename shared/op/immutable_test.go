package op_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/lbfn/lbfn/shared/op"
)

const opPath = "github.com/lbfn/lbfn/shared/op"

// listedPackage is what `go list -json` says of a package, as far as type-checking it needs.
type listedPackage struct {
	ImportPath string
	Name       string
	Dir        string
	GoFiles    []string
	Export     string
	ForTest    string
	ImportMap  map[string]string
	Module     *struct {
		Main      bool
		GoVersion string
	}
}

// listModule lists the module's packages and their test variants with every dependency, and
// has the go tool write each one's export data, so a package can be type-checked from its
// source against what it imports. Nested modules (bench/) are not in ./... of this one.
func listModule(root string) ([]listedPackage, error) {
	cmd := exec.Command("go", "list", "-export", "-deps", "-test", "-json", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []listedPackage
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs, nil
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
}

// checkedPackage is one package of the module (or its tests), type-checked from source.
type checkedPackage struct {
	path           string
	sources, tests []*ast.File
	info           *types.Info
}

// checkedModule is every package of the module, type-checked once for all the tests here.
type checkedModule struct {
	*checker
	root     string
	packages []checkedPackage
}

var (
	moduleOnce sync.Once
	module     *checkedModule
	moduleErr  error
)

// checkModule type-checks every package of the module with its test files (once: later
// calls share the result), or fails t.
func checkModule(t *testing.T) *checkedModule {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go tool is not on PATH: cannot type-check the module")
	}
	moduleOnce.Do(func() { module, moduleErr = loadModule() })
	if moduleErr != nil {
		t.Fatal(moduleErr)
	}
	return module
}

func loadModule() (*checkedModule, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return nil, err
	}
	pkgs, err := listModule(root)
	if err != nil {
		return nil, err
	}
	m := &checkedModule{checker: newChecker(pkgs), root: root}
	hasTests := map[string]bool{} // packages with a variant compiled with their own test files
	for _, p := range pkgs {
		if path, _, _ := strings.Cut(p.ImportPath, " "); p.ForTest != "" && path == p.ForTest {
			hasTests[path] = true
		}
	}
	checked := map[string]bool{}
	var problems []error
	for _, p := range pkgs {
		path, _, _ := strings.Cut(p.ImportPath, " ")
		switch {
		case p.Module == nil || !p.Module.Main:
			continue // a dependency
		case p.Name == "main" && strings.HasSuffix(path, ".test"):
			continue // the generated test main
		case p.ForTest == "" && hasTests[path]:
			continue // its test variant, a superset, is checked instead
		case p.ForTest != "" && path != p.ForTest && path != p.ForTest+"_test":
			continue // recompiled for another package's tests: the same files
		}
		cp := checkedPackage{path: path}
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(m.fset, filepath.Join(p.Dir, name), nil, 0)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
			if strings.HasSuffix(name, "_test.go") {
				cp.tests = append(cp.tests, f)
			} else {
				cp.sources = append(cp.sources, f)
			}
		}
		info, errs := m.check(path, p.Module.GoVersion, files, p.ImportMap)
		for _, err := range errs {
			problems = append(problems, fmt.Errorf("%s does not type-check, so it cannot be searched: %v", p.ImportPath, err))
		}
		cp.info = info
		m.packages = append(m.packages, cp)
		checked[path] = true
	}
	for _, p := range pkgs {
		if p.Module != nil && p.Module.Main && p.ForTest == "" && !strings.HasSuffix(p.ImportPath, ".test") && !checked[p.ImportPath] {
			problems = append(problems, fmt.Errorf("%s was not checked", p.ImportPath))
		}
	}
	if !checked[opPath] || len(checked) < 20 {
		problems = append(problems, fmt.Errorf("only %d packages checked (op among them: %v): is the walk reading the module?", len(checked), checked[opPath]))
	}
	return m, errors.Join(problems...)
}

// where names pos as file:line from the module's root.
func (m *checkedModule) where(pos token.Pos) string {
	p := m.fset.Position(pos)
	rel, err := filepath.Rel(m.root, p.Filename)
	if err != nil {
		rel = p.Filename
	}
	return fmt.Sprintf("%s:%d", rel, p.Line)
}

// checker type-checks packages from source against the export data go list wrote.
type checker struct {
	fset    *token.FileSet
	exports map[string]string // package ID (path, or "path [p.test]") → export data file
}

func newChecker(pkgs []listedPackage) *checker {
	c := &checker{fset: token.NewFileSet(), exports: map[string]string{}}
	for _, p := range pkgs {
		if p.Export != "" {
			c.exports[p.ImportPath] = p.Export
		}
	}
	return c
}

// check type-checks files as one package whose imports resolve through importMap (a test
// variant's imports name other test variants there).
func (c *checker) check(path, goVersion string, files []*ast.File, importMap map[string]string) (*types.Info, []error) {
	// One importer per package: it caches by import path, and the same path is a different
	// package (a test variant) for another package's tests.
	imp := importer.ForCompiler(c.fset, "gc", func(path string) (io.ReadCloser, error) {
		id := path
		if m, ok := importMap[path]; ok {
			id = m
		}
		file, ok := c.exports[id]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", id)
		}
		return os.Open(file)
	})
	info := &types.Info{
		Types:      map[ast.Expr]types.TypeAndValue{},
		Selections: map[*ast.SelectorExpr]*types.Selection{},
		Uses:       map[*ast.Ident]types.Object{},
		Defs:       map[*ast.Ident]types.Object{},
	}
	var errs []error
	conf := types.Config{Importer: imp, Error: func(err error) { errs = append(errs, err) }}
	if goVersion != "" {
		conf.GoVersion = "go" + goVersion
	}
	_, _ = conf.Check(path, c.fset, files, info)
	return info, errs
}

// errorWrite is an assignment that changes an op.Error after it was made.
type errorWrite struct {
	pos  token.Pos
	what string
}

// errorWrites finds every statement of files that writes into an op.Error: assigns to one of
// its fields (or into storage a field shares, such as an element of Violations), increments
// one, takes a field's address, or overwrites a whole error through a pointer. In package op
// itself (constructing), a local copy being filled in (c := *e; c.Attempts = n) is allowed.
func errorWrites(info *types.Info, files []*ast.File, constructing bool) []errorWrite {
	var found []errorWrite
	written := func(lhs ast.Expr) {
		if w, ok := writesError(info, lhs, constructing); ok {
			found = append(found, w)
		}
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if n.Tok != token.DEFINE {
					for _, lhs := range n.Lhs {
						written(lhs)
					}
				}
			case *ast.IncDecStmt:
				written(n.X)
			case *ast.RangeStmt:
				if n.Tok == token.ASSIGN {
					for _, lhs := range []ast.Expr{n.Key, n.Value} {
						if lhs != nil {
							written(lhs)
						}
					}
				}
			case *ast.UnaryExpr:
				if n.Op == token.AND {
					if w, ok := writesError(info, n.X, constructing); ok && w.what != "*op.Error" {
						w.what = "&" + w.what
						found = append(found, w)
					}
				}
			}
			return true
		})
	}
	return found
}

// writesError reports whether writing to lhs changes an op.Error.
func writesError(info *types.Info, lhs ast.Expr, constructing bool) (errorWrite, bool) {
	for e := lhs; ; {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.StarExpr:
			if isErrorType(info.TypeOf(x)) {
				return errorWrite{x.Pos(), "*op.Error"}, true
			}
			e = x.X
		case *ast.SelectorExpr:
			sel := info.Selections[x]
			if sel == nil || sel.Kind() != types.FieldVal {
				return errorWrite{}, false
			}
			if isErrorField(sel.Obj()) {
				if constructing && isLocalCopy(info, x.X) {
					return errorWrite{}, false
				}
				return errorWrite{x.Pos(), "op.Error." + x.Sel.Name}, true
			}
			e = x.X
		default:
			return errorWrite{}, false
		}
	}
}

// errorStruct returns the struct of op.Error as the package pkg sees it.
func errorStruct(pkg *types.Package) *types.Struct {
	if pkg == nil || pkg.Path() != opPath {
		return nil
	}
	tn, ok := pkg.Scope().Lookup("Error").(*types.TypeName)
	if !ok {
		return nil
	}
	st, _ := tn.Type().Underlying().(*types.Struct)
	return st
}

func isErrorField(obj types.Object) bool {
	v, ok := obj.(*types.Var)
	if !ok || !v.IsField() {
		return false
	}
	st := errorStruct(v.Pkg())
	for i := 0; st != nil && i < st.NumFields(); i++ {
		if st.Field(i) == v {
			return true
		}
	}
	return false
}

func isErrorType(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == opPath && n.Obj().Name() == "Error"
}

// isLocalCopy reports whether x names a function's own variable holding an error by value
// (a copy, shared with nobody until it is returned).
func isLocalCopy(info *types.Info, x ast.Expr) bool {
	id, ok := x.(*ast.Ident)
	if !ok {
		return false
	}
	v, ok := info.Uses[id].(*types.Var)
	if !ok || v.Parent() == nil || v.Parent() == v.Pkg().Scope() {
		return false
	}
	_, isPointer := v.Type().Underlying().(*types.Pointer)
	return !isPointer
}

// TestNoCodeChangesAnErrorOnceMade keeps *op.Error a value once made, everywhere in the
// module, tests included: AsError hands back the very error it is given, which a result, a log
// line or a store may hold already, so an error is built whole (a composite literal, a
// constructor) and a layer that adds to one derives a copy (WithAttempts, WithMessage,
// WithText). Only package op's own constructors fill in a copy they made.
func TestNoCodeChangesAnErrorOnceMade(t *testing.T) {
	m := checkModule(t)
	for _, p := range m.packages {
		writes := append(errorWrites(p.info, p.sources, p.path == opPath), errorWrites(p.info, p.tests, false)...)
		sort.Slice(writes, func(i, j int) bool { return writes[i].pos < writes[j].pos })
		for _, w := range writes {
			t.Errorf("%s: writes %s after the error was made: build it whole, or derive a copy with a With method", m.where(w.pos), w.what)
		}
	}
}

// TestErrorWritesFound proves the search of TestNoCodeChangesAnErrorOnceMade on small
// packages: every way of changing an error is found, and building one or replacing a
// pointer to one is not.
func TestErrorWritesFound(t *testing.T) {
	c := checkModule(t).checker
	cases := []struct {
		name, body string
		want       []string // what each write found writes, in order
	}{
		{"assign a field", `e := op.Errorf(op.KindAuth, "x"); e.Kind = op.KindProvider`, []string{"op.Error.Kind"}},
		{"assign a field of a value", `var e op.Error; e.Message = "x"; _ = e`, []string{"op.Error.Message"}},
		{"multi-assign", `e, n := op.Errorf(op.KindAuth, "x"), 0; n, e.Attempts = 1, 2; _ = n`, []string{"op.Error.Attempts"}},
		{"increment", `e := op.Errorf(op.KindAuth, "x"); e.Attempts++`, []string{"op.Error.Attempts"}},
		{"append to a text", `e := op.Errorf(op.KindAuth, "x"); e.Message += "!"`, []string{"op.Error.Message"}},
		{"through another struct", `var r op.Result; r.Error.Retryable = true`, []string{"op.Error.Retryable"}},
		{"an element of violations", `e := op.Invalid(nil); e.Violations[0].Message = "x"`, []string{"op.Error.Violations"}},
		{"through parentheses", `e := op.Errorf(op.KindAuth, "x"); (e).HTTPStatus = 500`, []string{"op.Error.HTTPStatus"}},
		{"the whole error", `e := op.Errorf(op.KindAuth, "x"); *e = op.Error{}`, []string{"*op.Error"}},
		{"a field's address", `e := op.Errorf(op.KindAuth, "x"); p := &e.RequestID; _ = p`, []string{"&op.Error.RequestID"}},
		{"range into a field", `e := op.Errorf(op.KindAuth, "x"); for e.Message = range map[string]int{} {}`, []string{"op.Error.Message"}},
		{"a literal", `e := &op.Error{Kind: op.KindAuth, Attempts: 2}; _ = e`, nil},
		{"a copy derived", `e := op.Errorf(op.KindAuth, "x"); e = e.WithAttempts(2); _ = e`, nil},
		{"a result's pointer replaced", `var r op.Result; r.Error = op.Errorf(op.KindAuth, "x"); r.Attempts = 2`, nil},
		{"an error's address", `e := op.Error{Kind: op.KindAuth}; p := &e; _ = p`, nil},
		{"a field read", `e := op.Errorf(op.KindAuth, "x"); var s string; s = e.Message; _ = s`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "package fixture\n\nimport \"github.com/lbfn/lbfn/shared/op\"\n\nfunc f() {\n" + tc.body + "\n}\n"
			f, err := parser.ParseFile(c.fset, tc.name+".go", src, 0)
			if err != nil {
				t.Fatal(err)
			}
			info, errs := c.check("fixture", "", []*ast.File{f}, nil)
			if len(errs) > 0 {
				t.Fatalf("fixture does not type-check: %v", errs)
			}
			var got []string
			for _, w := range errorWrites(info, []*ast.File{f}, false) {
				got = append(got, w.what)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("found %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("a constructor's own copy in package op", func(t *testing.T) {
		// Checked as package op itself would be: a local copy may be filled in, a pointer not.
		src := "package op\n\ntype Error struct{ Attempts int }\n\n" +
			"func (e *Error) WithAttempts(n int) *Error { c := *e; c.Attempts = n; return &c }\n\n" +
			"func (e *Error) bump() { e.Attempts++ }\n"
		f, err := parser.ParseFile(c.fset, "op.go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		info, errs := c.check(opPath, "", []*ast.File{f}, nil)
		if len(errs) > 0 {
			t.Fatalf("fixture does not type-check: %v", errs)
		}
		var got []string
		for _, w := range errorWrites(info, []*ast.File{f}, true) {
			got = append(got, w.what)
		}
		if want := []string{"op.Error.Attempts"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("found %q, want %q (only bump's write)", got, want)
		}
	})
}

// retryableExceptions are the functions that make an error whose Retryable is not its kind's,
// by file and function, each with its reason (Error.Retryable in error.go documents them).
var retryableExceptions = map[string]string{
	"shared/huaweicloud/call.go responseError": "a 409 for a load balancer being updated passes",
	"shared/huaweicloud/resource.go reconcile": "a create that may have happened without an idempotency token is never retried",
}

// TestRetryableIsTheKinds: every op.Error the module builds says it is retryable exactly when
// its kind is (Retryable: kind.Retryable(), or a constant that agrees with a constant kind),
// but in the functions retryableExceptions lists, and each of those still makes one.
func TestRetryableIsTheKinds(t *testing.T) {
	m := checkModule(t)
	used := map[string]bool{}
	for _, p := range m.packages {
		for _, f := range p.sources {
			file, _ := filepath.Rel(m.root, m.fset.Position(f.Pos()).Filename)
			for _, decl := range f.Decls {
				fn := ""
				if d, ok := decl.(*ast.FuncDecl); ok {
					fn = d.Name.Name
				}
				ast.Inspect(decl, func(n ast.Node) bool {
					lit, ok := n.(*ast.CompositeLit)
					if !ok || !isErrorType(p.info.TypeOf(lit)) {
						return true
					}
					kind, retryable := errorFields(lit)
					if retryableAgrees(p.info, kind, retryable) {
						return true
					}
					if key := filepath.ToSlash(file) + " " + fn; retryableExceptions[key] != "" {
						used[key] = true
						return true
					}
					t.Errorf("%s: Retryable %s disagrees with kind %s: use Retryable: kind.Retryable(), or make the error where it is documented as an exception",
						m.where(lit.Pos()), exprText(retryable, "false"), exprText(kind, `""`))
					return true
				})
			}
		}
	}
	for key := range retryableExceptions {
		if !used[key] {
			t.Errorf("%s is listed as an exception but makes none: take it off the list", key)
		}
	}
}

// errorFields returns the Kind and Retryable values of an op.Error literal (nil: not given).
func errorFields(lit *ast.CompositeLit) (kind, retryable ast.Expr) {
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		switch key, _ := kv.Key.(*ast.Ident); {
		case key == nil:
		case key.Name == "Kind":
			kind = kv.Value
		case key.Name == "Retryable":
			retryable = kv.Value
		}
	}
	return kind, retryable
}

// retryableAgrees reports whether retryable is kind.Retryable(), written so or as constants.
func retryableAgrees(info *types.Info, kind, retryable ast.Expr) bool {
	if call, ok := retryable.(*ast.CallExpr); ok && kind != nil && len(call.Args) == 0 {
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Retryable" {
			return types.ExprString(sel.X) == types.ExprString(kind)
		}
	}
	k, b := "", false // an absent Kind or Retryable is the zero value
	if kind != nil {
		v := info.Types[kind].Value
		if v == nil || v.Kind() != constant.String {
			return false
		}
		k = constant.StringVal(v)
	}
	if retryable != nil {
		v := info.Types[retryable].Value
		if v == nil || v.Kind() != constant.Bool {
			return false
		}
		b = constant.BoolVal(v)
	}
	return op.Kind(k).Retryable() == b
}

func exprText(e ast.Expr, absent string) string {
	if e == nil {
		return absent + " (absent)"
	}
	return types.ExprString(e)
}
