package ctyun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// CTyun's business status codes, carried in the body of an HTTP 200.
const (
	StatusOK     = 800
	StatusFailed = 900
)

// Progress values of returnObj.status. Nothing else is documented, and nothing else is guessed.
const (
	ProgressInProgress = "in_progress"
	ProgressDone       = "done"
)

// Envelope is CTyun's response body. StatusCode comes as a number or, from some gateways, a
// string; both read the same.
type Envelope struct {
	StatusCode  StatusCode `json:"statusCode"`
	Message     string     `json:"message"`
	Description string     `json:"description"`
	ErrorCode   string     `json:"errorCode"`
	Error       string     `json:"error,omitempty"`
	ReturnObj   *ReturnObj `json:"returnObj"`
}

// ReturnObj is the progress of an async creation.
type ReturnObj struct {
	Status   string  `json:"status"`
	Message  string  `json:"message"`
	PolicyID *string `json:"policyID"`
}

// StatusCode is an envelope status code read from a JSON number or string.
type StatusCode int

// UnmarshalJSON accepts 800 and "800".
func (s *StatusCode) UnmarshalJSON(b []byte) error {
	text := string(bytes.Trim(b, `"`))
	if text == "null" {
		*s = 0
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		return fmt.Errorf("statusCode %s is not a number", b)
	}
	*s = StatusCode(n)
	return nil
}

// requestIDHeaders are where a CTyun answer may name its request, first found wins.
var requestIDHeaders = []string{"ctyun-eop-request-id", "X-Ctyun-Request-Id", "X-Request-Id"}

func responseRequestID(h http.Header) string {
	for _, name := range requestIDHeaders {
		if id := h.Get(name); id != "" {
			return id
		}
	}
	return ""
}

// readAnswer maps one HTTP answer to its envelope, or to an *op.Error: a non-2xx status by
// its HTTP meaning (CTyun's gateway answers those outside the business envelope, often as an
// HTML page), an unreadable 2xx body, and a 900 (never re-sent: it is CTyun's final word).
func readAnswer(resp *httpx.Response) (*Envelope, error) {
	var env Envelope
	jsonErr := json.Unmarshal(resp.Body, &env)
	reqID := responseRequestID(resp.Header)

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		kind := kindOfHTTP(resp.StatusCode)
		message := fmt.Sprintf("CTyun answered HTTP %d", resp.StatusCode)
		var code, providerMessage string
		if jsonErr == nil && (env.ErrorCode != "" || env.Message != "") {
			code, providerMessage = env.ErrorCode, joinText(env.Message, env.Description)
			if code != "" {
				message += " (" + code + ")"
			}
			message += ": " + providerMessage
		} else if text := pageText(resp.Body); text != "" {
			message += ": " + text
		}
		return nil, &op.Error{Kind: kind, Message: message, Retryable: kind.Retryable(), ProviderCode: code,
			ProviderMessage: providerMessage, HTTPStatus: resp.StatusCode, RequestID: reqID}
	}
	if jsonErr != nil {
		return nil, &op.Error{Kind: op.KindUnavailable, Retryable: true, HTTPStatus: resp.StatusCode, RequestID: reqID,
			Message: "CTyun answered HTTP " + strconv.Itoa(resp.StatusCode) + " with a body that is not its JSON envelope: " + pageText(resp.Body)}
	}
	switch env.StatusCode {
	case StatusOK:
		if env.ReturnObj == nil {
			return nil, &op.Error{Kind: op.KindProvider, HTTPStatus: resp.StatusCode, RequestID: reqID,
				Message: "CTyun answered 800 without returnObj"}
		}
		return &env, nil
	case StatusFailed:
		msg := joinText(env.Message, env.Description)
		code := env.ErrorCode
		if code == "" {
			code = env.Error
		}
		return nil, &op.Error{Kind: op.KindProvider, HTTPStatus: resp.StatusCode, RequestID: reqID,
			ProviderCode: code, ProviderMessage: msg,
			Message: "CTyun refused the request (" + code + "): " + msg}
	}
	return nil, &op.Error{Kind: op.KindProvider, HTTPStatus: resp.StatusCode, RequestID: reqID,
		ProviderCode: env.ErrorCode, ProviderMessage: joinText(env.Message, env.Description),
		Message: fmt.Sprintf("CTyun answered an undocumented statusCode %d", env.StatusCode)}
}

func kindOfHTTP(status int) op.Kind {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return op.KindAuth
	case status == http.StatusTooManyRequests:
		return op.KindThrottled
	case status >= 500:
		return op.KindUnavailable
	}
	return op.KindProvider
}

// joinText joins CTyun's English message and Chinese description, skipping empty or equal parts.
// Like pageText, it is scrubbed of every credential form (redact.Text): a gateway may echo
// the request's Eop-Authorization and its signature.
func joinText(message, description string) string {
	switch {
	case description == "" || description == message:
		return redact.Text(message)
	case message == "":
		return redact.Text(description)
	}
	return redact.Text(message + " (" + description + ")")
}

var (
	tags   = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]*>`)
	spaces = regexp.MustCompile(`\s+`)
)

// pageText is a short plain-text excerpt of a non-JSON body (a gateway's HTML error page), for
// error messages.
func pageText(body []byte) string {
	s := redact.Text(strings.TrimSpace(spaces.ReplaceAllString(tags.ReplaceAllString(string(body), " "), " ")))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
