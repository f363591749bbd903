package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/chatops"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/reply"
)

// maxResult bounds a result body: a result with the provider's response is a few kilobytes.
const maxResult = 1 << 20

// postTimeout bounds the post of a result into the chat; a create function waits for it.
const postTimeout = 10 * time.Second

// serveResult is POST /chatops/result/<token>: a create function's final result, posted into
// the conversation the token's job came from, once per job. A token that does not open gets
// a bare 401 and nothing is posted.
func (s *Server) serveResult(ctx context.Context, token string, r Request) chatops.Outbound {
	if r.Method != http.MethodPost {
		return chatops.Outbound{Status: http.StatusMethodNotAllowed, Header: http.Header{"Allow": {http.MethodPost}}}
	}
	t, err := s.sealer.open(token, s.opts.Now())
	if err != nil {
		s.log.WarnContext(ctx, "result with a reply token that does not open: answering 401")
		return bare(http.StatusUnauthorized)
	}
	log := s.log.With("platform", t.Platform, "jobId", t.JobID, "function", t.Function)
	p, ok := s.platforms[t.Platform]
	if !ok || p.Missing() != "" {
		log.WarnContext(ctx, "result for a platform not configured: answering 401")
		return bare(http.StatusUnauthorized)
	}
	var res op.Result
	if len(r.Body) > maxResult || json.Unmarshal(r.Body, &res) != nil {
		return plain(http.StatusBadRequest, "the body is not a result")
	}
	// The token names its job: a result of another job or function is not this one's.
	if res.Function != t.Function || res.IdempotencyKey != t.JobID {
		log.WarnContext(ctx, "result of another job: not posted", "resultFunction", res.Function, "resultKey", res.IdempotencyKey)
		return plain(http.StatusBadRequest, "the result is not the token's job")
	}
	if !reply.Final(&res) {
		return plain(http.StatusAccepted, "not final: nothing posted")
	}
	if !s.posted.claim(t.JobID, s.opts.Now()) {
		log.InfoContext(ctx, "result already posted: not posted again")
		return plain(http.StatusOK, "already posted")
	}
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	rp := chatops.Reply{Platform: t.Platform, URL: t.URL, MessageID: t.MessageID}
	if t.ReplyExpires != 0 {
		rp.Expires = time.Unix(t.ReplyExpires, 0)
	}
	if err := p.Post(ctx, rp, FormatResult(t.JobID, &res)); err != nil {
		s.posted.release(t.JobID) // a retry of this post may still get through
		log.WarnContext(ctx, "could not post the result into the chat", "error", err.Error())
		return plain(http.StatusBadGateway, "could not post the result into the chat")
	}
	log.InfoContext(ctx, "result posted", "ok", res.OK, "status", string(res.Status))
	return plain(http.StatusOK, "posted")
}

func plain(status int, text string) chatops.Outbound {
	return chatops.Outbound{Status: status, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte(text + "\n")}
}

// FormatResult is the chat message of a create function's final result: the function, the
// job id, and "created" with the resource id, or the error's kind, its message and the path of
// every broken rule.
func FormatResult(job string, res *op.Result) string {
	var b strings.Builder
	if res.OK {
		switch res.Status {
		case op.StatusValidated:
			fmt.Fprintf(&b, "%s job %s: validated (dry run); nothing was created.", res.Function, job)
		default:
			fmt.Fprintf(&b, "%s job %s: %s %s", res.Function, job, res.Status, res.ID)
			if res.RequestID != "" {
				fmt.Fprintf(&b, " (request %s)", res.RequestID)
			}
		}
		return b.String()
	}
	e := res.Err()
	fmt.Fprintf(&b, "%s job %s failed: %s: %s", res.Function, job, e.Kind, e.Message)
	for _, v := range e.Violations {
		field := v.Field
		if field == "" {
			field = "(the request)"
		}
		fmt.Fprintf(&b, "\n• %s: %s", field, v.Message)
	}
	return b.String()
}
