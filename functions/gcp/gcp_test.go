package gcp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/lbfn/lbfn/functions/gcp"
	"github.com/lbfn/lbfn/shared/emulator"
	"github.com/lbfn/lbfn/shared/trigger"
)

// The tests run the Functions Framework's real HTTP server, with every function registered by
// the package's init, against the emulator and a fake Pub/Sub + metadata server.

var (
	framework string // base URL of the framework's server
	emu       *emulator.Emulator
	pubsub    = &fakePubSub{}
)

const ctyunRequest = `{"regionID":"bb9fdb42056f11eda1610242ac110002","listenerID":"listener-3ba2dlfbec","name":"policy01",` +
	`"conditions":[{"ruleType":"PATH","matchType":"STARTS_WITH","matchValue":"/api"}],` +
	`"targetGroup":{"name":"tg01","algorithm":"rr","targets":[{"instanceID":"ss-0123456789","protocolPort":8080,"instanceType":"vm","weight":100,"address":"192.168.0.10"}]}}`

func TestMain(m *testing.M) {
	emu = emulator.New(emulator.Options{CTyunPolls: 2})
	cloud := httptest.NewServer(emu)
	google := httptest.NewServer(pubsub)
	env := map[string]string{
		"CTYUN_AK": emulator.DemoAccessKey, "CTYUN_SK": emulator.DemoSecretKey, "CTYUN_ELB_ENDPOINT": cloud.URL,
		"JDCLOUD_ACCESS_KEY": emulator.DemoAccessKey, "JDCLOUD_SECRET_KEY": emulator.DemoSecretKey, "JDCLOUD_LB_ENDPOINT": cloud.URL,
		"HUAWEICLOUD_SDK_AK": emulator.DemoAccessKey, "HUAWEICLOUD_SDK_SK": emulator.DemoSecretKey,
		"HUAWEICLOUD_SDK_PROJECT_ID": emulator.DemoProjectID, "HUAWEICLOUD_ELB_ENDPOINT": cloud.URL,
		// One poll per delivery, so the first delivery answers in_progress; one attempt per
		// call, so an injected 503 is the answer.
		"LBFN_CTYUN_POLL_FIRST": "1ms", "LBFN_CTYUN_POLL_MAX": "2ms", "LBFN_CTYUN_MAX_POLLS": "1",
		"LBFN_MAX_ATTEMPTS":  "1",
		"LBFN_FAILURE_TOPIC": "failures", "GOOGLE_CLOUD_PROJECT": "lbfn-test",
		"LBFN_PUBSUB_ENDPOINT": google.URL, "GCE_METADATA_HOST": strings.TrimPrefix(google.URL, "http://"),
	}
	for k, v := range env {
		os.Setenv(k, v)
	}
	os.Unsetenv("FUNCTION_TARGET")
	os.Unsetenv("LBFN_WEBHOOK_SECRET")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	go func() {
		if err := funcframework.StartHostPort("127.0.0.1", port); err != nil {
			fmt.Fprintln(os.Stderr, "framework:", err)
			os.Exit(1)
		}
	}()
	framework = "http://127.0.0.1:" + port
	for i := 0; ; i++ {
		if resp, err := http.Get(framework + "/"); err == nil {
			resp.Body.Close()
			break
		}
		if i == 3000 { // 30 s: a loaded machine is slow, but not that slow
			fmt.Fprintln(os.Stderr, "the functions framework did not start")
			os.Exit(1)
		}
		time.Sleep(10 * time.Millisecond)
	}
	code := m.Run()
	cloud.Close()
	google.Close()
	os.Exit(code)
}

// fakePubSub is the metadata server's token endpoint and Pub/Sub's publish call.
type fakePubSub struct {
	mu        sync.Mutex
	published []published
	failNext  int // answer this many publishes with 403
	tokens    int
}

type published struct {
	Topic      string
	Data       []byte
	Attributes map[string]string
}

func (f *fakePubSub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.URL.Path == "/computeMetadata/v1/instance/service-accounts/default/token":
		if r.Header.Get("Metadata-Flavor") != "Google" {
			http.Error(w, "missing Metadata-Flavor", http.StatusForbidden)
			return
		}
		f.tokens++
		fmt.Fprint(w, `{"access_token":"ya29.test-token","expires_in":3599,"token_type":"Bearer"}`)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, ":publish"):
		if r.Header.Get("Authorization") != "Bearer ya29.test-token" {
			http.Error(w, `{"error":{"status":"UNAUTHENTICATED","message":"no token"}}`, http.StatusUnauthorized)
			return
		}
		if f.failNext > 0 {
			f.failNext--
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error":{"code":403,"status":"PERMISSION_DENIED","message":"denied"}}`)
			return
		}
		var in struct {
			Messages []struct {
				Data       []byte            `json:"data"`
				Attributes map[string]string `json:"attributes"`
			} `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Messages) != 1 {
			http.Error(w, `{"error":{"status":"INVALID_ARGUMENT"}}`, http.StatusBadRequest)
			return
		}
		topic := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/"), ":publish")
		f.published = append(f.published, published{topic, in.Messages[0].Data, in.Messages[0].Attributes})
		fmt.Fprint(w, `{"messageIds":["1"]}`)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakePubSub) take() []published {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.published
	f.published = nil
	return p
}

func (f *fakePubSub) failPublishes(n int) {
	f.mu.Lock()
	f.failNext = n
	f.mu.Unlock()
}

func post(t *testing.T, path string, header http.Header, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, framework+path, bytes.NewReader(body))
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestHTTPFunctions(t *testing.T) {
	json := http.Header{"Content-Type": {"application/json"}}
	for _, o := range gcp.Operations {
		t.Run(o.Function(), func(t *testing.T) {
			status, body := post(t, "/"+o.Function(), json, []byte(`{"unknownField": 1}`))
			if status != http.StatusBadRequest || !strings.Contains(string(body), `"function":"`+o.Function()+`"`) ||
				!strings.Contains(string(body), `"kind":"validation"`) {
				t.Errorf("POST /%s = %d %s, want 400 with a validation failure of this function", o.Function(), status, body)
			}
		})
	}
	t.Run("dry run", func(t *testing.T) {
		before := emu.RequestCount("ctyun")
		req := strings.Replace(ctyunRequest, "{", `{"dryRun":true,`, 1)
		status, body := post(t, "/ctyun-create-policy", json, []byte(req))
		if status != http.StatusOK || !strings.Contains(string(body), `"status":"validated"`) {
			t.Errorf("dry run = %d %s, want 200 validated", status, body)
		}
		if emu.RequestCount("ctyun") != before {
			t.Error("a dry run reached the provider")
		}
	})
}

// cloudEvent posts a Pub/Sub CloudEvent carrying request (as message.data) in binary or
// structured content mode, and returns the framework's status.
func cloudEvent(t *testing.T, function, mode, messageID string, data []byte) int {
	t.Helper()
	const (
		ceType   = "google.cloud.pubsub.topic.v1.messagePublished"
		ceSource = "//pubsub.googleapis.com/projects/lbfn-test/topics/requests"
	)
	switch mode {
	case "binary":
		h := http.Header{
			"Content-Type":   {"application/json"},
			"Ce-Specversion": {"1.0"},
			"Ce-Type":        {ceType},
			"Ce-Source":      {ceSource},
			"Ce-Id":          {messageID},
			"Ce-Time":        {time.Now().UTC().Format(time.RFC3339)},
		}
		status, _ := post(t, "/"+function+gcp.PubSubSuffix, h, data)
		return status
	default:
		ev, _ := json.Marshal(map[string]any{
			"specversion": "1.0", "type": ceType, "source": ceSource, "id": messageID,
			"datacontenttype": "application/json", "data": json.RawMessage(data),
		})
		status, _ := post(t, "/"+function+gcp.PubSubSuffix, http.Header{"Content-Type": {"application/cloudevents+json"}}, ev)
		return status
	}
}

func pubsubData(messageID string, request []byte) []byte {
	b, _ := json.Marshal(map[string]any{
		"message": map[string]any{
			"data": base64.StdEncoding.EncodeToString(request), "messageId": messageID, "message_id": messageID,
			"publishTime": "2026-01-01T00:00:00Z", "attributes": map[string]string{"origin": "test"},
		},
		"subscription": "projects/lbfn-test/subscriptions/ctyun",
	})
	return b
}

func is2xx(status int) bool { return status >= 200 && status < 300 }

func TestPubSub(t *testing.T) {
	tests := []struct {
		name       string
		data       func(id string) []byte
		inject     []emulator.Fault
		failPub    int
		wantRetry  bool   // the framework must answer an error status: Pub/Sub redelivers
		wantKept   string // the failure kind published to the failure topic, "" for none
		wantCreate bool   // redeliveries end in created
	}{
		{name: "in progress, then created on redelivery",
			data: func(id string) []byte { return pubsubData(id, []byte(ctyunRequest)) }, wantRetry: true, wantCreate: true},
		{name: "validation failure is kept, not retried",
			data: func(id string) []byte { return pubsubData(id, []byte(`{"regionID":"r"}`)) }, wantKept: "validation"},
		{name: "not JSON is kept, not retried",
			data: func(id string) []byte { return pubsubData(id, []byte(`not json`)) }, wantKept: "validation"},
		{name: "not a Pub/Sub message is kept, not retried",
			data: func(id string) []byte { return []byte(`{"hello":"world"}`) }, wantKept: "validation"},
		{name: "provider unavailable is retried",
			data:   func(id string) []byte { return pubsubData(id, []byte(ctyunRequest)) },
			inject: []emulator.Fault{{Provider: "ctyun", Status: http.StatusServiceUnavailable}}, wantRetry: true},
		{name: "failure topic unreachable: retried rather than dropped",
			data:    func(id string) []byte { return pubsubData(id, []byte(`{"regionID":"r"}`)) },
			failPub: 1, wantRetry: true},
	}
	for _, mode := range []string{"binary", "structured"} {
		for i, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				id := fmt.Sprintf("%s-%d-%d", mode, i, time.Now().UnixNano())
				pubsub.take()
				pubsub.failPublishes(tt.failPub)
				emu.Inject(tt.inject...)
				before := len(emu.Requests())

				status := cloudEvent(t, "ctyun-create-policy", mode, id, tt.data(id))
				if got := !is2xx(status); got != tt.wantRetry {
					t.Fatalf("status %d: retry = %v, want %v", status, got, tt.wantRetry)
				}
				kept := pubsub.take()
				if tt.wantKept == "" && len(kept) > 0 {
					t.Errorf("published %d failures, want none", len(kept))
				}
				if tt.wantKept != "" {
					if len(kept) != 1 {
						t.Fatalf("published %d failures, want 1", len(kept))
					}
					checkKept(t, kept[0], id, tt.wantKept)
				}
				if tt.wantCreate {
					created := false
					for range 5 { // the redeliveries Pub/Sub would make
						if is2xx(cloudEvent(t, "ctyun-create-policy", mode, id, tt.data(id))) {
							created = true
							break
						}
					}
					if !created {
						t.Error("redeliveries never ended in created")
					}
					// Every delivery resumed the same creation: the same body, so the same
					// clientToken, derived from the Pub/Sub message id.
					sent := emu.Requests()[before:]
					if len(sent) < 2 {
						t.Fatalf("%d provider requests, want at least 2", len(sent))
					}
					for _, r := range sent {
						if !bytes.Equal(r.Body, sent[0].Body) {
							t.Errorf("a redelivery sent a different body:\n%s\nfirst:\n%s", r.Body, sent[0].Body)
						}
					}
				}
			})
		}
	}
}

func checkKept(t *testing.T, p published, messageID, kind string) {
	t.Helper()
	if p.Topic != "projects/lbfn-test/topics/failures" {
		t.Errorf("published to %q", p.Topic)
	}
	if p.Attributes["kind"] != kind || p.Attributes["function"] != "ctyun-create-policy" || p.Attributes["trigger"] != "pubsub" {
		t.Errorf("attributes %v", p.Attributes)
	}
	var report trigger.FailureReport
	if err := json.Unmarshal(p.Data, &report); err != nil {
		t.Fatalf("failure report %s: %v", p.Data, err)
	}
	if report.Result == nil || report.Result.OK || report.Result.Error == nil || string(report.Result.Error.Kind) != kind {
		t.Errorf("report result %+v, want a %s failure", report.Result, kind)
	}
	if len(report.Request) == 0 {
		t.Error("the report lacks the request")
	}
	if p.Attributes["messageId"] != messageID && report.MessageID != messageID {
		t.Errorf("message id %q / %q, want %q", p.Attributes["messageId"], report.MessageID, messageID)
	}
}

func TestPubSubEntriesRegistered(t *testing.T) {
	for _, o := range gcp.Operations {
		t.Run(o.Function(), func(t *testing.T) {
			pubsub.take()
			id := "registered-" + o.Function()
			if status := cloudEvent(t, o.Function(), "binary", id, pubsubData(id, []byte(`{"unknownField":1}`))); !is2xx(status) {
				t.Fatalf("status %d, want 2xx for a permanent failure", status)
			}
			kept := pubsub.take()
			if len(kept) != 1 || kept[0].Attributes["function"] != o.Function() || kept[0].Attributes["kind"] != "validation" {
				t.Errorf("published %+v, want one validation failure of %s", kept, o.Function())
			}
		})
	}
}

// FuzzPubSubEvent feeds arbitrary CloudEvent data to a Pub/Sub entry: it must never panic,
// and must answer nil (done or kept) or a *gcp.RetryError.
func FuzzPubSubEvent(f *testing.F) {
	f.Add(pubsubData("seed-1", []byte(`{"regionID":"r"}`)))
	f.Add(pubsubData("seed-2", []byte(`not json`)))
	f.Add([]byte(`{"message":{"data":"!!"}}`))
	f.Add([]byte(`{"message":null}`))
	f.Add([]byte(`[]`))
	fn := gcp.NewFunction(gcp.Operations[0], slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := event.New()
		e.SetID("fuzz")
		e.SetType("google.cloud.pubsub.topic.v1.messagePublished")
		e.SetSource("//pubsub.googleapis.com/projects/lbfn-test/topics/requests")
		_ = e.SetData("application/json", data)
		err := fn.HandlePubSub(context.Background(), e)
		var retry *gcp.RetryError
		if err != nil && !errors.As(err, &retry) {
			t.Fatalf("error %v is not a RetryError", err)
		}
		pubsub.take()
	})
}
