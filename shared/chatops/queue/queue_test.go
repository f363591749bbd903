package queue_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/lbfn/lbfn/shared/chatops/queue"
	"github.com/lbfn/lbfn/shared/op"
)

func TestVariable(t *testing.T) {
	for fn, want := range map[string]string{
		"jdcloud-create-backend":          "LBFN_QUEUE_URL_JDCLOUD_CREATE_BACKEND",
		"huawei-create-master-slave-pool": "LBFN_QUEUE_URL_HUAWEI_CREATE_MASTER_SLAVE_POOL",
		"ctyun-create-policy":             "LBFN_QUEUE_URL_CTYUN_CREATE_POLICY",
	} {
		if got := queue.Variable(queue.URLPrefix, fn); got != want {
			t.Errorf("Variable(%q) = %q, want %q", fn, got, want)
		}
	}
}

type sent struct {
	QueueURL          string `json:"QueueUrl"`
	MessageBody       string
	MessageAttributes map[string]struct{ StringValue string }
}

func fakeSQS(t *testing.T) (*httptest.Server, func() []sent) {
	var mu sync.Mutex
	var got []sent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Amz-Target") != "AmazonSQS.SendMessage" || !strings.Contains(r.Header.Get("Authorization"), "/sqs/aws4_request") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var s sent
		_ = json.Unmarshal(b, &s)
		mu.Lock()
		got = append(got, s)
		mu.Unlock()
		_, _ = io.WriteString(w, `{"MessageId":"m-1","MD5OfMessageBody":"x"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []sent { mu.Lock(); defer mu.Unlock(); return append([]sent(nil), got...) }
}

func TestSQSFromEnv(t *testing.T) {
	srv, messages := fakeSQS(t)
	t.Setenv("LBFN_SQS_ENDPOINT", srv.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("LBFN_QUEUE_URL_HUAWEI_CREATE_POOL", srv.URL+"/123456789012/pools")
	q, err := queue.SQSFromEnv([]string{"huawei-create-pool", "ctyun-create-policy"})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"region":"cn-north-4","idempotencyKey":"slack:1.2.3"}`
	if err := q.Enqueue(context.Background(), "huawei-create-pool", []byte(body), "slack:1.2.3"); err != nil {
		t.Fatal(err)
	}
	got := messages()
	if len(got) != 1 || got[0].QueueURL != srv.URL+"/123456789012/pools" || got[0].MessageBody != body ||
		got[0].MessageAttributes["jobId"].StringValue != "slack:1.2.3" || got[0].MessageAttributes["function"].StringValue != "huawei-create-pool" {
		t.Fatalf("sent %+v", got)
	}
	err = q.Enqueue(context.Background(), "ctyun-create-policy", []byte(body), "slack:1.2.3")
	if e := op.AsError(err); e == nil || e.Kind != op.KindConfig || !strings.Contains(e.Message, "LBFN_QUEUE_URL_CTYUN_CREATE_POLICY") {
		t.Errorf("a function without a queue: %v, want a config failure naming its variable", err)
	}
	if len(messages()) != 1 {
		t.Error("something was sent for a function without a queue")
	}
}

func TestSQSFromEnvRefusesBadSettings(t *testing.T) {
	tests := []struct {
		name, variable, value, want string
	}{
		{"plain http off loopback", "LBFN_QUEUE_URL_HUAWEI_CREATE_POOL", "http://sqs.example.com/1/q", "LBFN_QUEUE_URL_HUAWEI_CREATE_POOL"},
		{"no queue path", "LBFN_QUEUE_URL_HUAWEI_CREATE_POOL", "https://sqs.us-east-1.amazonaws.com/", "not a queue URL"},
		{"endpoint off loopback", "LBFN_SQS_ENDPOINT", "https://sqs.example.com", "LBFN_SQS_ENDPOINT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_REGION", "us-east-1")
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			t.Setenv(tt.variable, tt.value)
			_, err := queue.SQSFromEnv([]string{"huawei-create-pool"})
			if e := op.AsError(err); e == nil || e.Kind != op.KindConfig || !strings.Contains(e.Message, tt.want) {
				t.Errorf("err = %v, want a config failure mentioning %q", err, tt.want)
			}
		})
	}
}
