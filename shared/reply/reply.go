// Package reply posts a finished result to the replyTo URL its request named (chatops sets it
// to answer the chat after the queue-triggered function did the work). Only final outcomes are
// posted: a creation still in progress or a failure that will be retried is posted when it
// ends, not at every step.
package reply

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

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

// Poster posts results. The zero value uses a client with a 10 s timeout and the default
// retry policy (429 and 5xx retried; a lost answer is not re-sent, so a chat sees one reply).
type Poster struct {
	Client *httpx.Client
}

var defaultClient = &httpx.Client{HTTP: &http.Client{Timeout: 10 * time.Second}, UserAgent: "lbfn-reply/1.0"}

// Post sends res as JSON to url, which the request's validation already limited to https (or
// http on loopback). Its error contains neither the result body nor the URL.
func (p Poster) Post(ctx context.Context, url string, res *op.Result) error {
	body, err := json.Marshal(res)
	if err != nil {
		return err
	}
	c := p.Client
	if c == nil {
		c = defaultClient
	}
	resp, err := c.Do(ctx, httpx.Request{
		Method: http.MethodPost,
		URL:    url,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   body,
	}, nil, nil)
	if err != nil {
		// net/http's errors quote the URL, and a reply URL (a chat's response_url) is a bearer
		// capability: say what went wrong, not where.
		return fmt.Errorf("replyTo: %s after %d attempts", op.AsError(err).Kind, op.AsError(err).Attempts)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("replyTo answered HTTP %d", resp.StatusCode)
	}
	return nil
}
