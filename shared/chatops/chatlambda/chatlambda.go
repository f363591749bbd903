// Package chatlambda is the AWS Lambda entry of the chatops function: API Gateway HTTP API
// (v2) and Lambda Function URL events in, the chatops server's answer out, and SQS as the
// queue of every create function.
package chatlambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/lbfn/lbfn/shared/catalog"
	"github.com/lbfn/lbfn/shared/chatops/queue"
	"github.com/lbfn/lbfn/shared/chatops/server"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/secrets"
)

// initTimeout bounds the set-up done during Lambda's init phase.
const initTimeout = 5 * time.Second

// Start serves chatops on the Lambda Runtime API and never returns.
func Start() {
	h := New(lambdacontext.NewLogger())
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	h.server(ctx) // set up during init, before the first invocation is timed
	cancel()
	lambda.StartWithOptions(h, lambda.WithEnableSIGTERM(func() {
		h.log.Info("SIGTERM: the sandbox is shutting down", "function", "chatops")
	}))
}

// Handler is the Lambda handler (aws-lambda-go's lambda.Handler). Its set-up (secrets,
// settings, queues) runs until it succeeds once; until then every request is answered 500
// and the log names the broken setting.
type Handler struct {
	log *slog.Logger

	mu    sync.Mutex
	ready *server.Server
}

// New returns the handler, logging to log.
func New(log *slog.Logger) *Handler { return &Handler{log: log} }

func (h *Handler) server(ctx context.Context) *server.Server {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ready != nil {
		return h.ready
	}
	s, err := setup(ctx, h.log)
	if err != nil {
		h.log.ErrorContext(ctx, "configuration failed: answering 500", "function", "chatops",
			"errorKind", string(op.KindConfig), "error", err.Error())
		return nil
	}
	h.ready = s
	return s
}

func setup(ctx context.Context, log *slog.Logger) (*server.Server, error) {
	if err := secrets.Apply(ctx); err != nil {
		return nil, err
	}
	settings, err := server.LoadSettings()
	if err != nil {
		return nil, err
	}
	var functions []string
	for _, o := range catalog.Operations {
		functions = append(functions, o.Function())
	}
	q, err := queue.SQSFromEnv(functions)
	if err != nil {
		return nil, err
	}
	opts := settings.Options(catalog.Operations, q, nil)
	opts.Logger = log
	s := server.New(opts)
	for _, c := range server.Configured(s.Platforms()) {
		if c[1] != "" {
			log.Info("platform not configured: its route answers 401", "platform", c[0], "missing", c[1])
		}
	}
	return s, nil
}

// event is the part of an API Gateway HTTP API (payload 2.0) or Function URL event chatops
// reads; the two carry the same fields.
type event = events.APIGatewayV2HTTPRequest

// response is the answer to either; the two have the same shape too.
type response = events.APIGatewayV2HTTPResponse

// Invoke implements lambda.Handler.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var e event
	if err := json.Unmarshal(payload, &e); err != nil || e.RequestContext.HTTP.Method == "" {
		return json.Marshal(response{StatusCode: http.StatusBadRequest})
	}
	s := h.server(ctx)
	if s == nil {
		return json.Marshal(response{StatusCode: http.StatusInternalServerError})
	}
	r, err := request(e)
	if err != nil {
		return json.Marshal(response{StatusCode: http.StatusBadRequest})
	}
	out := s.Serve(ctx, r)
	resp := response{StatusCode: out.Status, Body: string(out.Body), Headers: map[string]string{}}
	if resp.StatusCode == 0 {
		resp.StatusCode = http.StatusOK
	}
	for k, vs := range out.Header {
		resp.Headers[k] = strings.Join(vs, ", ")
	}
	return json.Marshal(resp)
}

// request turns an event into the server's request. The base URL the create functions reply
// to is the one API Gateway (or the Function URL) says the request arrived at, with its stage.
func request(e event) (server.Request, error) {
	body := []byte(e.Body)
	if e.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(e.Body)
		if err != nil {
			return server.Request{}, err
		}
		body = b
	}
	query, err := url.ParseQuery(e.RawQueryString)
	if err != nil {
		return server.Request{}, err
	}
	header := http.Header{}
	for k, v := range e.Headers {
		header.Set(k, v)
	}
	path := e.RawPath
	if path == "" {
		path = e.RequestContext.HTTP.Path
	}
	base := ""
	if d := e.RequestContext.DomainName; d != "" {
		base = "https://" + d
		if st := e.RequestContext.Stage; st != "" && st != "$default" {
			base += "/" + st
		}
	}
	return server.Request{Path: path, Method: e.RequestContext.HTTP.Method, Header: header, Query: query, Body: body, BaseURL: base}, nil
}
