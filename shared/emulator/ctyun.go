package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lbfn/lbfn/shared/auth/eopsign"
	"github.com/lbfn/lbfn/shared/ctyun"
	"github.com/lbfn/lbfn/shared/validate"
)

// CTyun ELB: POST /v4/elb/async-create-policy.
//
// Every answer the API itself gives is HTTP 200 with the 800/900 envelope. What comes before
// the API (the EOP gateway's signature check, risk control) answers outside it: the real
// gateway's form is not documented, so the emulator answers HTTP 401 (signature) or 403 (no
// User-Agent) with the same envelope shape and a statusCode of 900, which clients map by the
// HTTP status first.

func init() { providers = append(providers, registerCTyun) }

// CTyun error codes the emulator answers with (product.module.code, as CTyun's are).
const (
	CTyunCodeInvalidParameter = "ELB.Policy.InvalidParameter"
	CTyunCodeTokenMismatch    = "ELB.Policy.ClientTokenConflict"
	CTyunCodeSignature        = "Openapi.Signature.Invalid"
	CTyunCodeRiskControl      = "Openapi.RiskControl.Denied"
)

// CTyunAnswer scripts one answer for a clientToken (see ScriptCTyun). The zero value is a
// plain in_progress.
type CTyunAnswer struct {
	// Status is returnObj.status; anything but "done" and "in_progress" tests the client's
	// handling of undocumented states. Empty means in_progress.
	Status string
	// NoPolicyID answers done with policyID null, the anomaly clients must survive once.
	NoPolicyID bool
	// ErrorCode, when set, answers a 900 with this errorCode, Message and Description.
	ErrorCode, Message, Description string
}

// ScriptCTyun queues answers for clientToken; each valid, signed request carrying the token
// consumes one before the normal walk to done resumes.
func (e *Emulator) ScriptCTyun(clientToken string, answers ...CTyunAnswer) {
	s := e.ctyun()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script[clientToken] = append(s.script[clientToken], answers...)
}

// CTyunPolicy returns the policyID created for clientToken, once CTyun said done.
func (e *Emulator) CTyunPolicy(clientToken string) (policyID string, ok bool) {
	s := e.ctyun()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creations[clientToken]
	if !ok || !c.done {
		return "", false
	}
	return c.policyID, true
}

// ctyunState is what the emulated CTyun remembers: one creation per clientToken.
type ctyunState struct {
	mu        sync.Mutex
	creations map[string]*ctyunCreation
	script    map[string][]CTyunAnswer
}

type ctyunCreation struct {
	body     []byte // canonical body: a repeat must be the same request
	first    time.Time
	calls    int
	done     bool
	policyID string
}

func (e *Emulator) ctyun() *ctyunState {
	return providerState(e, "ctyun", func() *ctyunState {
		return &ctyunState{creations: map[string]*ctyunCreation{}, script: map[string][]CTyunAnswer{}}
	})
}

func registerCTyun(e *Emulator) {
	e.handle("ctyun", "POST /v4/elb/async-create-policy", e.ctyunCreatePolicy)
}

// ctyunEnvelope is the response body, fields in the documented order.
type ctyunEnvelope struct {
	StatusCode  int             `json:"statusCode"`
	Message     string          `json:"message"`
	Description string          `json:"description"`
	ErrorCode   string          `json:"errorCode"`
	Error       string          `json:"error,omitempty"`
	ReturnObj   *ctyunReturnObj `json:"returnObj,omitempty"`
}

type ctyunReturnObj struct {
	Status   string  `json:"status"`
	Message  string  `json:"message"`
	PolicyID *string `json:"policyID"` // null while in progress, as documented
}

func ctyunFailure(w http.ResponseWriter, r *http.Request, httpStatus int, code, message, description string) {
	echoRequestID(w, r)
	writeJSON(w, httpStatus, ctyunEnvelope{StatusCode: 900, Message: message, Description: description,
		ErrorCode: code, Error: code})
}

// echoRequestID returns the caller's request id, as CTyun's gateway does, so both sides can
// name the same request.
func echoRequestID(w http.ResponseWriter, r *http.Request) {
	if id := r.Header.Get(eopsign.HeaderRequestID); id != "" {
		w.Header().Set(eopsign.HeaderRequestID, id)
	}
}

func (e *Emulator) ctyunCreatePolicy(w http.ResponseWriter, r *http.Request, body []byte) {
	if strings.TrimSpace(r.Header.Get("User-Agent")) == "" {
		ctyunFailure(w, r, http.StatusForbidden, CTyunCodeRiskControl,
			"request denied by risk control: User-Agent is required", "请求被风控拦截：缺少 User-Agent")
		return
	}
	if err := eopsign.Verify(r, body, e.opts.AccessKey, e.opts.SecretKey, e.opts.Now()); err != nil {
		msg := "signature verification failed"
		switch {
		case errors.Is(err, eopsign.ErrStale):
			msg = "Eop-date is more than 15 minutes from the server's time (it must be Beijing time, UTC+8)"
		case errors.Is(err, eopsign.ErrUnknownKey):
			msg = "unknown access key"
		case errors.Is(err, eopsign.ErrMissing):
			msg = "missing or malformed ctyun-eop-request-id, Eop-date or Eop-Authorization"
		}
		ctyunFailure(w, r, http.StatusUnauthorized, CTyunCodeSignature, msg, "签名校验失败")
		return
	}

	var b ctyun.PolicyBody
	vs := validate.Decode(r.Context(), body, &b)
	if vs == nil {
		var rep validate.Report
		rep.RequiredString("clientToken", &b.ClientToken)
		b.Validate(&rep)
		vs = rep.Violations()
	}
	if len(vs) > 0 {
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = v.String()
		}
		text := strings.Join(parts, "; ")
		ctyunFailure(w, r, http.StatusOK, CTyunCodeInvalidParameter, "invalid parameter: "+text, "参数错误："+text)
		return
	}
	canonical, _ := json.Marshal(&b)

	s := e.ctyun()
	s.mu.Lock()
	c, seen := s.creations[b.ClientToken]
	if !seen {
		c = &ctyunCreation{body: canonical, first: e.opts.Now()}
		s.creations[b.ClientToken] = c
	}
	if !bytes.Equal(c.body, canonical) {
		s.mu.Unlock()
		ctyunFailure(w, r, http.StatusOK, CTyunCodeTokenMismatch,
			"clientToken was already used for a different request", "clientToken 已用于不同的请求")
		return
	}
	c.calls++
	var scripted *CTyunAnswer
	if q := s.script[b.ClientToken]; len(q) > 0 {
		scripted, s.script[b.ClientToken] = &q[0], q[1:]
	}
	switch {
	case scripted != nil:
		// A scripted done with a policyID completes the creation for good.
		if scripted.Status == "done" && !scripted.NoPolicyID && scripted.ErrorCode == "" {
			c.done = true
		}
	case !c.done && e.opts.CTyunDoneAfter > 0:
		c.done = e.opts.Now().Sub(c.first) >= e.opts.CTyunDoneAfter
	case !c.done:
		c.done = c.calls > e.opts.CTyunPolls // a negative count: done at once
	}
	if c.done && c.policyID == "" {
		c.policyID = newID("") // stable: every later answer names the same policy
	}
	done, policyID := c.done, c.policyID
	s.mu.Unlock()

	ret := &ctyunReturnObj{Status: "in_progress", Message: "请使用相同请求,进行重试"}
	switch {
	case scripted != nil && scripted.ErrorCode != "":
		ctyunFailure(w, r, http.StatusOK, scripted.ErrorCode, scripted.Message, scripted.Description)
		return
	case scripted != nil && scripted.Status == "done" && scripted.NoPolicyID:
		ret.Status, ret.Message = "done", "创建完成"
	case scripted != nil && scripted.Status == "done":
		ret.Status, ret.Message, ret.PolicyID = "done", "创建完成", &policyID
	case scripted != nil && scripted.Status != "" && scripted.Status != "in_progress":
		ret.Status, ret.Message = scripted.Status, scripted.Status
	case scripted != nil: // in_progress, whatever the walk says
	case done:
		ret.Status, ret.Message, ret.PolicyID = "done", "创建完成", &policyID
	}
	echoRequestID(w, r)
	writeJSON(w, http.StatusOK, ctyunEnvelope{StatusCode: 800, Message: "success", Description: "成功",
		ErrorCode: "SUCCESS", ReturnObj: ret})
}
