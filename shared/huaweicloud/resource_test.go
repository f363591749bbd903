package huaweicloud

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/auth/hwsign"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
	"github.com/lbfn/lbfn/shared/validate"
)

// A second kind of object, declared the way a new operation would be: its description,
// request type, rules and operation, and nothing else. Driven against fakeWidgets below, it
// shows that create, lookup and reconcile (resource.go) know nothing of pools. The widget is
// made up (ELB has none, and huawei-create-widget is no function of the catalog), so that a
// real listener or member can land beside it without confusion.

// testWidget is a made-up object shaped like a listener, of a made-up collection
// POST /v3/{project_id}/elb/widgets.
type testWidget struct {
	Name           *string `json:"name,omitempty"`
	Protocol       string  `json:"protocol"`
	ProtocolPort   *int    `json:"protocol_port"`
	LoadbalancerID string  `json:"loadbalancer_id"`
}

var testWidgets = resource[testWidget]{
	noun: "widget", key: "widget", listKey: "widgets",
	path: func(p string) string { return "/v3/" + p + "/elb/widgets" },
	name: func(l *testWidget) string { return deref(l.Name) },
	// The same name, protocol and port, on the same load balancer.
	matches: func(sent *testWidget, listed []byte) bool {
		var l struct {
			Name          string `json:"name"`
			Protocol      string `json:"protocol"`
			ProtocolPort  int    `json:"protocol_port"`
			Loadbalancers []ref  `json:"loadbalancers"`
		}
		return json.Unmarshal(listed, &l) == nil && l.Name == deref(sent.Name) && l.Protocol == sent.Protocol &&
			l.ProtocolPort == *sent.ProtocolPort && len(l.Loadbalancers) == 1 && l.Loadbalancers[0].ID == sent.LoadbalancerID
	},
}

type testWidgetRequest struct {
	op.Common
	Region    string      `json:"region"`
	ProjectID string      `json:"projectId,omitempty"`
	Widget    *testWidget `json:"widget"`
}

func (l *testWidget) validate(v *validate.Report, path string) {
	at := func(name string) string { return validate.Join(path, name) }
	v.Length(at("name"), l.Name, 0, maxV2Length)
	if v.RequiredString(at("protocol"), &l.Protocol) {
		v.Enum(at("protocol"), &l.Protocol, "TCP", "UDP", "HTTP", "HTTPS")
	}
	if v.Required(at("protocol_port"), l.ProtocolPort != nil) {
		v.Range(at("protocol_port"), l.ProtocolPort, 1, 65535)
	}
	v.RequiredString(at("loadbalancer_id"), &l.LoadbalancerID)
}

func newTestCreateWidget(c *Client) op.Operation {
	return &op.Spec[testWidgetRequest, *Client]{
		FunctionName: "huawei-create-widget",
		ProviderName: ProviderName,
		Client:       func() (*Client, error) { return c, nil },
		Validate: func(r *testWidgetRequest, v *validate.Report) {
			validateRouting(r.Region, r.ProjectID, v)
			if v.Required("widget", r.Widget != nil) {
				r.Widget.validate(v, "widget")
			}
		},
		Send: func(ctx context.Context, c *Client, r *testWidgetRequest, call op.Call) (op.Result, error) {
			return send(ctx, c, testWidgets, r.Region, r.ProjectID, r.Widget, call)
		},
	}
}

// A fault is what fakeWidgets does with one request.
type fault int

const (
	pass    fault = iota
	drop          // closes the connection without handling the request or answering
	lost          // handles the request (a POST creates), then closes without answering
	noID          // answers a POST 201 without the widget's id, creating nothing
	busy409       // answers 409 saying the load balancer is busy, which passes
)

// fakeWidgets is a widget collection on loopback: POST creates, GET ?name= lists, each
// request's signature verified and the next of faults applied to it.
type fakeWidgets struct {
	t       *testing.T
	mu      sync.Mutex
	faults  []fault
	widgets []map[string]any
	methods []string
	posted  [][]byte
}

const (
	testAK      = "test-ak"
	testSK      = "test-sk"
	testProject = "0123456789abcdef0123456789abcdef"
	widgetsAt   = "/v3/" + testProject + "/elb/widgets"
)

func (f *fakeWidgets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if err := (&hwsign.Verifier{AccessKey: testAK, SecretKey: redact.NewSecret(testSK)}).Verify(r, body); err != nil ||
		r.Header.Get("X-Project-Id") != testProject || r.URL.Path != widgetsAt {
		f.t.Errorf("%s %s: signature %v, project %q", r.Method, r.URL, err, r.Header.Get("X-Project-Id"))
		http.Error(w, "refused", http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.methods = append(f.methods, r.Method)
	todo := pass
	if len(f.faults) > 0 {
		todo, f.faults = f.faults[0], f.faults[1:]
	}
	status, answer := f.handle(r, body, todo)
	if todo == drop || todo == lost {
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "rid-header")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(answer)
}

func (f *fakeWidgets) handle(r *http.Request, body []byte, todo fault) (int, any) {
	switch {
	case todo == drop:
		return 0, nil
	case todo == busy409:
		return http.StatusConflict, map[string]any{"error_code": "ELB.8907", "error_msg": "the load balancer is PENDING_UPDATE"}
	case r.Method == http.MethodGet:
		list := []any{}
		for _, l := range f.widgets {
			if name, ok := r.URL.Query()["name"]; !ok || l["name"] == name[0] {
				list = append(list, l)
			}
		}
		return http.StatusOK, map[string]any{"widgets": list, "request_id": "rid-list"}
	case todo == noID:
		return http.StatusCreated, map[string]any{"widget": map[string]any{}}
	}
	f.posted = append(f.posted, body)
	var b struct{ Widget testWidget }
	if err := json.Unmarshal(body, &b); err != nil {
		return http.StatusBadRequest, map[string]any{"error_code": "ELB.8902", "error_msg": err.Error()}
	}
	f.widgets = append(f.widgets, f.widget(b.Widget))
	return http.StatusCreated, map[string]any{"widget": f.widgets[len(f.widgets)-1], "request_id": "rid-create"}
}

// widget is the widget object the fake answers and lists for l.
func (f *fakeWidgets) widget(l testWidget) map[string]any {
	return map[string]any{
		"id": "widget-" + string(rune('a'+len(f.widgets))), "name": deref(l.Name), "protocol": l.Protocol,
		"protocol_port": *l.ProtocolPort, "loadbalancers": []any{map[string]any{"id": l.LoadbalancerID}},
	}
}

// TestResourceWidget runs the widget operation through create, lookup-first on a repeat
// and reconcile after lost answers, the exactly-once behaviour the pools have.
func TestResourceWidget(t *testing.T) {
	const web = `{"region":"cn-north-4","widget":{"name":"web","protocol":"HTTP","protocol_port":80,"loadbalancer_id":"lb-1"}}`
	const unnamed = `{"region":"cn-north-4","widget":{"protocol":"HTTP","protocol_port":80,"loadbalancer_id":"lb-1"}}`
	port := func(n int) *int { return &n }
	name := func(s string) *string { return &s }
	sameWeb := testWidget{Name: name("web"), Protocol: "HTTP", ProtocolPort: port(80), LoadbalancerID: "lb-1"}
	otherPort := testWidget{Name: name("web"), Protocol: "HTTP", ProtocolPort: port(8080), LoadbalancerID: "lb-1"}
	tests := []struct {
		name     string
		raw      string
		delivery int // op.Meta.Delivery: 1 is known to be the first
		existing []testWidget
		faults   []fault
		methods  string // the requests the fake receives
		widgets  int    // how many it holds after
		adopted  string // the id of the widget adopted, "" when this call created it
		errKind  op.Kind
		errText  string
	}{
		{name: "first delivery creates", raw: web, delivery: 1, methods: "POST", widgets: 1},
		{name: "busy load balancer is retried", raw: web, delivery: 1, faults: []fault{busy409}, methods: "POST POST", widgets: 1},
		{name: "repeat adopts the earlier one", raw: web, delivery: 2, existing: []testWidget{sameWeb},
			methods: "GET", widgets: 1, adopted: "widget-a"},
		{name: "repeat creates when absent", raw: web, delivery: 2, methods: "GET POST", widgets: 1},
		{name: "uncounted delivery creates without looking", raw: web, existing: []testWidget{sameWeb}, methods: "POST", widgets: 2},
		{name: "answer lost: found by name", raw: web, delivery: 1, faults: []fault{lost}, methods: "POST GET", widgets: 1, adopted: "widget-a"},
		{name: "create unanswered: sent once more", raw: web, delivery: 1, faults: []fault{drop}, methods: "POST GET POST", widgets: 1},
		{name: "lookup's answer lost: asked again", raw: web, delivery: 1, faults: []fault{lost, drop, lost},
			methods: "POST GET GET GET", widgets: 1, adopted: "widget-a"},
		{name: "same name, other port is not adopted", raw: web, delivery: 1, existing: []testWidget{otherPort}, faults: []fault{drop},
			methods: "POST GET POST", widgets: 2},
		{name: "two matches are not guessed between", raw: web, delivery: 1, existing: []testWidget{sameWeb}, faults: []fault{lost},
			methods: "POST GET", widgets: 2, errKind: op.KindConflict, errText: `a widget may have been created: looking it up by name failed: conflict: several widgets named "web" match (widget-a, widget-b); check the widgets`},
		{name: "unnamed: not sent again", raw: unnamed, delivery: 1, faults: []fault{lost},
			methods: "POST", widgets: 1, errKind: op.KindUnavailable, errText: "the widget has no name to look it up by"},
		{name: "created without an id", raw: web, delivery: 1, faults: []fault{noID}, methods: "POST", widgets: 0,
			errKind: op.KindProvider, errText: "without a widget id; a widget may have been created"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeWidgets{t: t, faults: tt.faults}
			for _, l := range tt.existing {
				fake.widgets = append(fake.widgets, fake.widget(l))
			}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			c, err := NewClient(Config{AccessKey: testAK, SecretKey: redact.NewSecret(testSK), ProjectID: testProject, Endpoint: srv.URL,
				HTTP: &httpx.Client{HTTP: &http.Client{Timeout: 5 * time.Second},
					Policy: httpx.Policy{MaxAttempts: 4, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond, MaxRetryAfter: time.Second}}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res := op.Run(ctx, newTestCreateWidget(c), []byte(tt.raw), op.Meta{Trigger: "direct", Delivery: tt.delivery})

			fake.mu.Lock()
			defer fake.mu.Unlock()
			if got := strings.Join(fake.methods, " "); got != tt.methods || res.Attempts != len(fake.methods) {
				t.Errorf("requests %q (attempts %d), want %q", got, res.Attempts, tt.methods)
			}
			if len(fake.widgets) != tt.widgets {
				t.Errorf("%d widgets, want %d", len(fake.widgets), tt.widgets)
			}
			for _, b := range fake.posted {
				var wire map[string]json.RawMessage
				if json.Unmarshal(b, &wire) != nil || len(wire) != 1 || wire["widget"] == nil {
					t.Errorf("wire body %s, want {\"widget\": ...} only", b)
				}
			}
			if tt.errKind != "" {
				if res.OK || res.Error.Kind != tt.errKind || res.Error.Retryable || !strings.Contains(res.Error.Message, tt.errText) {
					t.Fatalf("result %+v, error %+v; want a %s error saying %q", res, res.Error, tt.errKind, tt.errText)
				}
				return
			}
			if !res.OK || res.Status != op.StatusCreated {
				t.Fatalf("result %+v, error %+v", res, res.Error)
			}
			var answer struct {
				Widget struct{ ID, Name string }
			}
			if err := json.Unmarshal(res.Response, &answer); err != nil || answer.Widget.ID != res.ID || answer.Widget.Name != "web" {
				t.Errorf("response %s (%v) does not carry widget %s", res.Response, err, res.ID)
			}
			want, wantRID := fake.widgets[len(fake.widgets)-1]["id"], "rid-create"
			if tt.adopted != "" {
				want, wantRID = tt.adopted, "rid-list"
			}
			if res.ID != want || res.RequestID != wantRID {
				t.Errorf("id %q request id %q, want %q %q", res.ID, res.RequestID, want, wantRID)
			}
		})
	}
}

// TestResourceRules shows the widget's rules checked before any call, named by JSON path.
func TestResourceRules(t *testing.T) {
	o := newTestCreateWidget(nil)
	tests := []struct {
		raw    string
		fields []string
	}{
		{`{"region":"cn-north-4","widget":{"protocol":"HTTP","protocol_port":80,"loadbalancer_id":"lb-1"}}`, nil},
		{`{"region":"cn-north-4"}`, []string{"widget"}},
		{`{"widget":{"protocol":"QUIC","protocol_port":0,"loadbalancer_id":""}}`,
			[]string{"region", "widget.protocol", "widget.protocol_port", "widget.loadbalancer_id"}},
		{`{"region":"cn-north-4","widget":{"protocol":"HTTP","protocol_port":80,"loadbalancer_id":"lb-1","pool":{}}}`, []string{"widget.pool"}},
	}
	for _, tt := range tests {
		_, err := o.Decode(context.Background(), []byte(tt.raw))
		var got []string
		if err != nil {
			for _, v := range op.AsError(err).Violations {
				got = append(got, v.Field)
			}
		}
		if strings.Join(got, " ") != strings.Join(tt.fields, " ") {
			t.Errorf("%s: violations %v, want %v", tt.raw, got, tt.fields)
		}
	}
}

// TestRedactCopies checks that redact hides this client's secret key and security token in a
// copy of the error (its texts and its *op.Error cause), leaving the error it was given as it
// was made, since a caller may hold it already.
func TestRedactCopies(t *testing.T) {
	const key, token = "very-secret-key", "very-secret-token"
	c, err := NewClient(Config{AccessKey: "AK", SecretKey: redact.NewSecret(key), SecurityToken: redact.NewSecret(token)})
	if err != nil {
		t.Fatal(err)
	}
	cause := &op.Error{Kind: op.KindAuth, Message: "canonical request: x-security-token:" + token}
	tests := []struct {
		name     string
		err      error
		wantKind op.Kind
	}{
		{"op error with cause", &op.Error{Kind: op.KindAuth, Message: "denied " + key, ProviderMessage: "echo " + token, Err: cause}, op.KindAuth},
		{"plain error", errors.New("dial: " + key), op.KindUnavailable},
	}
	for _, tt := range tests {
		before := tt.err.Error()
		got := op.AsError(c.redact(tt.err))
		texts := []string{got.Message, got.ProviderMessage}
		if inner, ok := got.Err.(*op.Error); ok {
			texts = append(texts, inner.Message, inner.ProviderMessage)
		}
		for _, s := range texts {
			if strings.Contains(s, key) || strings.Contains(s, token) {
				t.Errorf("%s: %q still holds a secret", tt.name, s)
			}
		}
		if got.Kind != tt.wantKind {
			t.Errorf("%s: kind %s, want %s", tt.name, got.Kind, tt.wantKind)
		}
		if tt.err.Error() != before || !strings.Contains(cause.Message, token) {
			t.Errorf("%s: the error given was changed: %q", tt.name, tt.err.Error())
		}
	}
	if c.redact(nil) != nil {
		t.Error("redact(nil) is not nil")
	}
}
