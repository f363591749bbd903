// Package reply posts a finished result to the replyTo URL its request named (chatops sets it
// to answer the chat after the queue-triggered function did the work). Only final outcomes are
// posted: a creation still in progress or a failure that will be retried is posted when it
// ends, not at every step.
package reply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/lbfn/lbfn/shared/egress"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
)

// Final reports whether res is an outcome worth posting: a success other than in_progress, or
// a failure that will not be retried.
func Final(res *op.Result) bool {
	if res.OK {
		return res.Status != op.StatusInProgress
	}
	return !res.Err().Retryable
}

// Poster posts results. The zero value is ready to use: the default retry policy (429 and 5xx
// retried; a lost answer is not re-sent, so a chat sees one reply), 10 s per attempt, and no
// wait past the context's deadline (which already keeps the invocation's time to answer:
// see op.Invocation).
//
// A reply URL is the caller's choice, so every post goes through egress.Transport: it is
// checked again on the address actually dialled (a name that resolves to a metadata, private
// or link-local address, or to the Lambda Runtime API, is refused), it uses no proxy, and a
// redirect is never followed (a 3xx is a failed post).
type Poster struct{}

// transport is shared by every Poster, so connections are reused across posts.
var transport = egress.Transport()

func (p Poster) client() *httpx.Client {
	hc := httpx.NewHTTPClient(10 * time.Second)
	hc.Transport = transport
	return &httpx.Client{HTTP: hc, UserAgent: "lbfn-reply/1.0"}
}

// Post sends res as JSON to url, which the request's validation already limited to https (or
// http on loopback) and checked again here. Its error contains neither the result body nor
// the URL.
func (p Poster) Post(ctx context.Context, url string, res *op.Result) error {
	if err := egress.CheckURL(url); err != nil {
		return fmt.Errorf("replyTo: %w", err)
	}
	body, err := json.Marshal(res)
	if err != nil {
		return err
	}
	resp, err := p.client().Do(ctx, httpx.Request{
		Method: http.MethodPost,
		URL:    url,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   body,
	}, nil, nil)
	if err != nil {
		// net/http's errors quote the URL, and a reply URL (a chat's response_url) is a bearer
		// capability: say what went wrong, not where.
		e := op.AsError(err)
		if egress.Refused(err) {
			var ae *egress.AddressError
			errors.As(err, &ae)
			return fmt.Errorf("replyTo: %w", ae)
		}
		return fmt.Errorf("replyTo: %s after %d attempts", e.Kind, e.Attempts)
	}
	if resp.StatusCode/100 == 3 {
		return fmt.Errorf("replyTo answered HTTP %d: a redirect is not followed", resp.StatusCode)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("replyTo answered HTTP %d", resp.StatusCode)
	}
	return nil
}
