// Package devserver is `make run`: every function served over HTTP on one local port with the
// HTTP trigger's contract, and the embedded emulator served on another with the real APIs'
// paths. Providers without credentials in the environment are pointed at the emulator;
// setting a provider's credentials is all it takes to use the real cloud instead.
//
// The functions read their settings from the environment once per process, on their first
// call, so Start changes this process's environment before serving, and a process runs at most
// one dev server.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/chatops/server"
	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/trigger"
)

// Functions are the operations the dev server serves: every one in the catalog.
var Functions = catalog.Operations

// Config is what Start needs. LoadConfig reads it from the environment.
type Config struct {
	// Addr is where the functions are served.
	Addr string `envconfig:"LBFN_DEV_ADDR" default:"127.0.0.1:8080"`
	// EmulatorAddr is where the emulator is served.
	EmulatorAddr string `envconfig:"LBFN_EMULATOR_ADDR" default:"127.0.0.1:8090"`

	// Functions served; nil means Functions.
	Functions []op.Operation `ignored:"true"`
	// Emulator configures the embedded emulator (demo credentials by default).
	Emulator emulator.Options `ignored:"true"`
	// Handler makes the HTTP handler of one function; nil means trigger.NewHTTPHandler with
	// the options the environment gives (LBFN_WEBHOOK_SECRET and the rest).
	Handler func(op.Operation) http.Handler `ignored:"true"`
	// ChatopsHTTPClient sends chatops's replies into the chats; nil means the default.
	ChatopsHTTPClient *http.Client `ignored:"true"`
}

// LoadConfig reads LBFN_DEV_ADDR and LBFN_EMULATOR_ADDR.
func LoadConfig() (Config, error) {
	var c Config
	err := config.Load(&c)
	return c, err
}

// Server is a running dev server.
type Server struct {
	// URL is the functions' base URL: a function is served at URL + "/" + its name.
	URL string
	// EmulatorURL is the emulator's base URL.
	EmulatorURL string
	// Emulator is the embedded emulator, for tests to inspect and inject faults into.
	Emulator *emulator.Emulator
	// Emulated lists the providers pointed at the emulator; the others use their real cloud.
	Emulated []Provider
	// Functions are the operations served.
	Functions []op.Operation
	// WebhookSigned says the functions require the webhook signature (LBFN_WEBHOOK_SECRET).
	WebhookSigned bool
	// Chatops serves the chat webhooks at URL + "/chatops/<platform>", queueing to the
	// functions served here; the results come back to its own result route.
	Chatops *server.Server

	functions, emulatorSrv *http.Server
	queue                  *localQueue
	errc                   chan error
}

// Start binds both addresses, points every provider without credentials at the emulator (in
// this process's environment), and serves in the background until Shutdown.
func Start(cfg Config) (*Server, error) {
	if cfg.Functions == nil {
		cfg.Functions = Functions
	}
	opts, err := trigger.LoadOptions()
	if err != nil {
		return nil, err
	}
	signed := false
	if cfg.Handler == nil {
		signed = opts.WebhookSecret.IsSet()
		cfg.Handler = func(o op.Operation) http.Handler { return trigger.NewHTTPHandler(o, opts) }
	}
	chat, err := server.LoadSettings()
	if err != nil {
		return nil, err
	}
	emuLn, err := net.Listen("tcp", cfg.EmulatorAddr)
	if err != nil {
		return nil, fmt.Errorf("emulator address (LBFN_EMULATOR_ADDR): %w", err)
	}
	fnLn, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = emuLn.Close()
		return nil, fmt.Errorf("functions address (LBFN_DEV_ADDR): %w", err)
	}
	s := &Server{
		URL:           baseURL(fnLn.Addr()),
		EmulatorURL:   baseURL(emuLn.Addr()),
		Emulator:      emulator.New(cfg.Emulator),
		Functions:     cfg.Functions,
		WebhookSigned: signed,
		errc:          make(chan error, 2),
	}
	emulated, env := Emulated(s.EmulatorURL, os.Getenv)
	if err := applyEnv(env); err != nil {
		_ = emuLn.Close()
		_ = fnLn.Close()
		return nil, err
	}
	s.Emulated = emulated

	// chatops queues to the functions served here, and their results come back to its own
	// result route on this server unless LBFN_CHATOPS_URL says otherwise.
	s.queue = newLocalQueue(s.Functions, opts, slog.Default())
	if chat.URL == "" {
		chat.URL = s.URL
	}
	s.Chatops = server.New(chat.Options(s.Functions, s.queue, cfg.ChatopsHTTPClient))

	s.emulatorSrv = &http.Server{Handler: s.Emulator, ReadHeaderTimeout: 10 * time.Second}
	s.functions = &http.Server{Handler: s.handler(cfg.Handler), ReadHeaderTimeout: 10 * time.Second}
	go s.serve(s.emulatorSrv, emuLn)
	go s.serve(s.functions, fnLn)
	return s, nil
}

func (s *Server) serve(srv *http.Server, ln net.Listener) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.errc <- err
	}
}

// handler routes POST /<function> to each function's HTTP trigger; other methods get 405
// (from the mux), and GET / lists the functions.
func (s *Server) handler(newHandler func(op.Operation) http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, o := range s.Functions {
		mux.Handle("POST /"+o.Function(), newHandler(o))
	}
	mux.Handle("/chatops/", s.Chatops)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for _, o := range s.Functions {
			fmt.Fprintf(w, "POST %s/%s\n", s.URL, o.Function())
		}
		for _, p := range s.Chatops.Platforms() {
			fmt.Fprintf(w, "POST %s/chatops/%s\n", s.URL, p.Name())
		}
	})
	return mux
}

// Err reports a server that stopped on its own (its listener failed).
func (s *Server) Err() <-chan error { return s.errc }

// Shutdown stops accepting requests and waits for those in flight, until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	return errors.Join(s.functions.Shutdown(ctx), s.queue.close(ctx), s.emulatorSrv.Shutdown(ctx))
}

// IsEmulated reports whether provider's functions use the emulator.
func (s *Server) IsEmulated(provider string) bool {
	for _, p := range s.Emulated {
		if p.Name == provider {
			return true
		}
	}
	return false
}

// Banner writes what a user needs to start: where each function is, which clouds are the
// emulator, the demo credentials and a request to try.
func (s *Server) Banner(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "lbfn dev server\n\nfunctions (POST a request as the body):\n")
	for _, o := range s.Functions {
		where := "real cloud"
		if s.IsEmulated(o.Provider()) {
			where = "emulator"
		}
		fmt.Fprintf(&b, "  %s/%-34s %-12s -> %s\n", s.URL, o.Function(), o.Provider(), where)
	}
	fmt.Fprintf(&b, "\nproviders:\n")
	for _, p := range Providers {
		if s.IsEmulated(p.Name) {
			fmt.Fprintf(&b, "  %-12s emulator at %s (no %s/%s set)\n", p.Name, s.EmulatorURL, p.AccessKeyVar, p.SecretKeyVar)
		} else {
			fmt.Fprintf(&b, "  %-12s real cloud (%s/%s set)\n", p.Name, p.AccessKeyVar, p.SecretKeyVar)
		}
	}
	s.chatopsBanner(&b)
	if s.WebhookSigned {
		fmt.Fprintf(&b, "\nwebhook signatures required: LBFN_WEBHOOK_SECRET is set (X-Lbfn-Timestamp, X-Lbfn-Signature)\n")
	}
	fmt.Fprintf(&b, "\nemulator: %s serves JD Cloud LB, Huawei Cloud ELB and CTyun ELB on their real paths\n", s.EmulatorURL)
	fmt.Fprintf(&b, "  demo credentials: access key %s, secret key %s, Huawei project id %s (the default; any well-formed project id works)\n",
		emulator.DemoAccessKey, emulator.DemoSecretKey, emulator.DemoProjectID)
	if len(s.Functions) > 0 {
		fn := s.Functions[0].Function()
		fmt.Fprintf(&b, "\ntry:\n  curl -sS -X POST %s/%s -H 'Content-Type: application/json' -d @events/%s/direct.json\n",
			s.URL, fn, fn)
	}
	fmt.Fprintf(&b, "\nset a provider's credentials to use its real cloud; Ctrl-C stops.\n")
	_, _ = io.WriteString(w, b.String())
}

// baseURL is the http:// URL clients on this machine reach addr at: an unspecified address
// (":8080", "0.0.0.0:8080") is reached on 127.0.0.1, so the functions' endpoint stays a
// loopback URL, the only kind plain http:// is allowed for.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
