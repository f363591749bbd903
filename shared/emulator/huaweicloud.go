package emulator

import (
	"context"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lbfn/lbfn/shared/auth/hwsign"
	"github.com/lbfn/lbfn/shared/huaweicloud"
	"github.com/lbfn/lbfn/shared/validate"
)

// Huawei Cloud ELB: the three pool collections, POST to create and GET ?name= to list, with
// SDK-HMAC-SHA256 verified, X-Project-Id checked, the client's own rules enforced on the wire
// body, a settable quota and load balancers or listeners a test marks missing. Another kind of
// object (a listener, a member) is one more entry of huaweiCollections, with its decode.

func init() { providers = append(providers, registerHuawei) }

const huaweiProvider = "huaweicloud"

// A huaweiCollection is one collection of objects: POST on it creates one, GET ?name= lists.
type huaweiCollection struct {
	// path is its route, which a {project_id} in it must match, and what tells it from the
	// others (an API version has a collection per kind: v2 pools, v2 listeners). It is the
	// Collection of its Resources.
	path string
	// key holds the object in the create's body and answer ({"pool": {...}}), listKey the
	// array in the list's. Objects of one key count together against the quota.
	key, listKey string
	// v3: answers carry request_id, and lists page_info, as the v3 APIs' do.
	v3 bool
	// decode reads the object at key of a create's wire body strictly and checks it, with
	// huaweiDecodeBody.
	decode func(ctx context.Context, key string, body []byte) (huaweiDecoded, []validate.Violation)
}

// huaweiCollections are the collections served.
var huaweiCollections = []huaweiCollection{
	{path: "/v2/{project_id}/elb/pools", key: "pool", listKey: "pools", decode: huaweiDecodeV2},
	{path: "/v2.0/lbaas/pools", key: "pool", listKey: "pools", decode: huaweiDecodeLbaas},
	{path: "/v3/{project_id}/elb/master-slave-pools", key: "pool", listKey: "pools", v3: true, decode: huaweiDecodeV3},
}

type huaweiState struct {
	mu      sync.Mutex
	quota   int // objects of a kind (a key) allowed per project; negative: no limit
	missing map[string]bool
	objects []huaweiObject
}

type huaweiObject struct {
	collection, key, project, name string         // collection: its huaweiCollection's path
	body                           map[string]any // the object as answered
}

func (e *Emulator) huawei() *huaweiState {
	return providerState(e, huaweiProvider, func() *huaweiState { return &huaweiState{quota: -1, missing: map[string]bool{}} })
}

// SetHuaweiQuota makes a Huawei create answer 409 ELB.8905 once the project has n objects of
// the kind it creates (n pools over the three pool APIs, n listeners, ...); a negative n
// removes the limit, as it is at first.
func (e *Emulator) SetHuaweiQuota(n int) {
	s := e.huawei()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota = n
}

// SetHuaweiMissing marks load balancer or listener ids as nonexistent: a create naming one is
// answered 404 ELB.8904.
func (e *Emulator) SetHuaweiMissing(ids ...string) {
	s := e.huawei()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.missing[id] = true
	}
}

// HuaweiPoolCount returns how many pools the three pool APIs have created (objects of
// another kind are not counted).
func (e *Emulator) HuaweiPoolCount() int {
	s := e.huawei()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, o := range s.objects {
		if o.key == "pool" {
			n++
		}
	}
	return n
}

func (e *Emulator) huaweiResources() []Resource {
	s := e.huawei()
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []Resource
	for _, o := range s.objects {
		id, _ := o.body["id"].(string)
		all = append(all, Resource{Provider: huaweiProvider, Collection: o.collection, Name: o.name, ID: id})
	}
	return all
}

func registerHuawei(e *Emulator) {
	for _, c := range huaweiCollections {
		e.huaweiServe(c)
	}
}

// huaweiServe serves c at its path: POST creates, GET lists. A {project_id} in the path must
// be the X-Project-Id.
func (e *Emulator) huaweiServe(c huaweiCollection) {
	e.handle(huaweiProvider, "POST "+c.path, func(w http.ResponseWriter, r *http.Request, body []byte) {
		e.huaweiCreate(w, r, body, c, r.PathValue("project_id"))
	})
	e.handle(huaweiProvider, "GET "+c.path, func(w http.ResponseWriter, r *http.Request, body []byte) {
		e.huaweiList(w, r, body, c, r.PathValue("project_id"))
	})
}

// huaweiError answers Huawei's error form, with the request id in the body and X-Request-Id.
func huaweiError(w http.ResponseWriter, status int, code, msg string) {
	rid := newID("")
	w.Header().Set("X-Request-Id", rid)
	writeJSON(w, status, map[string]any{"error_msg": msg, "error_code": code, "request_id": rid})
}

// huaweiAuth verifies the signature and the project; it answers and returns "" when refused.
// pathProject is the project in the path ("" for /v2.0, which has none).
func (e *Emulator) huaweiAuth(w http.ResponseWriter, r *http.Request, body []byte, pathProject string) string {
	v := hwsign.Verifier{AccessKey: e.opts.AccessKey, SecretKey: e.opts.SecretKey, SecurityToken: e.opts.SecurityToken, Now: e.opts.Now}
	if err := v.Verify(r, body); err != nil {
		msg := "Incorrect IAM authentication information: " + err.Error()
		if ve, ok := err.(*hwsign.VerifyError); ok && ve.CanonicalRequest != "" {
			msg += "; the canonical request is " + strconv.Quote(ve.CanonicalRequest)
		}
		huaweiError(w, http.StatusUnauthorized, "APIGW.0301", msg)
		return ""
	}
	project := r.Header.Get("X-Project-Id")
	switch {
	case project == "":
		huaweiError(w, http.StatusUnauthorized, "APIGW.0301", "Incorrect IAM authentication information: X-Project-Id is required with AK/SK")
		return ""
	case pathProject != "" && project != pathProject:
		huaweiError(w, http.StatusUnauthorized, "APIGW.0301", "Incorrect IAM authentication information: X-Project-Id "+project+" does not match the project "+pathProject+" of the path")
		return ""
	case !huaweiProjectID.MatchString(project):
		huaweiError(w, http.StatusUnauthorized, "APIGW.0301", "Incorrect IAM authentication information: X-Project-Id "+strconv.Quote(project)+" is not a project id (32 lower-case letters and digits)")
		return ""
	case len(e.opts.HuaweiProjects) > 0 && !slices.Contains(e.opts.HuaweiProjects, project):
		huaweiError(w, http.StatusUnauthorized, "APIGW.0301", "Incorrect IAM authentication information: the credentials have no access to project "+project)
		return ""
	}
	return project
}

// huaweiProjectID is the form of a Huawei project id.
var huaweiProjectID = regexp.MustCompile(`^[a-z0-9]{32}$`)

// huaweiDecoded is what a create handler needs of a decoded, valid object.
type huaweiDecoded struct {
	name string
	refs []huaweiRef // the objects it is attached to, which must exist
	// answer builds the object of the 201 answer.
	answer func(id, project string, now time.Time) map[string]any
}

// A huaweiRef names another object by kind ("listener") and id; an empty id is none.
type huaweiRef struct{ kind, id string }

// huaweiPoolRefs are a pool's listener and load balancer.
func huaweiPoolRefs(listenerID, loadbalancerID *string) []huaweiRef {
	return []huaweiRef{{"listener", huaweiDeref(listenerID)}, {"loadbalancer", huaweiDeref(loadbalancerID)}}
}

type huaweiValidatable[P any] interface {
	*P
	Validate(v *validate.Report, path string)
}

// huaweiDecodeBody decodes the wire body {key: {...}}, whose object is a P, strictly (any
// other member is an unknown field) and runs the client's own rules on the object.
func huaweiDecodeBody[P any, PP huaweiValidatable[P]](ctx context.Context, key string, body []byte) (*P, []validate.Violation) {
	// A struct of one field tagged key, so that validate.Decode judges the body as it would
	// a struct declared with that one member.
	b := reflect.New(reflect.StructOf([]reflect.StructField{
		{Name: "Object", Type: reflect.TypeFor[*P](), Tag: reflect.StructTag(`json:"` + key + `"`)},
	}))
	if vs := validate.Decode(ctx, body, b.Interface()); vs != nil {
		return nil, vs
	}
	p := b.Elem().Field(0).Interface().(*P)
	var v validate.Report
	if v.Required(key, p != nil) {
		PP(p).Validate(&v, key)
	}
	if !v.OK() {
		return nil, v.Violations()
	}
	return p, nil
}

func huaweiDecodeV2(ctx context.Context, key string, body []byte) (huaweiDecoded, []validate.Violation) {
	p, vs := huaweiDecodeBody[huaweicloud.Pool](ctx, key, body)
	if vs != nil {
		return huaweiDecoded{}, vs
	}
	return huaweiDecoded{huaweiDeref(p.Name), huaweiPoolRefs(p.ListenerID, p.LoadbalancerID), func(id, project string, now time.Time) map[string]any {
		m := huaweiV2Answer(&p.V2PoolFields, id, project)
		m["protection_status"] = huaweiDerefOr(p.ProtectionStatus, "nonProtection")
		m["protection_reason"] = huaweiDerefOr(p.ProtectionReason, "")
		return m
	}}, nil
}

func huaweiDecodeLbaas(ctx context.Context, key string, body []byte) (huaweiDecoded, []validate.Violation) {
	p, vs := huaweiDecodeBody[huaweicloud.LbaasPool](ctx, key, body)
	if vs != nil {
		return huaweiDecoded{}, vs
	}
	return huaweiDecoded{huaweiDeref(p.Name), huaweiPoolRefs(p.ListenerID, p.LoadbalancerID), func(id, project string, now time.Time) map[string]any {
		return huaweiV2Answer(&p.V2PoolFields, id, project)
	}}, nil
}

// huaweiV2Answer is the pool of the v2 and v2.0 answers, as the pages' response examples show it.
func huaweiV2Answer(p *huaweicloud.V2PoolFields, id, project string) map[string]any {
	var sp any
	if p.SessionPersistence != nil {
		sp = huaweiSessionPersistence(p.SessionPersistence, p.Protocol)
	}
	admin := true
	if p.AdminStateUp != nil {
		admin = *p.AdminStateUp
	}
	return map[string]any{
		"id":                  id,
		"name":                huaweiDeref(p.Name),
		"description":         huaweiDeref(p.Description),
		"protocol":            p.Protocol,
		"lb_algorithm":        p.LbAlgorithm,
		"admin_state_up":      admin,
		"tenant_id":           project,
		"project_id":          project,
		"session_persistence": sp,
		"healthmonitor_id":    nil,
		"listeners":           huaweiRefs(p.ListenerID),
		"loadbalancers":       huaweiRefs(p.LoadbalancerID),
		"members":             []any{},
	}
}

func huaweiSessionPersistence(sp *huaweicloud.SessionPersistence, protocol string) map[string]any {
	timeout := 1440
	if protocol == "TCP" || protocol == "UDP" || protocol == "QUIC" {
		timeout = 1
	}
	if sp.PersistenceTimeout != nil {
		timeout = *sp.PersistenceTimeout
	}
	var cookie any
	if sp.CookieName != nil {
		cookie = *sp.CookieName
	}
	return map[string]any{"type": sp.Type, "cookie_name": cookie, "persistence_timeout": timeout}
}

func huaweiDecodeV3(ctx context.Context, key string, body []byte) (huaweiDecoded, []validate.Violation) {
	p, vs := huaweiDecodeBody[huaweicloud.MasterSlavePool](ctx, key, body)
	if vs != nil {
		return huaweiDecoded{}, vs
	}
	return huaweiDecoded{huaweiDeref(p.Name), huaweiPoolRefs(p.ListenerID, p.LoadbalancerID), func(id, project string, now time.Time) map[string]any {
		return huaweiV3Answer(p, id, project, now)
	}}, nil
}

// huaweiV3Answer is the MasterSlavePool of the v3 answer, with the page's defaults.
func huaweiV3Answer(p *huaweicloud.MasterSlavePool, id, project string, created time.Time) map[string]any {
	now := created.UTC().Format("2006-01-02T15:04:05Z")
	var sp any
	if p.SessionPersistence != nil {
		sp = huaweiSessionPersistence(p.SessionPersistence, p.Protocol)
	}
	members := make([]any, len(p.Members))
	for i, m := range p.Members {
		memberType, ipVersion := "ip", "v4"
		if m.SubnetCidrID != nil && *m.SubnetCidrID != "" {
			memberType = "instance"
		}
		if strings.Contains(m.Address, ":") {
			ipVersion = "v6"
		}
		var port any
		if m.ProtocolPort != nil {
			port = *m.ProtocolPort
		}
		status := []any{}
		if p.ListenerID != nil {
			status = append(status, map[string]any{"listener_id": *p.ListenerID, "operating_status": "OFFLINE"})
		}
		members[i] = map[string]any{
			"id": newID(""), "name": huaweiDeref(m.Name), "admin_state_up": true, "address": m.Address,
			"protocol_port": port, "subnet_cidr_id": huaweiDeref(m.SubnetCidrID), "role": m.Role,
			"ip_version": ipVersion, "member_type": memberType, "operating_status": "OFFLINE",
			"instance_id": "", "device_id": "", "device_owner": "", "status": status,
		}
	}
	h := p.Healthmonitor
	var monitorPort any
	if h.MonitorPort != nil {
		monitorPort = *h.MonitorPort
	}
	retriesDown := 3
	if h.MaxRetriesDown != nil {
		retriesDown = *h.MaxRetriesDown
	}
	pool := map[string]any{
		"id":                    id,
		"name":                  huaweiDeref(p.Name),
		"description":           huaweiDeref(p.Description),
		"lb_algorithm":          p.LbAlgorithm,
		"protocol":              p.Protocol,
		"type":                  huaweiDeref(p.Type),
		"vpc_id":                huaweiDeref(p.VpcID),
		"project_id":            project,
		"ip_version":            huaweiDerefOr(p.IPVersion, "v4"),
		"session_persistence":   sp,
		"listeners":             huaweiRefs(p.ListenerID),
		"loadbalancers":         huaweiRefs(p.LoadbalancerID),
		"members":               members,
		"any_port_enable":       p.AnyPortEnable != nil && *p.AnyPortEnable,
		"enterprise_project_id": "0",
		"created_at":            now,
		"updated_at":            now,
		"healthmonitor": map[string]any{
			"id": newID(""), "name": huaweiDeref(h.Name), "admin_state_up": true, "type": h.Type,
			"delay": *h.Delay, "timeout": *h.Timeout, "max_retries": *h.MaxRetries, "max_retries_down": retriesDown,
			"monitor_port": monitorPort, "domain_name": huaweiDeref(h.DomainName), "http_method": huaweiDerefOr(h.HTTPMethod, "GET"),
			"url_path": huaweiDerefOr(h.URLPath, "/"), "expected_codes": huaweiDerefOr(h.ExpectedCodes, "200"),
		},
	}
	if cd := p.ConnectionDrain; cd != nil {
		pool["connection_drain"] = map[string]any{"enable": cd.Enable != nil && *cd.Enable, "timeout": cd.Timeout}
	}
	if q := p.QuicCidHashStrategy; q != nil {
		l, o := 3, 1
		if q.Len != nil {
			l = *q.Len
		}
		if q.Offset != nil {
			o = *q.Offset
		}
		pool["quic_cid_hash_strategy"] = map[string]any{"len": l, "offset": o}
	}
	return pool
}

// huaweiCreate is the create handler of every collection.
func (e *Emulator) huaweiCreate(w http.ResponseWriter, r *http.Request, body []byte, c huaweiCollection, pathProject string) {
	project := e.huaweiAuth(w, r, body, pathProject)
	if project == "" {
		return
	}
	p, vs := c.decode(r.Context(), c.key, body)
	if vs != nil {
		// ELB.9805 says a field is missing; any other broken rule makes it ELB.8902.
		code := "ELB.9805"
		msgs := make([]string, len(vs))
		for i, v := range vs {
			msgs[i] = v.String()
			if !strings.HasPrefix(v.Message, "required") && !strings.HasSuffix(v.Message, "is required") {
				code = "ELB.8902"
			}
		}
		huaweiError(w, http.StatusBadRequest, code, "Invalid input for operation: "+strings.Join(msgs, "; "))
		return
	}
	s := e.huawei()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ref := range p.refs {
		if ref.id != "" && s.missing[ref.id] {
			huaweiError(w, http.StatusNotFound, "ELB.8904", ref.kind+" "+ref.id+" could not be found.")
			return
		}
	}
	if s.quota >= 0 {
		n := 0
		for _, o := range s.objects {
			if o.key == c.key && o.project == project {
				n++
			}
		}
		if n >= s.quota {
			huaweiError(w, http.StatusConflict, "ELB.8905", "Quota exceeded for resources: ['"+c.key+"'].")
			return
		}
	}
	id := newID("")
	obj := p.answer(id, project, e.opts.Now())
	s.objects = append(s.objects, huaweiObject{collection: c.path, key: c.key, project: project, name: p.name, body: obj})
	rid := newID("")
	w.Header().Set("X-Request-Id", rid)
	answer := map[string]any{c.key: obj}
	if c.v3 {
		answer["request_id"] = rid
	}
	writeJSON(w, http.StatusCreated, answer)
}

// huaweiList answers GET on a collection with its own objects, filtered by ?name= when given.
func (e *Emulator) huaweiList(w http.ResponseWriter, r *http.Request, body []byte, c huaweiCollection, pathProject string) {
	project := e.huaweiAuth(w, r, body, pathProject)
	if project == "" {
		return
	}
	name, byName := r.URL.Query()["name"]
	s := e.huawei()
	s.mu.Lock()
	list := []any{}
	for _, o := range s.objects {
		if o.collection == c.path && o.project == project && (!byName || slices.Contains(name, o.name)) {
			list = append(list, o.body)
		}
	}
	s.mu.Unlock()
	rid := newID("")
	w.Header().Set("X-Request-Id", rid)
	answer := map[string]any{c.listKey: list}
	if c.v3 {
		answer["request_id"] = rid
		answer["page_info"] = map[string]any{"current_count": len(list)}
	}
	writeJSON(w, http.StatusOK, answer)
}

func huaweiRefs(id *string) []any {
	if id == nil || *id == "" {
		return []any{}
	}
	return []any{map[string]any{"id": *id}}
}

func huaweiDeref(s *string) string { return huaweiDerefOr(s, "") }

func huaweiDerefOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}
