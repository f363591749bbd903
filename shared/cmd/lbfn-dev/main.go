// Command lbfn-dev is `make run`: every function at http://127.0.0.1:8080/<function> with the
// HTTP trigger's contract, and the embedded emulator at http://127.0.0.1:8090, standing in for
// every provider whose credentials are not set. LBFN_DEV_ADDR and LBFN_EMULATOR_ADDR move
// them. Ctrl-C (SIGINT) or SIGTERM stops it after the requests in flight are answered.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lbfn/lbfn/shared/devserver"
)

// shutdownGrace bounds how long requests in flight may take to finish once asked to stop; a
// CTyun creation polling the emulator is the longest.
const shutdownGrace = 30 * time.Second

const usage = `usage: lbfn-dev (make run)

Serves every function at http://127.0.0.1:8080/<function> with the HTTP trigger's contract
(POST the request as the body), chatops at /chatops/<platform>, and the embedded emulator at
http://127.0.0.1:8090 for every provider whose credentials are not set. It takes no
arguments; the environment sets it up:

  LBFN_DEV_ADDR        the functions' address (default 127.0.0.1:8080)
  LBFN_EMULATOR_ADDR   the emulator's address (default 127.0.0.1:8090)

and every variable of README.md's Configuration (credentials, LBFN_ settings). Ctrl-C or
SIGTERM stops it after the requests in flight are answered.
`

func main() {
	flag.Usage = func() { fmt.Fprint(flag.CommandLine.Output(), usage) }
	flag.Parse() // -h and -help print the usage and exit 0; any other flag is an error
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "lbfn-dev: unexpected argument %q\n\n%s", flag.Arg(0), usage)
		os.Exit(2)
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "lbfn-dev:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := devserver.LoadConfig()
	if err != nil {
		return err
	}
	srv, err := devserver.Start(cfg)
	if err != nil {
		return err
	}
	srv.Banner(os.Stdout)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-srv.Err():
		return err
	}
	stop() // a second Ctrl-C kills at once
	fmt.Fprintln(os.Stderr, "lbfn-dev: shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return srv.Shutdown(ctx)
}
