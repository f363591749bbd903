// Command gen writes every file, or part of a file, that follows the list of functions in
// shared/catalog, so that the list is kept in one place:
//
//   - template.yaml: each create function's resources, then chatops's (which queue to all of
//     them), and each function's Outputs, from template.yaml.tmpl;
//   - deploy/gcp/deploy.sh: the FUNCTIONS array;
//   - README.md: the function table; events/README.md: the table of sample files;
//   - events/<function>/: every trigger's envelope, from the function's direct.json and
//     second.json (see events.go).
//
// A part of a file is the lines between its "BEGIN GENERATED <region>" and
// "END GENERATED <region>" marker lines; everything else in that file is hand-written.
// From the repository root:
//
//	go run ./deploy/gen -update   rewrite whatever is stale
//	go run ./deploy/gen           name the stale files and exit 1 (deploy/gen's test does the same)
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	update := flag.Bool("update", false, "rewrite the stale files instead of naming them")
	root := flag.String("root", ".", "the repository root")
	flag.Parse()
	files, err := generate(*root, functions())
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	stale, err := staleFiles(*root, files)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if !*update {
		for _, f := range stale {
			fmt.Fprintf(os.Stderr, "%s is stale: run go run ./deploy/gen -update\n", f.path)
		}
		if len(stale) > 0 {
			os.Exit(1)
		}
		return
	}
	for _, f := range stale {
		if err := f.write(*root); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", f.path)
	}
}
