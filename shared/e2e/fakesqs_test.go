package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

const (
	fakeAWSKeyID  = "AKIDE2ETEST"
	fakeAWSSecret = "e2e-aws-secret-access-key"
)

// fakeSQS accepts SQS JSON-protocol SendMessage and ChangeMessageVisibility calls signed with
// SigV4 by fakeAWSKeyID.
type fakeSQS struct {
	url        string
	mu         sync.Mutex
	msgs       []sqsMessage
	visibility []visibilityChange
	// down makes every call fail with 500.
	down bool
}

// visibilityChange is one ChangeMessageVisibility call.
type visibilityChange struct {
	QueueURL          string `json:"QueueUrl"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout int    `json:"VisibilityTimeout"`
}

type sqsMessage struct {
	QueueURL   string
	Body       string
	Attributes map[string]string
}

func newFakeSQS(t *testing.T) *fakeSQS {
	q := &fakeSQS{}
	srv := httptest.NewServer(http.HandlerFunc(q.serve))
	t.Cleanup(srv.Close)
	q.url = srv.URL
	return q
}

// env points a function's failure queue, and every other SQS call, at q.
func (q *fakeSQS) env() []string {
	return append(q.endpointEnv(), "LBFN_FAILURE_QUEUE_URL="+q.url+"/123456789012/lbfn-failures")
}

// endpointEnv points a function's SQS calls at q, without a failure queue.
func (q *fakeSQS) endpointEnv() []string {
	return []string{
		"LBFN_SQS_ENDPOINT=" + q.url,
		"AWS_ACCESS_KEY_ID=" + fakeAWSKeyID,
		"AWS_SECRET_ACCESS_KEY=" + fakeAWSSecret,
		"AWS_SESSION_TOKEN=e2e-session-token",
	}
}

func (q *fakeSQS) serve(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	target := r.Header.Get("X-Amz-Target")
	if (target != "AmazonSQS.SendMessage" && target != "AmazonSQS.ChangeMessageVisibility") ||
		!strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+fakeAWSKeyID+"/") || !strings.Contains(auth, "/sqs/aws4_request") ||
		r.Header.Get("X-Amz-Security-Token") == "" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.sqs#InvalidSecurity","message":"bad request"}`)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.down {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.sqs#InternalError","message":"down"}`)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if target == "AmazonSQS.ChangeMessageVisibility" {
		var c visibilityChange
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil || c.ReceiptHandle == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"com.amazonaws.sqs#ReceiptHandleIsInvalid","message":"The input receipt handle is invalid."}`)
			return
		}
		q.visibility = append(q.visibility, c)
		_, _ = io.WriteString(w, `{}`)
		return
	}
	var in struct {
		QueueUrl          string
		MessageBody       string
		MessageAttributes map[string]struct{ DataType, StringValue string }
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	m := sqsMessage{QueueURL: in.QueueUrl, Body: in.MessageBody, Attributes: map[string]string{}}
	for k, v := range in.MessageAttributes {
		m.Attributes[k] = v.StringValue
	}
	q.msgs = append(q.msgs, m)
	_, _ = io.WriteString(w, `{"MD5OfMessageBody":"00000000000000000000000000000000","MessageId":"fake-1"}`)
}

func (q *fakeSQS) messages() []sqsMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]sqsMessage(nil), q.msgs...)
}

func (q *fakeSQS) visibilityChanges() []visibilityChange {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]visibilityChange(nil), q.visibility...)
}
