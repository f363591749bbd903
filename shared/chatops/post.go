package chatops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/op"
)

// PostTimeout bounds a reply post whose context has no sooner deadline: a chat reply is one
// small JSON request, and a stuck platform must not hold an invocation until it is killed.
const PostTimeout = 10 * time.Second

// maxAnswer bounds what is read of a platform's answer to a post (they are a few hundred
// bytes of JSON); the rest is discarded.
const maxAnswer = 64 << 10

// CheckURL parses rawURL and accepts it only as a reply address on one of hosts over https on
// the default port, or on a loopback host (http or https, any port: tests and make run). User
// info is refused everywhere. Its errors never quote the URL: a reply address is a bearer
// capability.
func CheckURL(rawURL string, hosts ...string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("not an absolute URL")
	}
	if u.User != nil {
		return nil, errors.New("user info is not allowed")
	}
	host := u.Hostname()
	if op.IsLoopback(host) {
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, errors.New("scheme must be http or https")
		}
		return u, nil
	}
	if u.Scheme != "https" {
		return nil, errors.New("must be https (plain http only on loopback)")
	}
	if p := u.Port(); p != "" && p != "443" {
		return nil, errors.New("port is not allowed")
	}
	for _, h := range hosts {
		if strings.EqualFold(strings.TrimSuffix(host, "."), h) {
			return u, nil
		}
	}
	return nil, errors.New("host is not the platform's")
}

// PostJSON sends body as one POST to rawURL, which must pass CheckURL for hosts, through hc
// (nil: a plain client) without following redirects: a 3xx is returned as the answer. It is
// bounded by ctx and by PostTimeout, and returns the status and at most 64 KiB of the answer.
// what names the endpoint in errors ("slack response_url"); errors are *op.Error and never
// contain the URL, the headers or the body.
func PostJSON(ctx context.Context, hc *http.Client, what, rawURL string, hosts []string, header http.Header, body []byte) (status int, answer []byte, err error) {
	u, err := CheckURL(rawURL, hosts...)
	if err != nil {
		return 0, nil, op.Errorf(op.KindValidation, "%s: %v", what, err)
	}
	ctx, cancel := context.WithTimeout(ctx, PostTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, op.Errorf(op.KindValidation, "%s: cannot build the request", what)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := NoRedirects(hc).Do(req)
	if err != nil {
		return 0, nil, SendError(ctx, what, err)
	}
	defer resp.Body.Close()
	answer, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return resp.StatusCode, nil, SendError(ctx, what, err)
	}
	return resp.StatusCode, answer, nil
}

// NoRedirects returns a copy of hc (nil: a zero client) that never follows a redirect: a
// reply address pinned to a platform host must not be bounced elsewhere with its body.
func NoRedirects(hc *http.Client) *http.Client {
	c := &http.Client{}
	if hc != nil {
		*c = *hc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// SendError describes a failed exchange (no answer) without the URL, which *url.Error quotes.
func SendError(ctx context.Context, what string, err error) *op.Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return &op.Error{Kind: op.KindTimeout, Retryable: true, Err: err, Attempts: 1,
			Message: what + ": no answer before the deadline"}
	}
	return &op.Error{Kind: op.KindUnavailable, Retryable: true, Err: err, Attempts: 1,
		Message: what + ": " + err.Error()}
}

// StatusError is the error for a reply post answered with a non-success HTTP status.
func StatusError(what string, status int) *op.Error {
	kind := op.KindProvider
	switch {
	case status == http.StatusTooManyRequests:
		kind = op.KindThrottled
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		kind = op.KindAuth
	case status >= 500:
		kind = op.KindUnavailable
	}
	return &op.Error{Kind: kind, Retryable: kind.Retryable(), HTTPStatus: status, Attempts: 1,
		Message: what + ": HTTP " + strconv.Itoa(status)}
}

// CodeError is the error for a reply post answered 200 with a platform error code in its body
// (Feishu "code", DingTalk and WeCom "errcode"). msg is the platform's own message, which
// names the problem, not the address.
func CodeError(what string, code int64, msg string) *op.Error {
	return &op.Error{Kind: op.KindProvider, Attempts: 1, ProviderCode: strconv.FormatInt(code, 10),
		ProviderMessage: Truncate(msg, 200), Message: what + ": error " + strconv.FormatInt(code, 10)}
}

// CheckReply refuses, before anything is sent, a reply address that is not the platform's own
// (a reply handed to the wrong platform) or whose stated lifetime has ended.
func CheckReply(what, platform string, reply Reply, now time.Time) error {
	if reply.Platform != platform || (reply.URL == "" && reply.MessageID == "") {
		return op.Errorf(op.KindValidation, "%s: not a %s reply address", what, platform)
	}
	if reply.Expired(now) {
		return op.Errorf(op.KindValidation, "%s: the reply address has expired", what)
	}
	return nil
}

// PostErrcode posts body to reply.URL, pinned to host, and checks the answer the DingTalk and
// WeCom way: a non-2xx status, or a non-zero "errcode" in the JSON body (both report failures
// under HTTP 200). An answer without an errcode is taken as success, as their SDKs do.
func PostErrcode(ctx context.Context, hc *http.Client, what, host string, reply Reply, body []byte) error {
	status, answer, err := PostJSON(ctx, hc, what, reply.URL, []string{host}, nil, body)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return StatusError(what, status)
	}
	var res struct {
		ErrCode *int64 `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if json.Unmarshal(answer, &res) == nil && res.ErrCode != nil && *res.ErrCode != 0 {
		return CodeError(what, *res.ErrCode, res.ErrMsg)
	}
	return nil
}
