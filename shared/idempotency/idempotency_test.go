package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/op"
)

// fakeDynamoDB answers DynamoDB's JSON protocol from a script: one answer per request, the
// last repeated.
type fakeDynamoDB struct {
	mu       sync.Mutex
	answers  []answer
	requests []*http.Request
	bodies   []map[string]any
}

type answer struct {
	status int
	body   string
}

func (f *fakeDynamoDB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.bodies = append(f.bodies, body)
	a := f.answers[0]
	if len(f.answers) > 1 {
		f.answers = f.answers[1:]
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func (f *fakeDynamoDB) targets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		out = append(out, strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810."))
	}
	return out
}

const (
	conditionFailed = `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`
	throttled       = `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`
	badSignature    = `{"__type":"com.amazon.coral.service#InvalidSignatureException","message":"The request signature we calculated does not match the signature you provided.\n\nThe Canonical String for this request should have been\n'POST\n/\n\nx-amz-security-token:local-token\n'"}`
	accessDenied    = `{"__type":"com.amazon.coral.service#AccessDeniedException","Message":"User AKIDLOCAL is not authorized to perform: dynamodb:PutItem"}`
)

func fakeStore(t *testing.T, answers ...answer) (*DynamoDBStore, *fakeDynamoDB) {
	t.Helper()
	fake := &fakeDynamoDB{answers: answers}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	s, err := New(testSettings(srv.URL, "lbfn-idempotency"), testClient())
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 600e6, time.UTC) }
	return s, fake
}

// TestClaimRequest pins the claim's PutItem: the action, the signing, and every attribute.
func TestClaimRequest(t *testing.T) {
	s, fake := fakeStore(t, answer{200, `{}`})
	lease := s.Now().Add(29 * time.Second)
	if res, err := s.Claim(context.Background(), "fn#k", "sha256:ab", lease); res != nil || err != nil {
		t.Fatalf("Claim = %v, %v", res, err)
	}
	r := fake.requests[0]
	if r.Method != http.MethodPost || r.URL.Path != "/" ||
		r.Header.Get("X-Amz-Target") != "DynamoDB_20120810.PutItem" ||
		r.Header.Get("Content-Type") != "application/x-amz-json-1.0" ||
		r.Header.Get("X-Amz-Security-Token") != "local-token" ||
		r.Header.Get("X-Amz-Date") != "20260102T030405Z" ||
		!strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260102/us-east-1/dynamodb/aws4_request") {
		t.Errorf("request %s %s headers %v", r.Method, r.URL, r.Header)
	}
	got, _ := json.Marshal(fake.bodies[0])
	want := `{"ConditionExpression":"attribute_not_exists(#id) OR #expiration \u003c :now OR (#status = :inprogress AND #lease \u003c :nowms)",` +
		`"ExpressionAttributeNames":{"#expiration":"expiration","#id":"id","#lease":"in_progress_expiration","#status":"status"},` +
		`"ExpressionAttributeValues":{":inprogress":{"S":"IN_PROGRESS"},":now":{"N":"1767323045"},":nowms":{"N":"1767323045600"}},` +
		`"Item":{"expiration":{"N":"1767326646"},"id":{"S":"fn#k"},"in_progress_expiration":{"N":"1767323074600"},"status":{"S":"IN_PROGRESS"},"validation":{"S":"sha256:ab"}},` +
		`"TableName":"lbfn-idempotency"}`
	if string(got) != want {
		t.Errorf("PutItem body\n got %s\nwant %s", got, want)
	}
}

func TestCompleteAndReleaseRequests(t *testing.T) {
	s, fake := fakeStore(t, answer{200, `{}`})
	res := &op.Result{OK: true, Function: "fn", Provider: "p", Status: op.StatusCreated, ID: "x"}
	if err := s.Complete(context.Background(), "fn#k", "h", res); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(context.Background(), "fn#k"); err != nil {
		t.Fatal(err)
	}
	if got := fake.targets(); strings.Join(got, ",") != "PutItem,DeleteItem" {
		t.Fatalf("actions %v", got)
	}
	put, _ := json.Marshal(fake.bodies[0])
	wantPut := `{"Item":{"data":{"S":"{\"ok\":true,\"function\":\"fn\",\"provider\":\"p\",\"status\":\"created\",\"id\":\"x\"}"},` +
		`"expiration":{"N":"1767326646"},"id":{"S":"fn#k"},"status":{"S":"COMPLETED"},"validation":{"S":"h"}},"TableName":"lbfn-idempotency"}`
	if string(put) != wantPut {
		t.Errorf("complete body\n got %s\nwant %s", put, wantPut)
	}
	del, _ := json.Marshal(fake.bodies[1])
	if want := `{"Key":{"id":{"S":"fn#k"}},"TableName":"lbfn-idempotency"}`; string(del) != want {
		t.Errorf("release body %s, want %s", del, want)
	}
}

// TestClaimAnswers covers what a claim makes of DynamoDB's answers: the read after a failed
// condition, and failures, which are all retryable unavailable errors without a credential.
func TestClaimAnswers(t *testing.T) {
	now := int64(1767323045)
	item := func(status, hash string, expiry, leaseMs int64, data string) answer {
		it := map[string]any{"Item": map[string]any{
			"id": map[string]string{"S": "fn#k"}, "status": map[string]string{"S": status},
			"validation": map[string]string{"S": hash},
			"expiration": map[string]string{"N": itoa(expiry)}, "in_progress_expiration": map[string]string{"N": itoa(leaseMs)},
			"data": map[string]string{"S": data},
		}}
		b, _ := json.Marshal(it)
		return answer{200, string(b)}
	}
	ok := answer{200, `{}`}
	tests := []struct {
		name    string
		answers []answer
		want    string   // "claimed", "replay", "in_progress", "key_reused", "error"
		actions []string // the requests sent
		message string   // error message fragment
	}{
		{"claimed", []answer{ok}, "claimed", []string{"PutItem"}, ""},
		{"completed, same request", []answer{{400, conditionFailed}, item("COMPLETED", "h", now+60, 0, `{"ok":true,"function":"fn","provider":"p","status":"created","id":"x"}`)},
			"replay", []string{"PutItem", "GetItem"}, ""},
		{"completed, other request", []answer{{400, conditionFailed}, item("COMPLETED", "other", now+60, 0, `{}`)},
			"key_reused", []string{"PutItem", "GetItem"}, ""},
		{"held by another instance", []answer{{400, conditionFailed}, item("IN_PROGRESS", "h", now+60, (now+20)*1000, "")},
			"in_progress", []string{"PutItem", "GetItem"}, ""},
		{"gone before the read: claimed again", []answer{{400, conditionFailed}, {200, `{}`}, ok},
			"claimed", []string{"PutItem", "GetItem", "PutItem"}, ""},
		{"never settles", []answer{{400, conditionFailed}, {200, `{}`}, {400, conditionFailed}, {200, `{}`}, {400, conditionFailed}, {200, `{}`}},
			"in_progress", []string{"PutItem", "GetItem", "PutItem", "GetItem", "PutItem", "GetItem"}, ""},
		{"stored result unreadable", []answer{{400, conditionFailed}, item("COMPLETED", "h", now+60, 0, `{`)},
			"error", []string{"PutItem", "GetItem"}, "reading the stored result"},
		{"throttled until the attempts run out", []answer{{400, throttled}},
			"error", []string{"PutItem", "PutItem", "PutItem"}, "ThrottlingException"},
		{"throttled, then claimed", []answer{{400, throttled}, ok},
			"claimed", []string{"PutItem", "PutItem"}, ""},
		{"5xx retried", []answer{{500, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"oops"}`}},
			"error", []string{"PutItem", "PutItem", "PutItem"}, "InternalServerError"},
		{"signature refused: canonical request not repeated", []answer{{400, badSignature}},
			"error", []string{"PutItem"}, "InvalidSignatureException"},
		{"access denied", []answer{{400, accessDenied}},
			"error", []string{"PutItem"}, "AccessDeniedException"},
		{"read fails", []answer{{400, conditionFailed}, {503, `{}`}},
			"error", []string{"PutItem", "GetItem", "GetItem", "GetItem"}, "GetItem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, fake := fakeStore(t, tt.answers...)
			res, err := s.Claim(context.Background(), "fn#k", "h", s.Now().Add(29*time.Second))
			if got := outcome(res, err); got != tt.want {
				t.Fatalf("Claim = %s (%v), want %s", got, err, tt.want)
			}
			if got := fake.targets(); strings.Join(got, ",") != strings.Join(tt.actions, ",") {
				t.Errorf("actions %v, want %v", got, tt.actions)
			}
			for i, b := range fake.bodies {
				if fake.targets()[i] == "GetItem" && b["ConsistentRead"] != true {
					t.Errorf("GetItem without ConsistentRead: %v", b)
				}
			}
			if tt.want == "replay" && (res.ID != "x" || res.Status != op.StatusCreated) {
				t.Errorf("replayed %+v", res)
			}
			if tt.want != "error" {
				return
			}
			var e *op.Error
			if !errors.As(err, &e) || e.Kind != op.KindUnavailable || !e.Retryable {
				t.Fatalf("error %#v is not a retryable unavailable *op.Error", err)
			}
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("message %q does not say %q", e.Message, tt.message)
			}
			b, _ := json.Marshal(e)
			for _, secret := range []string{"local-secret", "local-token", "AKIDLOCAL", "Canonical"} {
				if strings.Contains(e.Error(), secret) || strings.Contains(string(b), secret) {
					t.Errorf("error carries %q: %s", secret, b)
				}
			}
		})
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	s, err := New(testSettings(url, "t"), testClient())
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Claim(context.Background(), "fn#k", "h", time.Now().Add(time.Minute))
	var e *op.Error
	if !errors.As(err, &e) || e.Kind != op.KindUnavailable || !e.Retryable || !strings.Contains(e.Message, "idempotency store") {
		t.Errorf("unreachable store: %#v", err)
	}
}

// unsetEnv removes variables for the test, restoring them after.
func unsetEnv(t *testing.T, names ...string) {
	for _, n := range names {
		t.Setenv(n, "")
		os.Unsetenv(n)
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string // "memory", "dynamodb", or an error fragment
		wantTTL time.Duration
	}{
		{"no table: memory", nil, "memory", time.Hour},
		{"no table, TTL set", map[string]string{"LBFN_IDEMPOTENCY_TTL": "10m"}, "memory", 10 * time.Minute},
		{"table", map[string]string{"LBFN_IDEMPOTENCY_TABLE": "t", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}, "dynamodb", time.Hour},
		{"loopback endpoint", map[string]string{"LBFN_IDEMPOTENCY_TABLE": "t", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s",
			"LBFN_DYNAMODB_ENDPOINT": "http://127.0.0.1:4567"}, "dynamodb", time.Hour},
		{"remote endpoint", map[string]string{"LBFN_IDEMPOTENCY_TABLE": "t", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s",
			"LBFN_DYNAMODB_ENDPOINT": "https://dynamodb.example.com"}, "LBFN_DYNAMODB_ENDPOINT: only a loopback host", 0},
		{"plain http remote endpoint", map[string]string{"LBFN_IDEMPOTENCY_TABLE": "t", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s",
			"LBFN_DYNAMODB_ENDPOINT": "http://dynamodb.example.com"}, "LBFN_DYNAMODB_ENDPOINT: plain http://", 0},
		{"no region", map[string]string{"LBFN_IDEMPOTENCY_TABLE": "t", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}, "AWS_REGION is not set", 0},
		{"no credentials", map[string]string{"LBFN_IDEMPOTENCY_TABLE": "t", "AWS_REGION": "eu-west-1"}, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", 0},
		{"bad TTL", map[string]string{"LBFN_IDEMPOTENCY_TTL": "soon"}, "LBFN_IDEMPOTENCY_TTL: cannot parse", 0},
		{"zero TTL", map[string]string{"LBFN_IDEMPOTENCY_TTL": "0s"}, "LBFN_IDEMPOTENCY_TTL must be positive", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unsetEnv(t, "LBFN_IDEMPOTENCY_TABLE", "LBFN_IDEMPOTENCY_TTL", "LBFN_DYNAMODB_ENDPOINT",
				"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			store, err := FromEnv()
			switch s := store.(type) {
			case *op.MemoryStore:
				if tt.want != "memory" || s.TTL != tt.wantTTL {
					t.Errorf("memory store TTL %s, want %s", s.TTL, tt.want)
				}
			case *DynamoDBStore:
				if tt.want != "dynamodb" || s.Table() != "t" || s.ttl != tt.wantTTL {
					t.Errorf("DynamoDB store %q TTL %s, want %s", s.Table(), s.ttl, tt.want)
				}
			case nil:
				var e *op.Error
				if !errors.As(err, &e) || e.Kind != op.KindConfig || !strings.Contains(e.Message, tt.want) {
					t.Errorf("FromEnv error %v, want config error %q", err, tt.want)
				}
				if strings.Contains(err.Error(), "s\"") {
					t.Errorf("error may carry the secret key: %v", err)
				}
			default:
				t.Errorf("FromEnv = %T", store)
			}
		})
	}
}

func TestDefaultEndpoint(t *testing.T) {
	for region, want := range map[string]string{
		"eu-west-1":      "https://dynamodb.eu-west-1.amazonaws.com",
		"cn-northwest-1": "https://dynamodb.cn-northwest-1.amazonaws.com.cn",
	} {
		if got := defaultEndpoint(region); got != want {
			t.Errorf("defaultEndpoint(%s) = %s, want %s", region, got, want)
		}
	}
}

// BenchmarkClaim measures one claim's request building, signing and round trip to a loopback
// fake: the store's own cost beside DynamoDB's latency.
func BenchmarkClaim(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	s, err := New(testSettings(srv.URL, "t"), testClient())
	if err != nil {
		b.Fatal(err)
	}
	lease := time.Now().Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Claim(context.Background(), "fn#k", "sha256:ab", lease); err != nil {
			b.Fatal(err)
		}
	}
}
