package huaweicloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// redact returns err with every credential form kept out of its texts and those of the
// *op.Error values it wraps (redact.Text, with this client's own secret key and security
// token): a 401 quotes the gateway's canonical request, which holds the signed
// X-Security-Token, and a provider may echo the Authorization header with its signature. The
// error it is given is left as it is (it is a copy that is redacted).
func (c *Client) redact(err error) error {
	oe := op.AsError(err)
	if oe == nil {
		return nil
	}
	known := redact.Values(c.signer.SecretKey, c.signer.SecurityToken)
	return oe.WithText(func(s string) string { return redact.Text(s, known...) })
}

// Error codes with a meaning of their own.
const (
	codeQuota     = "ELB.8905"
	codeThrottled = "APIGW.0308"
)

// providerError is an error body in any of its three documented forms.
type providerError struct {
	code, message, requestID string
}

// parseError reads {"error_msg","error_code","request_id"}, {"error":{"code","message"}} and
// OpenStack's {"NeutronError":{"type","message","detail"}}; a body that is none of those
// (a gateway's HTML page) becomes the message, shortened.
func parseError(body []byte) providerError {
	var b struct {
		ErrorMsg  string `json:"error_msg"`
		ErrorCode string `json:"error_code"`
		RequestID string `json:"request_id"`
		Error     *struct {
			Code      any    `json:"code"`
			Message   string `json:"message"`
			RequestID string `json:"request_id"`
		} `json:"error"`
		NeutronError *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
			Detail  string `json:"detail"`
		} `json:"NeutronError"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return providerError{message: shorten(strings.TrimSpace(string(body)))}
	}
	pe := providerError{code: b.ErrorCode, message: b.ErrorMsg, requestID: b.RequestID}
	if e := b.Error; e != nil {
		if pe.code == "" && e.Code != nil {
			pe.code = fmt.Sprint(e.Code)
		}
		pe.message = firstNonEmpty(pe.message, e.Message)
		pe.requestID = firstNonEmpty(pe.requestID, e.RequestID)
	}
	if n := b.NeutronError; n != nil {
		pe.code = firstNonEmpty(pe.code, n.Type)
		msg := n.Message
		if n.Detail != "" {
			msg += ": " + n.Detail
		}
		pe.message = firstNonEmpty(pe.message, msg)
	}
	return pe
}

func shorten(s string) string {
	const max = 512
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}

// busy reports whether a 409 says the load balancer is being updated, which passes.
func busy(status int, pe providerError) bool {
	if status != http.StatusConflict || pe.code == codeQuota {
		return false
	}
	m := strings.ToLower(pe.message)
	return strings.Contains(m, "pending_update") || strings.Contains(m, "busy")
}

// kindOf classifies a refusal.
func kindOf(status int, pe providerError) op.Kind {
	switch {
	case status == http.StatusTooManyRequests || pe.code == codeThrottled:
		return op.KindThrottled
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return op.KindAuth
	case status == http.StatusNotFound:
		return op.KindNotFound
	case status == http.StatusConflict && pe.code == codeQuota:
		return op.KindQuota
	case status == http.StatusConflict:
		return op.KindConflict
	case status >= 500:
		return op.KindUnavailable
	}
	return op.KindProvider
}

// responseError maps a refusal to an *op.Error. 401 and 403 are never retried: repeated
// failures lock the access key.
func responseError(resp *httpx.Response) *op.Error {
	pe := parseError(resp.Body)
	kind := kindOf(resp.StatusCode, pe)
	message := fmt.Sprintf("huaweicloud answered HTTP %d", resp.StatusCode)
	if pe.code != "" {
		message += " " + pe.code
	}
	if pe.message != "" {
		message += ": " + pe.message
	}
	return &op.Error{
		Kind:    kind,
		Message: message,
		// A busy load balancer is a conflict that passes: the one kind-independent retry.
		Retryable:       kind.Retryable() || busy(resp.StatusCode, pe),
		ProviderCode:    pe.code,
		ProviderMessage: pe.message,
		HTTPStatus:      resp.StatusCode,
		RequestID:       firstNonEmpty(pe.requestID, resp.Header.Get("X-Request-Id")),
		Attempts:        resp.Attempts,
	}
}

// retryable is the transport's retry rule: httpx's (429 with Retry-After, 500, 502, 503,
// 504), plus throttling answered with another status and a 409 saying the load balancer is
// busy. Never 401/403 (unless they say APIGW.0308), 400, 404 or a quota 409.
func retryable(r *httpx.Response) (bool, time.Duration) {
	if retry, after := httpx.DefaultRetryable(r); retry {
		return true, after
	}
	if r.StatusCode >= 400 {
		// A throttle is not an authentication failure, whatever its status, so retrying it
		// does not count towards locking the access key.
		pe := parseError(r.Body)
		if pe.code == codeThrottled || busy(r.StatusCode, pe) {
			return true, httpx.RetryAfter(r.Header)
		}
	}
	return false, 0
}

func attemptsOf(err error) int {
	var e *op.Error
	if errors.As(err, &e) {
		return e.Attempts
	}
	return 0
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
