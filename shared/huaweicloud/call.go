package huaweicloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/step"
	"github.com/lbfn/lbfn/shared/validate"
)

// api is one of the three pool collections.
type api struct {
	path func(project string) string
}

var (
	apiV2    = api{path: func(p string) string { return "/v2/" + p + "/elb/pools" }}
	apiLbaas = api{path: func(string) string { return "/v2.0/lbaas/pools" }}
	apiV3    = api{path: func(p string) string { return "/v3/" + p + "/elb/master-slave-pools" }}
)

// identity is what a listed pool must match to be adopted as the one an ambiguous create made.
type identity struct {
	name, protocol, lbAlgorithm, listenerID, loadbalancerID string
}

func (p *V2PoolFields) identity() identity {
	return identity{deref(p.Name), p.Protocol, p.LbAlgorithm, deref(p.ListenerID), deref(p.LoadbalancerID)}
}

func (p *MasterSlavePool) identity() identity {
	return identity{deref(p.Name), p.Protocol, p.LbAlgorithm, deref(p.ListenerID), deref(p.LoadbalancerID)}
}

// CreatePool sends POST /v2/{project_id}/elb/pools. Like the other two methods it does not
// check the documented rules: the operations' Decode does, before any call. call.Repeat says
// an earlier delivery may have sent it already (see create).
func (c *Client) CreatePool(ctx context.Context, r *CreatePoolRequest, call op.Call) (op.Outcome, error) {
	return send(ctx, c, apiV2, r, call)
}

// CreateLbaasPool sends POST /v2.0/lbaas/pools.
func (c *Client) CreateLbaasPool(ctx context.Context, r *CreateLbaasPoolRequest, call op.Call) (op.Outcome, error) {
	return send(ctx, c, apiLbaas, r, call)
}

// CreateMasterSlavePool sends POST /v3/{project_id}/elb/master-slave-pools.
func (c *Client) CreateMasterSlavePool(ctx context.Context, r *CreateMasterSlavePoolRequest, call op.Call) (op.Outcome, error) {
	return send(ctx, c, apiV3, r, call)
}

// identified is a pool type that can say what identifies the pool it creates.
type identified[P any] interface {
	*P
	identity() identity
}

func send[P any, PP identified[P]](ctx context.Context, c *Client, a api, r *Request[P], call op.Call) (op.Outcome, error) {
	if r == nil || r.Pool == nil {
		return op.Outcome{}, op.Invalid([]validate.Violation{{Field: "pool", Message: "required"}})
	}
	out, err := c.create(ctx, a, r.Region, r.ProjectID, r.Pool, PP(r.Pool).identity(), call.Repeat)
	return out, c.redact(err)
}

// redact keeps every credential form out of err and the errors it wraps (redact.Text, with
// this client's own secret key and security token): a 401 quotes the gateway's canonical
// request, which holds the signed X-Security-Token, and a provider may echo the
// Authorization header with its signature.
func (c *Client) redact(err error) error {
	if err == nil {
		return nil
	}
	known := redact.Values(c.signer.SecretKey, c.signer.SecurityToken)
	for e := err; e != nil; e = errors.Unwrap(e) {
		if oe, ok := e.(*op.Error); ok && oe != nil {
			oe.Message, oe.ProviderMessage = redact.Text(oe.Message, known...), redact.Text(oe.ProviderMessage, known...)
		}
	}
	return err
}

// create sends one create: the body marshalled once, signed afresh for every attempt,
// throttling, 5xx and a busy load balancer retried by httpx.
//
// Exactly once: these creates carry no idempotency token, so a POST retried after the request
// was written but never answered could create a second pool. The transport therefore never
// retries such an ambiguous failure itself. A named pool is found again instead, by listing
// the pools of that name (the documented GET ?name= endpoints) and adopting the one that
// matches what was sent (same name, protocol, lb_algorithm, and listener and load balancer
// when given) as created:
//   - when repeat says an earlier delivery may have sent this create (perhaps another process,
//     whose answer and memory are gone), the lookup comes first, and the create is sent only
//     when no such pool exists; a delivery known to be the first skips it;
//   - after an unanswered create, reconcile looks again, and sends the create once more only
//     when the pool is absent, for as long as the deadline allows.
//
// Without a name there is nothing to look it up by: an unanswered create is an error that is
// not retryable and says that a pool may have been created, and a repeat is created blindly
// (only the idempotency store stands between it and a second pool). A pool made earlier with
// the same name and settings cannot be told apart from the one this creation made, so callers
// who rely on this give pools unique names; two matches are reported as a conflict rather than
// guessed between.
func (c *Client) create(ctx context.Context, a api, region, projectID string, pool any, id identity, repeat bool) (op.Outcome, error) {
	project, err := c.project(projectID)
	if err != nil {
		return op.Outcome{}, err
	}
	body, err := json.Marshal(struct {
		Pool any `json:"pool"`
	}{pool})
	if err != nil {
		return op.Outcome{}, op.Wrap(op.KindValidation, err, "encoding the request: "+err.Error())
	}
	// Key by key, with the Content-Type slice shared: one allocation fewer per call than the
	// map literal. httpx copies the values for each attempt, so the shared slice is never written.
	header := make(http.Header, 2)
	header["Content-Type"] = jsonContentType
	header["X-Project-Id"] = []string{project}
	req := httpx.Request{
		Method: http.MethodPost,
		URL:    c.baseURL(region) + a.path(project),
		Header: header,
		Body:   body,
	}
	attempts := 0
	if repeat && id.name != "" {
		out, found, n, err := c.findPool(ctx, a, region, project, id)
		attempts += n
		if err != nil {
			// Nothing was sent by this delivery: the lookup's failure is the answer as it is.
			e := op.AsError(err)
			e.Attempts = attempts
			return op.Outcome{}, e
		}
		if found {
			out.Attempts = attempts
			return out, nil
		}
	}
	resp, err := c.http.Do(ctx, req, c.signer.Sign, retryable)
	if err != nil {
		attempts += attemptsOf(err)
		if httpx.Ambiguous(err) {
			return c.reconcile(ctx, a, req, region, project, id, err, attempts)
		}
		e := op.AsError(err)
		e.Attempts = attempts
		return op.Outcome{}, e
	}
	resp.Attempts += attempts
	return created(resp)
}

var jsonContentType = []string{"application/json"}

// maxReconcileRounds bounds the look-then-create rounds of one reconcile when the deadline
// does not come first (it always does in a function: every invocation has one).
const maxReconcileRounds = 50

// reconcile resolves an ambiguous create (see create): each round lists the pools of the name,
// and sends the create again only when none matches, until the pool is created or found, the
// create is refused, or the deadline (less the transport's margin) leaves no room for another
// round. The rounds back off as the transport's retries do.
func (c *Client) reconcile(ctx context.Context, a api, req httpx.Request, region, project string, id identity, cause error, attempts int) (op.Outcome, error) {
	// maybe answers "a pool may have been created": never retryable, since a blind retry could
	// create a second one. It keeps the kind of err (unavailable, timeout, or the lookup's
	// refusal) and its provider details.
	maybe := func(err error, why string) error {
		pe := op.AsError(err)
		return &op.Error{Kind: pe.Kind, HTTPStatus: pe.HTTPStatus, ProviderCode: pe.ProviderCode, ProviderMessage: pe.ProviderMessage,
			RequestID: pe.RequestID, Attempts: attempts, Err: err,
			Message: "the create was sent but no answer came, so a pool may have been created: " + why +
				"; check the pools before sending it again (these creates have no idempotency token)"}
	}
	if id.name == "" {
		return op.Outcome{}, maybe(cause, "the pool has no name to look it up by")
	}
	unknown := cause // why the pool's existence is still unknown
	policy := step.Policy{First: c.http.Policy.InitialInterval, Growth: 2, Cap: c.http.Policy.MaxInterval, Jitter: 0.2,
		MaxSteps: maxReconcileRounds}
	out, _, err := step.Run(ctx, policy, func(ctx context.Context, _ int) (step.Verdict[op.Outcome], error) {
		out, found, n, err := c.findPool(ctx, a, region, project, id)
		attempts += n
		switch {
		case found:
			return step.Done(out), nil
		case err != nil && op.AsError(err).Retryable:
			unknown = err // a read: look again next round
			return step.NotYet[op.Outcome](0), nil
		case err != nil:
			return step.Verdict[op.Outcome]{}, lookupError{err}
		}
		// Absent: the earlier creates did not happen, and this one decides.
		resp, err := c.http.Do(ctx, req, c.signer.Sign, retryable)
		if err != nil {
			attempts += attemptsOf(err)
			if httpx.Ambiguous(err) {
				unknown = err
				return step.NotYet[op.Outcome](0), nil
			}
			return step.Verdict[op.Outcome]{}, err // not sent, or sent and refused: it stands
		}
		attempts += resp.Attempts
		out, err = created(resp)
		return step.Done(out), err
	})
	var lookup lookupError
	var notDone *step.NotDoneError
	switch {
	case err == nil:
		out.Attempts = attempts
		return out, nil
	case errors.As(err, &lookup):
		return op.Outcome{}, maybe(lookup.err, "looking it up by name failed: "+lookup.err.Error())
	case errors.As(err, &notDone) || ctx.Err() != nil:
		return op.Outcome{}, maybe(unknown, "the deadline came before it could be settled")
	}
	// The last round found no pool, so only this round's create counts: its failure stands.
	e := op.AsError(err)
	e.Attempts = attempts
	return op.Outcome{}, e
}

// lookupError is a lookup that failed for good during reconcile.
type lookupError struct{ err error }

func (e lookupError) Error() string { return e.err.Error() }
func (e lookupError) Unwrap() error { return e.err }

// listedPool is what reconciliation reads of a listed pool.
type listedPool struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Protocol      string `json:"protocol"`
	LbAlgorithm   string `json:"lb_algorithm"`
	Listeners     []ref  `json:"listeners"`
	Loadbalancers []ref  `json:"loadbalancers"`
}

type ref struct {
	ID string `json:"id"`
}

func (p *listedPool) matches(id identity) bool {
	has := func(refs []ref, want string) bool {
		return want == "" || slices.ContainsFunc(refs, func(r ref) bool { return r.ID == want })
	}
	return p.Name == id.name && p.Protocol == id.protocol && p.LbAlgorithm == id.lbAlgorithm &&
		has(p.Listeners, id.listenerID) && has(p.Loadbalancers, id.loadbalancerID)
}

// findPool lists the pools named id.name and returns the one matching id as a created outcome.
func (c *Client) findPool(ctx context.Context, a api, region, project string, id identity) (op.Outcome, bool, int, error) {
	req := httpx.Request{
		Method: http.MethodGet,
		URL:    c.baseURL(region) + a.path(project) + "?" + url.Values{"name": {id.name}}.Encode(),
		Header: http.Header{"X-Project-Id": {project}},
	}
	resp, err := c.read.Do(ctx, req, c.signer.Sign, retryable)
	if err != nil {
		return op.Outcome{}, false, attemptsOf(err), err
	}
	if resp.StatusCode != http.StatusOK {
		return op.Outcome{}, false, resp.Attempts, responseError(resp)
	}
	var list struct {
		Pools     []json.RawMessage `json:"pools"`
		RequestID string            `json:"request_id"`
	}
	if err := json.Unmarshal(resp.Body, &list); err != nil {
		return op.Outcome{}, false, resp.Attempts, op.Errorf(op.KindProvider, "listing pools: unreadable answer: %v", err)
	}
	var match json.RawMessage
	var matchID string
	for _, raw := range list.Pools {
		var p listedPool
		if json.Unmarshal(raw, &p) == nil && p.ID != "" && p.matches(id) {
			if match != nil {
				return op.Outcome{}, false, resp.Attempts, op.Errorf(op.KindConflict, "several pools named %q match (%s, %s)", id.name, matchID, p.ID)
			}
			match, matchID = raw, p.ID
		}
	}
	if match == nil {
		return op.Outcome{}, false, resp.Attempts, nil
	}
	var b bytes.Buffer
	b.WriteString(`{"pool":`)
	b.Write(match)
	b.WriteString(`}`)
	return op.Outcome{
		Status:    op.StatusCreated,
		ID:        matchID,
		RequestID: firstNonEmpty(list.RequestID, resp.Header.Get("X-Request-Id")),
		Response:  b.Bytes(),
	}, true, resp.Attempts, nil
}

// created reads a create's answer: 2xx with pool.id is created; anything else an *op.Error.
func created(resp *httpx.Response) (op.Outcome, error) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return op.Outcome{}, responseError(resp)
	}
	rid := resp.Header.Get("X-Request-Id")
	poolID, requestID, ok := createdIDs(resp.Body)
	if !ok || poolID == "" {
		return op.Outcome{}, &op.Error{Kind: op.KindProvider, HTTPStatus: resp.StatusCode, RequestID: rid, Attempts: resp.Attempts,
			Message: fmt.Sprintf("huaweicloud answered HTTP %d without a pool id; a pool may have been created", resp.StatusCode)}
	}
	return op.Outcome{
		Status:    op.StatusCreated,
		ID:        poolID,
		RequestID: firstNonEmpty(requestID, rid),
		Attempts:  resp.Attempts,
		Response:  json.RawMessage(resp.Body),
	}, nil
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
	e := &op.Error{
		Kind:            kind,
		Retryable:       kind.Retryable() || busy(resp.StatusCode, pe),
		ProviderCode:    pe.code,
		ProviderMessage: pe.message,
		HTTPStatus:      resp.StatusCode,
		RequestID:       firstNonEmpty(pe.requestID, resp.Header.Get("X-Request-Id")),
		Attempts:        resp.Attempts,
	}
	e.Message = fmt.Sprintf("huaweicloud answered HTTP %d", resp.StatusCode)
	if pe.code != "" {
		e.Message += " " + pe.code
	}
	if pe.message != "" {
		e.Message += ": " + pe.message
	}
	return e
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
