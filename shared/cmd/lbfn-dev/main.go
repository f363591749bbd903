// Command lbfn-dev is `make run`: every function at http://127.0.0.1:8080/<function> with the
// HTTP trigger's contract, and the embedded emulator at http://127.0.0.1:8090, standing in for
// every provider whose credentials are not set. LBFN_DEV_ADDR and LBFN_EMULATOR_ADDR move
// them. Ctrl-C (SIGINT) or SIGTERM stops it after the requests in flight are answered.
package main

import (
	"context"
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

func main() {
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
