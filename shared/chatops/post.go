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

	"github.com/lbfn/lbfn/shared/egress"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// PostTimeout bounds a reply post whose context has no sooner deadline: a chat reply is one
// small JSON request, and a stuck platform must not hold an invocation until it is killed.
const PostTimeout = 10 * time.Second

// maxAnswer bounds what is read of a platform's answer to a post (they are a few hundred
// bytes of JSON); the rest is discarded.
const maxAnswer = 64 << 10

// CheckURL parses rawURL and accepts it only as a reply address on one of hosts over https on
// the default port, or on a loopback host (http or https, any port: tests and make run). It
// first applies egress.CheckURL, the rule of every caller-given URL: no user info, no metadata
// name, no refused literal address, and not the Lambda Runtime API (on loopback, a reply
// posted there could answer the function's own invocation). Its errors never quote the URL: a
// reply address is a bearer capability.
func CheckURL(rawURL string, hosts ...string) (*url.URL, error) {
	if err := egress.CheckURL(rawURL); err != nil {
		return nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("not an absolute URL")
	}
	host := u.Hostname()
	if op.IsLoopback(host) {
		return u, nil
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

// PostJSON sends body as one POST to rawURL, which must pass CheckURL for hosts, through
// Client(hc): a redirect is not followed (a 3xx is returned as the answer). It is bounded by
// ctx and by PostTimeout, and returns the status and at most 64 KiB of the answer. what names
// the endpoint in errors ("slack response_url"); errors are *op.Error and never contain the
// URL, the headers or the body.
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
	resp, err := Client(hc).Do(req)
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

// transport is shared by every reply post, so connections to a platform are reused.
var transport = egress.Transport()

// Client returns the client reply posts go through: a copy of hc (nil: one without a timeout
// of its own, ctx and PostTimeout bound each post) that never follows a redirect, since a
// reply address pinned to a platform host must not be bounced elsewhere with its body. When hc
// brings no transport, it dials through egress.Transport: no proxy, and every address actually
// dialled checked, so a platform name that resolves to a metadata, private or link-local
// address, or a loopback URL on the Lambda Runtime API's port, is refused.
func Client(hc *http.Client) *http.Client {
	c := httpx.WithoutRedirects(hc)
	if c.Transport == nil {
		c.Transport = transport
	}
	return c
}

// SendError describes a failed exchange (no answer) without the URL, which *url.Error quotes,
// and through redact.Text: a transport error may quote what the platform sent back.
func SendError(ctx context.Context, what string, err error) *op.Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return &op.Error{Kind: op.KindTimeout, Retryable: true, Err: err, Attempts: 1,
			Message: what + ": no answer before the deadline"}
	}
	if egress.Refused(err) {
		var ae *egress.AddressError
		errors.As(err, &ae)
		return &op.Error{Kind: op.KindValidation, Err: ae, Attempts: 1, Message: what + ": " + ae.Error()}
	}
	return &op.Error{Kind: op.KindUnavailable, Retryable: true, Err: err, Attempts: 1,
		Message: what + ": " + redact.Text(err.Error())}
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

// CodeError is the error of the given kind for a reply post answered 200 with a platform
// error code in its body (Feishu "code", DingTalk and WeCom "errcode"): op.KindProvider, or
// op.KindAuth for a code that refuses the credentials. msg is the platform's own message: it
// goes into ProviderMessage through redact.Text, without any of known (the secrets of the
// exchange, which a platform may echo) and any other credential form.
func CodeError(kind op.Kind, what string, code int64, msg string, known ...redact.Secret) *op.Error {
	return &op.Error{Kind: kind, Retryable: kind.Retryable(), Attempts: 1, ProviderCode: strconv.FormatInt(code, 10),
		ProviderMessage: Truncate(redact.Text(msg, redact.Values(known...)...), 200),
		Message:         what + ": error " + strconv.FormatInt(code, 10)}
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
		return CodeError(op.KindProvider, what, *res.ErrCode, res.ErrMsg)
	}
	return nil
}
