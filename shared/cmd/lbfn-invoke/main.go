// Command lbfn-invoke is `make invoke FN=<function> EVENT=<file>`: it builds the function's
// Lambda binary (or takes one with -binary), starts the embedded emulator and a local Lambda
// Runtime API, runs the binary once on the event exactly as Lambda would, and prints the
// answer. Providers whose credentials are set in the environment use their real cloud; the
// others use the emulator.
//
// The answer goes to stdout; the function's own logs and what was emulated go to stderr. A
// function error prints its error type (ValidationError, ...) and exits 1.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/devserver"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/lambdatest"
)

// errFunction marks a run whose function answered with an error (exit status 1, not 2).
var errFunction = errors.New("the function failed")

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, errFunction):
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "lbfn-invoke:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lbfn-invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	function := fs.String("function", "", "the function to run, such as huawei-create-pool (a directory under functions/)")
	fs.StringVar(function, "fn", "", "short for -function")
	eventFile := fs.String("event", "", "the event file, such as events/huawei-create-pool/sqs.json")
	binary := fs.String("binary", "", "a built bootstrap to run instead of building functions/<function>")
	timeout := fs.Duration("timeout", 30*time.Second, "the invocation's deadline, as Lambda's function timeout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *function == "" || *eventFile == "" {
		fs.Usage()
		return errors.New("-function (or -fn) and -event are required")
	}
	event, err := os.ReadFile(*eventFile)
	if err != nil {
		return err
	}

	bin := *binary
	if bin == "" {
		dir := filepath.Join("functions", *function)
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("no function %q: %s not found (run from the repository root)", *function, dir)
		}
		tmp, err := os.MkdirTemp("", "lbfn-invoke-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		fmt.Fprintf(stderr, "building %s\n", dir)
		if bin, err = lambdatest.Build(tmp, "./"+dir); err != nil {
			return err
		}
	}

	emu := emulator.New(emulator.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	emulatorURL := "http://" + ln.Addr().String()

	env, emulated := functionEnv(os.Environ(), emulatorURL)
	for _, p := range devserver.Providers {
		where := "real cloud (" + p.AccessKeyVar + "/" + p.SecretKeyVar + " set)"
		if slices.Contains(emulated, p.Name) {
			where = "emulator at " + emulatorURL
		}
		fmt.Fprintf(stderr, "%-12s %s\n", p.Name, where)
	}

	fn, err := lambdatest.Start(bin, env)
	if err != nil {
		return err
	}
	defer fn.Close()
	response, errType, err := fn.Invoke(event, *timeout)
	if logs := fn.Logs(); logs != "" {
		fmt.Fprintf(stderr, "--- function logs\n%s", logs)
		if !strings.HasSuffix(logs, "\n") {
			fmt.Fprintln(stderr)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "--- %d request(s) reached the emulator\n", emu.RequestCount(""))
	if errType != "" {
		fmt.Fprintf(stderr, "error type: %s\n", errType)
	}
	_, _ = stdout.Write(indent(response))
	if errType != "" {
		return errFunction
	}
	return nil
}

// functionEnv is the environment of the function process: the provider and LBFN_ settings of
// this one (nothing else: no AWS credentials, no failure queue, so a local run never writes to
// a real queue), with every provider that has no credentials pointed at the emulator.
func functionEnv(environ []string, emulatorURL string) (env []string, emulated []string) {
	vars := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "LBFN_FAILURE_QUEUE_URL" || k == "LBFN_SQS_ENDPOINT":
		case strings.HasPrefix(k, "LBFN_"), strings.HasPrefix(k, "JDCLOUD_"),
			strings.HasPrefix(k, "HUAWEICLOUD_"), strings.HasPrefix(k, "CTYUN_"):
			vars[k] = v
		}
	}
	providers, overlay := devserver.Emulated(emulatorURL, func(k string) string { return vars[k] })
	for k, v := range overlay {
		if v == "" {
			delete(vars, k)
		} else {
			vars[k] = v
		}
	}
	for _, p := range providers {
		emulated = append(emulated, p.Name)
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env, emulated
}

// indent pretty-prints a JSON answer (an error message is the failure result as JSON too),
// and returns anything else as it is.
func indent(b []byte) []byte {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		out.Reset()
		out.Write(b)
	}
	if !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
		out.WriteByte('\n')
	}
	return out.Bytes()
}
