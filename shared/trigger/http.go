package trigger

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// Header names of the HTTP trigger's webhook signature (README.md, "With the webhook signature").
const (
	HeaderTimestamp   = "X-Lbfn-Timestamp"
	HeaderSignature   = "X-Lbfn-Signature"
	HeaderIdempotency = "Idempotency-Key"
)

// MaxSignatureAge is how far X-Lbfn-Timestamp may be from now, either way.
const MaxSignatureAge = 300 * time.Second

// maxBody bounds a request body read by NewHTTPHandler; requests are a few kilobytes.
const maxBody = 1 << 20

// Signature returns the X-Lbfn-Signature value for a body sent at timestamp (Unix seconds,
// as sent in X-Lbfn-Timestamp): "sha256=" and the hex HMAC-SHA256 of timestamp "." body.
func Signature(secret, timestamp string, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// maxTimestampDigits bounds X-Lbfn-Timestamp: Unix seconds have 10 digits until 2286, and a
// bound keeps the parse and the comparison far from int64's limits.
const maxTimestampDigits = 12

// parseTimestamp reads X-Lbfn-Timestamp strictly: ASCII digits only (no sign, no spaces
// inside, no leading "+"), at most maxTimestampDigits of them.
func parseTimestamp(ts string) (int64, bool) {
	if ts == "" || len(ts) > maxTimestampDigits {
		return 0, false
	}
	var sec int64
	for i := 0; i < len(ts); i++ {
		c := ts[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		sec = sec*10 + int64(c-'0')
	}
	return sec, true
}

// withinWindow reports whether sec is within MaxSignatureAge of now, either way. Both are
// far from int64's limits (sec has at most 12 digits), so the bounds cannot overflow.
func withinWindow(sec int64, now time.Time) bool {
	window := int64(MaxSignatureAge / time.Second)
	n := now.Unix()
	return sec >= n-window && sec <= n+window
}

// verify checks the webhook signature of a request; its error says what is wrong without
// revealing what was expected.
func verify(secret string, header func(string) string, body []byte, now time.Time) error {
	ts := strings.TrimSpace(header(HeaderTimestamp))
	if ts == "" {
		return errors.New(HeaderTimestamp + " is missing")
	}
	sec, ok := parseTimestamp(ts)
	if !ok {
		return errors.New(HeaderTimestamp + " must be Unix seconds (digits only)")
	}
	if !withinWindow(sec, now) {
		return errors.New(HeaderTimestamp + " is more than 300 s from now")
	}
	sig := strings.TrimSpace(header(HeaderSignature))
	if sig == "" {
		return errors.New(HeaderSignature + " is missing")
	}
	if len(sig) < 7 || !strings.EqualFold(sig[:7], "sha256=") {
		return errors.New(HeaderSignature + " must be sha256=<hex>")
	}
	got, err := hex.DecodeString(sig[7:])
	if err != nil || !hmac.Equal(got, mac(secret, ts, body)) {
		return errors.New(HeaderSignature + " does not match")
	}
	return nil
}

// httpAnswer is what both HTTP front ends send back.
type httpAnswer struct {
	status int
	header map[string]string
	body   []byte
}

// serveHTTP is the HTTP trigger, shared by the API Gateway / Function URL events and the
// net/http handler: signature check first (401 and nothing done), then one run whose result
// is the body and whose status or kind is the HTTP status.
func (h *Handler) serveHTTP(ctx context.Context, trigger, method string, header func(string) string, body []byte, bodyErr error) httpAnswer {
	if h.opts.WebhookSecret.IsSet() {
		if err := verify(h.opts.WebhookSecret.Reveal(), header, body, h.opts.Now()); err != nil {
			res := op.Failure(h.op.Function(), h.op.Provider(),
				op.Errorf(op.KindAuth, "webhook signature rejected: %v", err))
			h.logOutcome(ctx, op.Meta{Trigger: trigger}, res, 0)
			return answer(http.StatusUnauthorized, res)
		}
	}
	if method != "" && method != http.MethodPost {
		res := op.Failure(h.op.Function(), h.op.Provider(), op.Invalid([]validate.Violation{{
			Message: "method " + method + " is not allowed: POST the request as a JSON object"}}))
		a := answer(http.StatusMethodNotAllowed, res)
		a.header["Allow"] = http.MethodPost
		return a
	}
	var res *op.Result
	if bodyErr != nil {
		res = op.Failure(h.op.Function(), h.op.Provider(), op.Invalid([]validate.Violation{{Message: bodyErr.Error()}}))
		h.logOutcome(ctx, op.Meta{Trigger: trigger}, res, 0)
	} else {
		res = h.run(ctx, body, op.Meta{Trigger: trigger, IdempotencyHeader: h.idempotencyHeader(header)}, false)
	}
	a := answer(HTTPStatus(res), res)
	if res.OK && res.Status == op.StatusInProgress && res.RetryAfterSeconds > 0 {
		a.header["Retry-After"] = strconv.Itoa(res.RetryAfterSeconds)
	}
	return a
}

// idempotencyHeader is the Idempotency-Key header a request's key may come from, or "" when
// the webhook signature is required: what a signed request does is decided only by what its
// signature covers (the timestamp and the body), so a replay of it within its window with
// another Idempotency-Key is the same creation, and answers the first result. Its key is then
// the body's idempotencyKey, else the hash of the request (see op.Runner.Run).
func (h *Handler) idempotencyHeader(header func(string) string) string {
	if h.opts.WebhookSecret.IsSet() {
		return ""
	}
	return strings.TrimSpace(header(HeaderIdempotency))
}

func answer(status int, res *op.Result) httpAnswer {
	return httpAnswer{status: status, header: map[string]string{"Content-Type": "application/json"}, body: marshal(res)}
}

// HTTPStatus is the HTTP status of a result (README.md, "The result"): 201 created, 202 in_progress,
// 200 validated, else the status of the failure's kind.
func HTTPStatus(res *op.Result) int {
	if !res.OK {
		return res.Err().Kind.HTTPStatus()
	}
	switch res.Status {
	case op.StatusCreated:
		return http.StatusCreated
	case op.StatusInProgress:
		return http.StatusAccepted
	}
	return http.StatusOK
}

// headerLookup finds a header of an event case-insensitively (API Gateway lowercases names;
// hand-written test events may not).
func headerLookup(headers map[string]string) func(string) string {
	return func(name string) string {
		if v, ok := headers[name]; ok {
			return v
		}
		for k, v := range headers {
			if strings.EqualFold(k, name) {
				return v
			}
		}
		return ""
	}
}

// eventBody returns the raw body of an HTTP event, decoding base64 when the event says so.
func eventBody(body string, isBase64 bool) ([]byte, error) {
	if !isBase64 {
		return []byte(body), nil
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, errors.New("request body is marked isBase64Encoded but is not valid base64")
	}
	return b, nil
}

func (h *Handler) handleAPIGateway(ctx context.Context, event []byte) (any, error) {
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(event, &e); err != nil {
		return direct(h.eventFailure("http", err))
	}
	body, bodyErr := eventBody(e.Body, e.IsBase64Encoded)
	a := h.serveHTTP(ctx, "http", e.RequestContext.HTTP.Method, headerLookup(e.Headers), body, bodyErr)
	return events.APIGatewayV2HTTPResponse{StatusCode: a.status, Headers: a.header, Body: string(a.body)}, nil
}

func (h *Handler) handleFunctionURL(ctx context.Context, event []byte) (any, error) {
	var e events.LambdaFunctionURLRequest
	if err := json.Unmarshal(event, &e); err != nil {
		return direct(h.eventFailure("function_url", err))
	}
	body, bodyErr := eventBody(e.Body, e.IsBase64Encoded)
	a := h.serveHTTP(ctx, "function_url", e.RequestContext.HTTP.Method, headerLookup(e.Headers), body, bodyErr)
	return events.LambdaFunctionURLResponse{StatusCode: a.status, Headers: a.header, Body: string(a.body)}, nil
}

// NewHTTPHandler serves o as the HTTP trigger does (the same code as the API Gateway and
// Function URL events): POST the request as the body; the answer is the result with its
// HTTPStatus. The local dev server and the Google Cloud Functions HTTP entry use it. Each
// request runs for at most opts.RequestTimeout, less opts.DeadlineMargin to answer in.
func NewHTTPHandler(o op.Operation, opts Options) http.Handler {
	return &httpHandler{New(o, opts)}
}

type httpHandler struct{ h *Handler }

func (s *httpHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.h.opts.RequestContext(r.Context())
	defer cancel()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var bodyErr error
	if err != nil {
		bodyErr = errors.New("request body could not be read: " + err.Error())
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			bodyErr = errors.New("request body is larger than 1 MiB")
		}
	}
	a := s.h.serveHTTP(ctx, "http", r.Method, r.Header.Get, body, bodyErr)
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}
