package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// coreRoutes registers one tiny route per provider under /lbfn-test/, so the core is tested
// without depending on any provider's file; handled counts the handler's runs.
type coreRoutes struct {
	e       *Emulator
	url     string
	handled atomic.Int32
}

func newCoreEmulator(t *testing.T) *coreRoutes {
	t.Helper()
	tr := &coreRoutes{e: New(Options{})}
	for _, p := range []string{"jdcloud", "huaweicloud", "ctyun"} {
		tr.e.handle(p, "POST /lbfn-test/"+p+"/{name}", func(w http.ResponseWriter, r *http.Request, body []byte) {
			tr.handled.Add(1)
			w.Header().Set("X-Test", "yes")
			writeJSON(w, http.StatusCreated, map[string]string{"name": r.PathValue("name"), "body": string(body)})
		})
	}
	srv := httptest.NewServer(tr.e)
	t.Cleanup(srv.Close)
	tr.url = srv.URL
	return tr
}

// post sends one request; it returns the status and body, or err when no answer came.
func (tr *coreRoutes) post(ctx context.Context, provider, name string) (int, http.Header, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tr.url+"/lbfn-test/"+provider+"/"+name+"?q=1", strings.NewReader(`{"n":"`+name+`"}`))
	if err != nil {
		return 0, nil, "", err
	}
	req.Header.Set("X-Auth", "sig")
	// A fresh connection per request, so a dropped one cannot affect the next.
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), err
}

func (tr *coreRoutes) status(t *testing.T, provider, name string) int {
	t.Helper()
	status, _, _, err := tr.post(context.Background(), provider, name)
	if err != nil {
		t.Fatalf("%s %s: %v", provider, name, err)
	}
	return status
}

func TestCoreFaultsConsumedInOrder(t *testing.T) {
	tr := newCoreEmulator(t)
	tr.e.Inject(Fault{Status: 500}, Fault{Status: 503}, Fault{Status: 429})
	for i, want := range []int{500, 503, 429, 201, 201} {
		if got := tr.status(t, "jdcloud", "a"); got != want {
			t.Errorf("request %d: status %d, want %d", i+1, got, want)
		}
	}
	if n := tr.handled.Load(); n != 2 {
		t.Errorf("handler ran %d times, want 2 (faulted requests are not handled)", n)
	}
}

// A fault plan decides for every request that no queued fault matched, and sees the request.
func TestCoreFaultPlan(t *testing.T) {
	tr := newCoreEmulator(t)
	var seen []string
	var mu sync.Mutex
	tr.e.SetFaultPlan(func(provider string, r *http.Request) (Fault, bool) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, provider+" "+r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/busy") {
			return Fault{Status: 429, RetryAfter: "1"}, true
		}
		return Fault{}, false
	})
	tr.e.Inject(Fault{Status: 503})
	for i, c := range []struct {
		provider, name string
		want           int
	}{
		{"jdcloud", "busy", 503}, // the queued fault comes first, without asking the plan
		{"jdcloud", "busy", 429},
		{"ctyun", "ok", 201},
	} {
		if got := tr.status(t, c.provider, c.name); got != c.want {
			t.Errorf("request %d: status %d, want %d", i+1, got, c.want)
		}
	}
	if want := []string{"jdcloud /lbfn-test/jdcloud/busy", "ctyun /lbfn-test/ctyun/ok"}; strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("the plan saw %q, want %q", seen, want)
	}
	tr.e.SetFaultPlan(nil)
	if got := tr.status(t, "jdcloud", "busy"); got != 201 {
		t.Errorf("without a plan: status %d", got)
	}
	if n := tr.handled.Load(); n != 2 {
		t.Errorf("handler ran %d times, want 2", n)
	}
}

func TestCoreFaultsFilteredByProvider(t *testing.T) {
	tr := newCoreEmulator(t)
	tr.e.Inject(Fault{Provider: "huaweicloud", Status: 500}, Fault{Status: 503}, Fault{Provider: "ctyun", Status: 504})
	steps := []struct {
		provider string
		want     int
	}{
		{"jdcloud", 503},     // skips the Huawei fault, takes the unfiltered one
		{"jdcloud", 201},     // nothing left for JD
		{"ctyun", 504},       // its own
		{"huaweicloud", 500}, // still queued for Huawei
		{"huaweicloud", 201},
		{"ctyun", 201},
	}
	for i, s := range steps {
		if got := tr.status(t, s.provider, "a"); got != s.want {
			t.Errorf("step %d (%s): status %d, want %d", i+1, s.provider, got, s.want)
		}
	}
}

func TestCoreStatusFaultBodies(t *testing.T) {
	tests := []struct {
		provider string
		status   int
		check    func(t *testing.T, h http.Header, body string)
	}{
		{"jdcloud", 429, func(t *testing.T, h http.Header, body string) {
			var b struct {
				RequestID string `json:"requestId"`
				Error     struct {
					Code    int    `json:"code"`
					Status  string `json:"status"`
					Message string `json:"message"`
				} `json:"error"`
			}
			coreUnmarshal(t, body, &b)
			if b.RequestID == "" || b.Error.Code != 429 || b.Error.Status != "HTTP_RATE_LIMIT_EXCEEDED" || b.Error.Message == "" {
				t.Errorf("jdcloud 429 body %s", body)
			}
		}},
		{"jdcloud", 503, func(t *testing.T, h http.Header, body string) {
			if !strings.Contains(body, `"status":"SERVICE_UNAVAILABLE"`) || !strings.Contains(body, `"code":503`) {
				t.Errorf("jdcloud 503 body %s", body)
			}
		}},
		{"huaweicloud", 429, func(t *testing.T, h http.Header, body string) {
			var b map[string]string
			coreUnmarshal(t, body, &b)
			if b["error_code"] != "APIGW.0308" || b["error_msg"] == "" || b["request_id"] == "" {
				t.Errorf("huaweicloud 429 body %s", body)
			}
		}},
		{"huaweicloud", 500, func(t *testing.T, h http.Header, body string) {
			var b map[string]string
			coreUnmarshal(t, body, &b)
			if b["error_code"] != "ELB.8906" {
				t.Errorf("huaweicloud 500 body %s", body)
			}
		}},
		{"ctyun", 502, func(t *testing.T, h http.Header, body string) {
			if !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, "Bad Gateway") {
				t.Errorf("ctyun 502: %s %s", h.Get("Content-Type"), body)
			}
		}},
	}
	for _, tt := range tests {
		tr := newCoreEmulator(t)
		tr.e.Inject(Fault{Status: tt.status, RetryAfter: "3"})
		status, h, body, err := tr.post(context.Background(), tt.provider, "a")
		if err != nil {
			t.Fatal(err)
		}
		if status != tt.status || h.Get("Retry-After") != "3" || h.Get("X-Test") != "" {
			t.Errorf("%s %d: got %d, Retry-After %q, X-Test %q", tt.provider, tt.status, status, h.Get("Retry-After"), h.Get("X-Test"))
		}
		tt.check(t, h, body)
		if tr.handled.Load() != 0 {
			t.Errorf("%s %d: the request was handled", tt.provider, tt.status)
		}
		if rs := tr.e.Requests(); len(rs) != 1 || rs[0].Status != tt.status {
			t.Errorf("%s %d: recorded %+v", tt.provider, tt.status, rs)
		}
	}
	// Without RetryAfter, no header.
	tr := newCoreEmulator(t)
	tr.e.Inject(Fault{Status: 503})
	if _, h, _, _ := tr.post(context.Background(), "jdcloud", "a"); h.Get("Retry-After") != "" {
		t.Errorf("Retry-After %q without one injected", h.Get("Retry-After"))
	}
}

func TestCoreDrop(t *testing.T) {
	tr := newCoreEmulator(t)
	tr.e.Inject(Fault{Drop: true})
	if status, _, _, err := tr.post(context.Background(), "huaweicloud", "a"); err == nil {
		t.Fatalf("Drop answered %d", status)
	}
	if tr.handled.Load() != 0 {
		t.Error("Drop handled the request")
	}
	if got := tr.status(t, "huaweicloud", "b"); got != 201 {
		t.Errorf("after the drop: %d", got)
	}
	rs := tr.e.Requests()
	if len(rs) != 2 || rs[0].Status != 0 || rs[1].Status != 201 {
		t.Errorf("recorded %+v", rs)
	}
}

func TestCoreDropAfterHandling(t *testing.T) {
	tr := newCoreEmulator(t)
	tr.e.Inject(Fault{DropAfterHandling: true, Provider: "ctyun"})
	if status, _, _, err := tr.post(context.Background(), "ctyun", "a"); err == nil {
		t.Fatalf("DropAfterHandling answered %d", status)
	}
	if tr.handled.Load() != 1 {
		t.Errorf("handler ran %d times, want once", tr.handled.Load())
	}
	if rs := tr.e.Requests(); len(rs) != 1 || rs[0].Status != 0 {
		t.Errorf("recorded %+v", rs)
	}
}

func TestCoreLatency(t *testing.T) {
	tr := newCoreEmulator(t)
	tr.e.Inject(Fault{Latency: 5 * time.Millisecond})
	if got := tr.status(t, "jdcloud", "a"); got != 201 || tr.handled.Load() != 1 {
		t.Errorf("latency alone: status %d, handled %d", got, tr.handled.Load())
	}
	tr.e.Inject(Fault{Latency: 5 * time.Millisecond, Status: 503})
	if got := tr.status(t, "jdcloud", "a"); got != 503 {
		t.Errorf("latency then status: %d", got)
	}
}

// A client that gives up must not keep the emulator's handler sleeping.
func TestCoreLatencyRespectsCancellation(t *testing.T) {
	e := New(Options{})
	var handled atomic.Int32
	e.handle("jdcloud", "POST /lbfn-test/slow", func(w http.ResponseWriter, r *http.Request, body []byte) { handled.Add(1) })
	srv := httptest.NewServer(e)
	e.Inject(Fault{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/lbfn-test/slow", strings.NewReader("{}"))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d despite an hour of latency", resp.StatusCode)
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }() // waits for the handler to return
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler still sleeps after the client went away")
	}
	if handled.Load() != 0 {
		t.Error("the cancelled request was handled")
	}
}

func TestCoreRequestsRecorded(t *testing.T) {
	tr := newCoreEmulator(t)
	tr.status(t, "jdcloud", "one")
	tr.status(t, "huaweicloud", "two")
	tr.status(t, "huaweicloud", "three")
	if tr.e.RequestCount("") != 3 || tr.e.RequestCount("huaweicloud") != 2 || tr.e.RequestCount("jdcloud") != 1 || tr.e.RequestCount("ctyun") != 0 {
		t.Errorf("counts all=%d hw=%d jd=%d ct=%d", tr.e.RequestCount(""), tr.e.RequestCount("huaweicloud"), tr.e.RequestCount("jdcloud"), tr.e.RequestCount("ctyun"))
	}
	rs := tr.e.Requests()
	if len(rs) != 3 {
		t.Fatalf("%d requests recorded", len(rs))
	}
	r := rs[1]
	if r.Provider != "huaweicloud" || r.Method != "POST" || r.Path != "/lbfn-test/huaweicloud/two?q=1" ||
		r.Header.Get("X-Auth") != "sig" || string(r.Body) != `{"n":"two"}` || r.Status != 201 {
		t.Errorf("recorded %+v", r)
	}
	rs[0].Provider = "changed"
	if tr.e.Requests()[0].Provider != "jdcloud" {
		t.Error("Requests returns the emulator's own slice")
	}
	// The handler saw the body too, though serve read it first.
	_, _, body, _ := tr.post(context.Background(), "ctyun", "four")
	if !strings.Contains(body, `"body":"{\"n\":\"four\"}"`) {
		t.Errorf("handler's view of the body: %s", body)
	}
}

func TestCoreConcurrentRequests(t *testing.T) {
	tr := newCoreEmulator(t)
	faults := make([]Fault, 10)
	for i := range faults {
		faults[i] = Fault{Status: 503}
	}
	tr.e.Inject(faults...)
	var wg sync.WaitGroup
	var unavailable atomic.Int32
	for range 20 {
		wg.Go(func() {
			status, _, _, err := tr.post(context.Background(), "jdcloud", "c")
			if err != nil {
				t.Error(err)
			}
			if status == 503 {
				unavailable.Add(1)
			}
			_ = tr.e.Requests()
			_ = tr.e.RequestCount("jdcloud")
		})
	}
	wg.Wait()
	if unavailable.Load() != 10 || tr.handled.Load() != 10 || tr.e.RequestCount("") != 20 {
		t.Errorf("503s %d, handled %d, recorded %d; want 10, 10, 20", unavailable.Load(), tr.handled.Load(), tr.e.RequestCount(""))
	}
}

func TestCoreNewID(t *testing.T) {
	a, b := newID("req"), newID("")
	if !strings.HasPrefix(a, "req-") || len(a) != len("req-")+36 || len(b) != 36 || b[14] != '4' || a == newID("req") {
		t.Errorf("newID: %q %q", a, b)
	}
}

func TestCoreBufferedWriter(t *testing.T) {
	var w bufferedWriter
	w.status = http.StatusOK
	w.header = http.Header{}
	_, _ = w.Write([]byte("x"))
	w.WriteHeader(http.StatusTeapot) // too late, as with a real ResponseWriter
	if w.status != http.StatusOK || !bytes.Equal(w.body.Bytes(), []byte("x")) {
		t.Errorf("status %d body %q", w.status, w.body.Bytes())
	}
}

func coreUnmarshal(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
}
