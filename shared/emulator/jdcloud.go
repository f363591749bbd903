package emulator

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/lbfn/lbfn/shared/auth/jdsign"
	"github.com/lbfn/lbfn/shared/jdcloud"
	"github.com/lbfn/lbfn/shared/validate"
)

// JD Cloud LB: createBackend and the describeBackends list the reconcile uses, on the real
// paths, signed with JDCLOUD2-HMAC-SHA256 and answered with JD's bodies.

const jdProvider = "jdcloud"

func init() { providers = append(providers, registerJDCloud) }

func registerJDCloud(e *Emulator) {
	// {$}: the trailing slash is part of JD's path, not a subtree.
	e.handle(jdProvider, "POST /v1/regions/{regionId}/backends/{$}", e.jdCreateBackend)
	e.handle(jdProvider, "GET /v1/regions/{regionId}/backends/{$}", e.jdDescribeBackends)
}

// JDCloudBackend is a backend the emulator holds.
type JDCloudBackend struct {
	BackendID   string
	CreatedTime time.Time
	Body        jdcloud.CreateBackendBody
}

type jdState struct {
	mu       sync.Mutex
	quota    int             // backends per load balancer; 0: unlimited
	missing  map[string]bool // load balancers that answer 404
	backends []JDCloudBackend
}

func (e *Emulator) jd() *jdState {
	return providerState(e, jdProvider, func() *jdState { return &jdState{missing: map[string]bool{}} })
}

// SetJDCloudQuota limits how many backends one JD Cloud load balancer holds; past it
// createBackend answers 429 "Quota limit backend exceeded.". Zero removes the limit.
func (e *Emulator) SetJDCloudQuota(n int) {
	s := e.jd()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota = n
}

// MarkJDCloudMissing makes JD Cloud load balancer lbID unknown: creating a backend on it
// answers 404.
func (e *Emulator) MarkJDCloudMissing(lbID string) {
	s := e.jd()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.missing[lbID] = true
}

// JDCloudBackends returns the JD Cloud backends created so far, oldest first.
func (e *Emulator) JDCloudBackends() []JDCloudBackend {
	s := e.jd()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]JDCloudBackend(nil), s.backends...)
}

// jdAnswer writes JD's envelope: result on success, error otherwise, and the request id in
// both the body and x-jdcloud-request-id.
func jdAnswer(w http.ResponseWriter, status int, result any, errStatus, message string) {
	id := newID("")
	w.Header().Set("x-jdcloud-request-id", id)
	body := map[string]any{"requestId": id}
	if status == http.StatusOK {
		body["result"] = result
	} else {
		body["error"] = map[string]any{"code": status, "status": errStatus, "message": message}
	}
	writeJSON(w, status, body)
}

// jdVerify checks the signature with the emulator's credentials; false means it answered 401.
func (e *Emulator) jdVerify(w http.ResponseWriter, r *http.Request, body []byte) bool {
	s := &jdsign.Signer{
		Credentials: jdsign.Credentials{AccessKey: e.opts.AccessKey, SecretKey: e.opts.SecretKey},
		Service:     "lb",
		Region:      r.PathValue("regionId"),
		Now:         e.opts.Now,
	}
	err := s.Verify(r, body)
	switch {
	case err == nil:
		return true
	case errors.Is(err, jdsign.ErrExpired):
		jdAnswer(w, http.StatusUnauthorized, nil, "ACCESS_ERROR", "request date expired [gw]")
	default:
		jdAnswer(w, http.StatusUnauthorized, nil, "ACCESS_ERROR", "sign result is not same [gw]")
	}
	return false
}

func (e *Emulator) jdCreateBackend(w http.ResponseWriter, r *http.Request, body []byte) {
	if !e.jdVerify(w, r, body) {
		return
	}
	region := r.PathValue("regionId")
	var b jdcloud.CreateBackendBody
	if vs := validate.Decode(r.Context(), body, &b); vs != nil {
		jdInvalid(w, vs)
		return
	}
	// The SDKs put regionId in the body too; the path is what counts.
	if b.RegionID == "" {
		b.RegionID = region
	} else if b.RegionID != region {
		jdAnswer(w, http.StatusBadRequest, nil, "INVALID_ARGUMENT",
			"Request parameter regionId is '"+b.RegionID+"', expected '"+region+"' as in the path")
		return
	}
	var rep validate.Report
	jdcloud.ValidateBody(&b, &rep)
	if !rep.OK() {
		jdInvalid(w, rep.Violations())
		return
	}

	s := e.jd()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.missing[b.LoadBalancerID] {
		jdAnswer(w, http.StatusNotFound, nil, "NOT_FOUND", "Resource not found: loadBalancer '"+b.LoadBalancerID+"'")
		return
	}
	count := 0
	for _, have := range s.backends {
		if have.Body.LoadBalancerID != b.LoadBalancerID {
			continue
		}
		if have.Body.BackendName == b.BackendName {
			jdAnswer(w, http.StatusConflict, nil, "backend.inuse.name",
				"backend name '"+b.BackendName+"' is already exist")
			return
		}
		count++
	}
	if s.quota > 0 && count >= s.quota {
		jdAnswer(w, http.StatusTooManyRequests, nil, "QUOTA_EXCEEDED", "Quota limit backend exceeded.")
		return
	}
	nb := JDCloudBackend{BackendID: "backend-" + strings.ReplaceAll(newID(""), "-", "")[:10],
		CreatedTime: e.opts.Now().UTC(), Body: b}
	s.backends = append(s.backends, nb)
	jdAnswer(w, http.StatusOK, map[string]string{"backendId": nb.BackendID}, "", "")
}

var jdEnumMessage = regexp.MustCompile(`^must be one of (.*), got "(.*)"$`)

// jdInvalid answers 400 in the page's style ("Request parameter x.y.z is 'xxx', expected one
// of [yyy,zzz]") for the first violation, as JD reports one at a time.
func jdInvalid(w http.ResponseWriter, vs []validate.Violation) {
	v := vs[0]
	msg := v.Message
	if m := jdEnumMessage.FindStringSubmatch(msg); m != nil {
		msg = "is '" + m[2] + "', expected one of [" + strings.ReplaceAll(m[1], ", ", ",") + "]"
	}
	if v.Field == "" {
		msg = "Request body " + msg
	} else {
		msg = "Request parameter " + v.Field + " " + msg
	}
	jdAnswer(w, http.StatusBadRequest, nil, "INVALID_ARGUMENT", msg)
}

// jdLoadBalancerType is the type of a load balancer as the emulator models it, from the id's
// prefix: dnlb-, nlb-, else alb. The list call shows one type at a time (default alb), as
// JD's does.
func jdLoadBalancerType(id string) string {
	switch {
	case strings.HasPrefix(id, "dnlb-"):
		return "dnlb"
	case strings.HasPrefix(id, "nlb-"):
		return "nlb"
	}
	return "alb"
}

var jdFilterName = regexp.MustCompile(`^filters\.([0-9]+)\.(name|values\.[0-9]+)$`)

// jdDescribeBackends is GET /v1/regions/{regionId}/backends/ with filters.N.name /
// filters.N.values.M (backendIds, backendNames, loadBalancerId) and loadBalancerType.
func (e *Emulator) jdDescribeBackends(w http.ResponseWriter, r *http.Request, body []byte) {
	if !e.jdVerify(w, r, body) {
		return
	}
	region := r.PathValue("regionId")
	names := map[string]string{}
	values := map[string][]string{}
	lbType := "alb"
	for key, vs := range r.URL.Query() {
		switch m := jdFilterName.FindStringSubmatch(key); {
		case key == "loadBalancerType":
			lbType = vs[0]
			if lbType != "alb" && lbType != "nlb" && lbType != "dnlb" {
				jdAnswer(w, http.StatusBadRequest, nil, "INVALID_ARGUMENT",
					"Request parameter loadBalancerType is '"+lbType+"', expected one of [alb,nlb,dnlb]")
				return
			}
		case key == "pageNumber" || key == "pageSize":
		case m != nil && m[2] == "name":
			names[m[1]] = vs[0]
		case m != nil:
			values[m[1]] = append(values[m[1]], vs...)
		default:
			jdAnswer(w, http.StatusBadRequest, nil, "INVALID_ARGUMENT", "Request parameter "+key+" is not supported")
			return
		}
	}
	filters := map[string][]string{}
	for n, name := range names {
		switch name {
		case "backendIds", "backendNames", "loadBalancerId":
			filters[name] = values[n]
		default:
			jdAnswer(w, http.StatusBadRequest, nil, "INVALID_ARGUMENT", "Request parameter filters."+n+
				".name is '"+name+"', expected one of [backendIds,backendNames,loadBalancerId]")
			return
		}
	}
	in := func(filter, v string) bool {
		want, ok := filters[filter]
		if !ok {
			return true
		}
		for _, x := range want {
			if x == v {
				return true
			}
		}
		return false
	}

	s := e.jd()
	s.mu.Lock()
	var found []map[string]any
	for _, b := range s.backends {
		if b.Body.RegionID != region || jdLoadBalancerType(b.Body.LoadBalancerID) != lbType ||
			!in("backendIds", b.BackendID) || !in("backendNames", b.Body.BackendName) ||
			!in("loadBalancerId", b.Body.LoadBalancerID) {
			continue
		}
		found = append(found, jdBackendView(b))
	}
	s.mu.Unlock()
	if found == nil {
		found = []map[string]any{}
	}
	jdAnswer(w, http.StatusOK, map[string]any{"backends": found, "totalCount": len(found)}, "", "")
}

// jdBackendView is a backend as describeBackends shows it: its body plus id, type and time.
func jdBackendView(b JDCloudBackend) map[string]any {
	raw, _ := json.Marshal(b.Body)
	var view map[string]any
	_ = json.Unmarshal(raw, &view)
	view["backendId"] = b.BackendID
	view["loadBalancerType"] = jdLoadBalancerType(b.Body.LoadBalancerID)
	view["createdTime"] = b.CreatedTime.Format(time.RFC3339)
	delete(view, "regionId")
	return view
}
