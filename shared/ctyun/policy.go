package ctyun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/step"
	"github.com/lbfn/lbfn/shared/validate"
)

// CreatePolicy is the ctyun-create-policy operation, its client from the environment (FromEnv).
var CreatePolicy = NewCreatePolicy(FromEnv)

// NewCreatePolicy returns the ctyun-create-policy operation with its client from newClient, so
// tests and local runs can point it elsewhere than the environment says.
func NewCreatePolicy(newClient func() (*Client, error)) op.Operation {
	return &op.Spec[CreatePolicyRequest, *Client]{
		FunctionName: "ctyun-create-policy",
		ProviderName: "ctyun",
		Client:       newClient,
		Validate:     func(r *CreatePolicyRequest, v *validate.Report) { r.PolicyBody.Validate(v) },
		Send: func(ctx context.Context, c *Client, r *CreatePolicyRequest, call op.Call) (op.Result, error) {
			return c.CreatePolicy(ctx, r, call)
		},
	}
}

// tokenSpace namespaces derived clientTokens, so the same idempotency key used for another
// purpose never collides with one of ours.
var tokenSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/lbfn/lbfn/ctyun-create-policy"))

// DeriveClientToken returns the clientToken for an idempotency key: a name-based UUID (36
// characters), the same for the same key in every process, every redelivery and every
// resumed invocation, so they all continue the one creation.
func DeriveClientToken(idempotencyKey string) string {
	return uuid.NewSHA1(tokenSpace, []byte(idempotencyKey)).String()
}

// CreatePolicy sends the request and re-sends the same bytes (re-signed each time) until
// CTyun says the policy is done, a step fails, or the deadline nears. In the last case the
// outcome is StatusInProgress with the clientToken and the request to send again: the
// creation goes on at CTyun and a later call with that request continues it.
func (c *Client) CreatePolicy(ctx context.Context, r *CreatePolicyRequest, call op.Call) (op.Result, error) {
	token := r.ClientToken
	if token == "" {
		if call.IdempotencyKey == "" {
			// op.Run always resolves a key; a random token here could duplicate the policy.
			return op.Result{}, op.Errorf(op.KindConfig, "ctyun: neither a clientToken nor an idempotency key")
		}
		token = DeriveClientToken(call.IdempotencyKey)
	}
	wire := r.PolicyBody
	wire.ClientToken = token
	body, err := json.Marshal(&wire)
	if err != nil {
		return op.Result{}, op.Wrap(op.KindValidation, err, "encoding the request")
	}
	p := &poller{c: c, req: httpx.Request{
		Method: http.MethodPost,
		URL:    c.url,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   body, // the same bytes on every attempt of every step
	}}

	out, _, err := step.Run(ctx, c.poll, p.step)
	var notDone *step.NotDoneError
	switch {
	case err == nil:
		out.Attempts = p.attempts
		return out, nil
	case errors.As(err, &notDone):
		again := *r
		again.ClientToken = token
		again.DryRun = false
		// The key travels with the request, so that the resumed call continues this creation
		// under the key it started with even when that key came from a message id or a hash.
		// (An Idempotency-Key header too long for the field stays out: the clientToken still
		// continues the one creation.)
		if utf8.RuneCountInString(call.IdempotencyKey) <= op.MaxIdempotencyKey {
			again.IdempotencyKey = call.IdempotencyKey
		}
		request, err := json.Marshal(&again)
		if err != nil {
			return op.Result{}, op.Wrap(op.KindValidation, err, "encoding the request")
		}
		o := op.Result{Status: op.StatusInProgress, ClientToken: token, RetryAfterSeconds: op.Seconds(notDone.RetryAfter),
			Attempts: p.attempts, Request: request}
		if p.last != nil {
			o.RequestID = responseRequestID(p.last.Header)
			o.Response = json.RawMessage(p.last.Body)
		}
		return o, nil
	}
	return op.Result{}, op.AsError(err).WithAttempts(p.attempts)
}

// Original implements op.Resumable: a clientToken derived from the idempotency key is the
// one lbfn adds to an in_progress result's request, so the request without it is the same
// creation (and sends the same token).
func (r *CreatePolicyRequest) Original(idempotencyKey string) op.Request {
	if r.ClientToken == "" || r.ClientToken != DeriveClientToken(idempotencyKey) {
		return r
	}
	o := *r
	o.ClientToken = ""
	return &o
}

// poller is one CreatePolicy run: its steps and what they saw.
type poller struct {
	c        *Client
	req      httpx.Request
	attempts int             // HTTP requests sent, over every step
	last     *httpx.Response // the last answer, for an in_progress outcome
	odd      bool            // a done without policyID was seen: one more poll, then fail
}

// step sends the request once (the transport may retry a 429, a 5xx or a lost connection) and
// reads CTyun's verdict.
func (p *poller) step(ctx context.Context, _ int) (step.Verdict[op.Result], error) {
	resp, err := p.c.http.Do(ctx, p.req, p.c.signer.Sign, nil)
	if err != nil {
		e := op.AsError(err)
		p.attempts += e.Attempts
		return step.Verdict[op.Result]{}, e
	}
	p.attempts += resp.Attempts
	p.last = resp
	env, err := readAnswer(resp)
	if err != nil {
		return step.Verdict[op.Result]{}, err
	}
	switch status := env.ReturnObj.Status; {
	case status == ProgressInProgress:
		return step.NotYet[op.Result](0), nil
	case status == ProgressDone && env.ReturnObj.PolicyID != nil && *env.ReturnObj.PolicyID != "":
		return step.Done(op.Result{
			Status:    op.StatusCreated,
			ID:        *env.ReturnObj.PolicyID,
			RequestID: responseRequestID(resp.Header),
			Response:  json.RawMessage(resp.Body),
		}), nil
	case status == ProgressDone && !p.odd:
		p.odd = true // seen once: CTyun may still be filling it in
		return step.NotYet[op.Result](0), nil
	case status == ProgressDone:
		return step.Verdict[op.Result]{}, &op.Error{Kind: op.KindProvider, HTTPStatus: resp.StatusCode,
			RequestID: responseRequestID(resp.Header),
			Message:   "CTyun said the policy is done but gave no policyID, twice"}
	default:
		return step.Verdict[op.Result]{}, &op.Error{Kind: op.KindProvider, HTTPStatus: resp.StatusCode,
			RequestID: responseRequestID(resp.Header), ProviderMessage: redact.Text(env.ReturnObj.Message),
			Message: fmt.Sprintf("CTyun answered an undocumented progress status %q", status)}
	}
}
