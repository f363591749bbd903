package huaweicloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/step"
	"github.com/lbfn/lbfn/shared/validate"
)

// A resource describes one kind of object the ELB APIs create with POST on a collection and
// list with GET ?name= on the same collection: a pool of any of the three pool APIs
// (pools.go), and as well a listener or a member. It is all that create, find and reconcile
// need to know of it, so another kind of object is another description. Every ELB object
// carries its id as "id", in the create's answer and in a list alike.
type resource[T any] struct {
	// noun names one in messages: "pool".
	noun string
	// path is the collection, under the host, for a project: "/v2/{project_id}/elb/pools".
	// A collection inside another (a pool's members) is a description made per request.
	path func(project string) string
	// key holds the object in the create's body and answer: {"pool": {...}}.
	key string
	// listKey holds the array in the list's answer: {"pools": [...]}.
	listKey string
	// name is what an unanswered create is looked up by: "" when sent has none, and then it
	// cannot be.
	name func(sent *T) string
	// matches reports whether listed, one object of the list of that name, is the one sent
	// would have created rather than another of the same name.
	matches func(sent *T, listed []byte) bool
}

// send creates sent, the object of res, in region and project (see create).
func send[T any](ctx context.Context, c *Client, res resource[T], region, projectID string, sent *T, call op.Call) (op.Result, error) {
	if sent == nil {
		return op.Result{}, op.Invalid([]validate.Violation{{Field: res.key, Message: "required"}})
	}
	project, err := c.project(projectID)
	if err != nil {
		return op.Result{}, err
	}
	body, err := marshalUnder(res.key, sent)
	if err != nil {
		return op.Result{}, op.Wrap(op.KindValidation, err, "encoding the request: "+err.Error())
	}
	x := &creation{
		noun: res.noun, key: res.key, listKey: res.listKey,
		project: project, name: res.name(sent),
		matches: func(listed []byte) bool { return res.matches(sent, listed) },
		post: httpx.Request{
			Method: http.MethodPost,
			URL:    c.baseURL(region) + res.path(project),
			Header: postHeader(project),
			Body:   body,
		},
	}
	out, err := c.create(ctx, x, call.Repeat)
	return out, c.redact(err)
}

// marshalUnder encodes {key: v} as json.Marshal does, without the map and the interface
// value it would encode from: four allocations fewer and a seventh less time for a
// master-slave pool. key is one of the resource keys ("pool"), which need no escaping.
func marshalUnder(key string, v any) ([]byte, error) {
	inner, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	body := make([]byte, 0, len(`{"":}`)+len(key)+len(inner))
	body = append(body, `{"`...)
	body = append(body, key...)
	body = append(body, `":`...)
	body = append(body, inner...)
	return append(body, '}'), nil
}

// creation is one create under way: the request that makes the object, and how to find it
// again in the collection it is posted to.
type creation struct {
	noun, key, listKey string
	project, name      string
	matches            func(listed []byte) bool
	post               httpx.Request // sent as it is by every try: the body marshalled once
}

// create sends one create, signed afresh for every attempt, throttling, 5xx and a busy load
// balancer retried by httpx.
//
// Exactly once: these creates carry no idempotency token, so a POST retried after the request
// was written but never answered could create a second object. The transport therefore never
// retries such an ambiguous failure itself. A named object is found again instead, by listing
// the collection's objects of that name (the documented GET ?name= endpoints) and adopting the
// one that matches what was sent (for a pool: same name, protocol, lb_algorithm, and listener
// and load balancer when given) as created:
//   - when repeat says an earlier delivery may have sent this create (perhaps another process,
//     whose answer and memory are gone), the lookup comes first, and the create is sent only
//     when no such object exists; a delivery known to be the first skips it;
//   - after an unanswered create, reconcile looks again, and sends the create once more only
//     when the object is absent, for as long as the deadline allows.
//
// Without a name there is nothing to look it up by: an unanswered create is an error that is
// not retryable and says that the object may have been created, and a repeat is created
// blindly (only the idempotency store stands between it and a second one). An object made
// earlier with the same name and settings cannot be told apart from the one this creation
// made, so callers who rely on this give unique names; two matches are reported as a conflict
// rather than guessed between.
func (c *Client) create(ctx context.Context, x *creation, repeat bool) (op.Result, error) {
	attempts := 0
	if repeat && x.name != "" {
		out, found, n, err := c.find(ctx, x)
		attempts += n
		if err != nil {
			// Nothing was sent by this delivery: the lookup's failure is the answer as it is.
			return op.Result{}, op.AsError(err).WithAttempts(attempts)
		}
		if found {
			out.Attempts = attempts
			return out, nil
		}
	}
	resp, err := c.http.Do(ctx, x.post, c.signer.Sign, retryable)
	if err != nil {
		attempts += attemptsOf(err)
		if httpx.Ambiguous(err) {
			return c.reconcile(ctx, x, err, attempts)
		}
		return op.Result{}, op.AsError(err).WithAttempts(attempts)
	}
	resp.Attempts += attempts
	return x.created(resp)
}

// maxReconcileRounds bounds the look-then-create rounds of one reconcile when the deadline
// does not come first (it always does in a function: every invocation has one).
const maxReconcileRounds = 50

// reconcile resolves an ambiguous create (see create): each round lists the objects of the
// name, and sends the create again only when none matches, until the object is created or
// found, the create is refused, or ctx's deadline leaves no room for another round. The rounds back off as the transport's retries do.
func (c *Client) reconcile(ctx context.Context, x *creation, cause error, attempts int) (op.Result, error) {
	// maybe answers "the object may have been created": never retryable, since a blind retry
	// could create a second one. It keeps the kind of err (unavailable, timeout, or the
	// lookup's refusal) and its provider details.
	maybe := func(err error, why string) error {
		pe := op.AsError(err)
		return &op.Error{Kind: pe.Kind, Retryable: false, HTTPStatus: pe.HTTPStatus, ProviderCode: pe.ProviderCode, ProviderMessage: pe.ProviderMessage,
			RequestID: pe.RequestID, Attempts: attempts, Err: err,
			Message: "the create was sent but no answer came, so a " + x.noun + " may have been created: " + why +
				"; check the " + x.noun + "s before sending it again (these creates have no idempotency token)"}
	}
	if x.name == "" {
		return op.Result{}, maybe(cause, "the "+x.noun+" has no name to look it up by")
	}
	unknown := cause // why the object's existence is still unknown
	policy := step.Policy{First: c.http.Policy.InitialInterval, Growth: 2, Cap: c.http.Policy.MaxInterval, Jitter: 0.2,
		MaxSteps: maxReconcileRounds}
	out, _, err := step.Run(ctx, policy, func(ctx context.Context, _ int) (step.Verdict[op.Result], error) {
		out, found, n, err := c.find(ctx, x)
		attempts += n
		switch {
		case found:
			return step.Done(out), nil
		case err != nil && op.AsError(err).Retryable:
			unknown = err // a read: look again next round
			return step.NotYet[op.Result](0), nil
		case err != nil:
			return step.Verdict[op.Result]{}, lookupError{err}
		}
		// Absent: the earlier creates did not happen, and this one decides.
		resp, err := c.http.Do(ctx, x.post, c.signer.Sign, retryable)
		if err != nil {
			attempts += attemptsOf(err)
			if httpx.Ambiguous(err) {
				unknown = err
				return step.NotYet[op.Result](0), nil
			}
			return step.Verdict[op.Result]{}, err // not sent, or sent and refused: it stands
		}
		attempts += resp.Attempts
		out, err = x.created(resp)
		return step.Done(out), err
	})
	var lookup lookupError
	var notDone *step.NotDoneError
	switch {
	case err == nil:
		out.Attempts = attempts
		return out, nil
	case errors.As(err, &lookup):
		return op.Result{}, maybe(lookup.err, "looking it up by name failed: "+lookup.err.Error())
	case errors.As(err, &notDone) || ctx.Err() != nil:
		return op.Result{}, maybe(unknown, "the deadline came before it could be settled")
	}
	// The last round found none, so only this round's create counts: its failure stands.
	return op.Result{}, op.AsError(err).WithAttempts(attempts)
}

// lookupError is a lookup that failed for good during reconcile.
type lookupError struct{ err error }

func (e lookupError) Error() string { return e.err.Error() }
func (e lookupError) Unwrap() error { return e.err }

// find lists the objects named x.name and returns the one x.matches as a created outcome,
// its answer shaped as the create's: {key: object}.
func (c *Client) find(ctx context.Context, x *creation) (op.Result, bool, int, error) {
	req := httpx.Request{
		Method: http.MethodGet,
		URL:    x.post.URL + "?" + url.Values{"name": {x.name}}.Encode(),
		Header: http.Header{"X-Project-Id": {x.project}},
	}
	resp, err := c.read.Do(ctx, req, c.signer.Sign, retryable)
	if err != nil {
		return op.Result{}, false, attemptsOf(err), err
	}
	if resp.StatusCode != http.StatusOK {
		return op.Result{}, false, resp.Attempts, responseError(resp)
	}
	var list []json.RawMessage
	var requestID string
	if err := decodeMembers(resp.Body, map[string]any{x.listKey: &list, "request_id": &requestID}); err != nil {
		return op.Result{}, false, resp.Attempts, op.Errorf(op.KindProvider, "listing %ss: unreadable answer: %v", x.noun, err)
	}
	var match json.RawMessage
	var matchID string
	for _, raw := range list {
		var o identified
		if json.Unmarshal(raw, &o) == nil && o.ID != "" && x.matches(raw) {
			if match != nil {
				return op.Result{}, false, resp.Attempts, op.Errorf(op.KindConflict, "several %ss named %q match (%s, %s)", x.noun, x.name, matchID, o.ID)
			}
			match, matchID = raw, o.ID
		}
	}
	if match == nil {
		return op.Result{}, false, resp.Attempts, nil
	}
	// The object exactly as listed, in the create answer's shape.
	var answer bytes.Buffer
	answer.WriteString(`{"` + x.key + `":`)
	answer.Write(match)
	answer.WriteString(`}`)
	return op.Result{
		Status:    op.StatusCreated,
		ID:        matchID,
		RequestID: firstNonEmpty(requestID, resp.Header.Get("X-Request-Id")),
		Response:  answer.Bytes(),
	}, true, resp.Attempts, nil
}

// identified is what every ELB object has: its id.
type identified struct {
	ID string `json:"id"`
}

// created reads a create's answer: 2xx with {key: {"id": ...}} is created; anything else an
// *op.Error.
func (x *creation) created(resp *httpx.Response) (op.Result, error) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return op.Result{}, responseError(resp)
	}
	rid := resp.Header.Get("X-Request-Id")
	id, requestID, ok := createdIDs(resp.Body, x.key)
	if !ok || id == "" {
		return op.Result{}, &op.Error{Kind: op.KindProvider, HTTPStatus: resp.StatusCode, RequestID: rid, Attempts: resp.Attempts,
			Message: fmt.Sprintf("huaweicloud answered HTTP %d without a %s id; a %s may have been created", resp.StatusCode, x.noun, x.noun)}
	}
	return op.Result{
		Status:    op.StatusCreated,
		ID:        id,
		RequestID: firstNonEmpty(requestID, rid),
		Attempts:  resp.Attempts,
		Response:  json.RawMessage(resp.Body),
	}, nil
}

// postHeader is a create's header, built key by key with the Content-Type slice shared: one
// allocation fewer per call than the map literal. httpx copies the values for each attempt, so
// the shared slice is never written.
func postHeader(project string) http.Header {
	header := make(http.Header, 2)
	header["Content-Type"] = jsonContentType
	header["X-Project-Id"] = []string{project}
	return header
}

var jsonContentType = []string{"application/json"}

// decodeMembers decodes the JSON object body's members named in into into the values they
// point to, leaving those of absent (or null) members as they are: what decoding into a
// struct with those keys as tags does, for keys known only at run time.
func decodeMembers(body []byte, into map[string]any) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return err
	}
	for key, v := range into {
		if raw, ok := obj[key]; ok {
			if err := json.Unmarshal(raw, v); err != nil {
				return err
			}
		}
	}
	return nil
}
