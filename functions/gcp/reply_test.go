package gcp_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbfn/lbfn/shared/op"
)

// TestPubSubReplyTo checks that the Pub/Sub entry posts a request's final result to its
// replyTo, as the Lambda triggers do: nothing while the creation is in progress, then the
// created result exactly once.
func TestPubSubReplyTo(t *testing.T) {
	var mu sync.Mutex
	var posted []op.Result
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var res op.Result
		if err := json.Unmarshal(b, &res); err != nil {
			t.Errorf("posted body is not a result: %s", b)
		}
		mu.Lock()
		posted = append(posted, res)
		mu.Unlock()
	}))
	defer chat.Close()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(posted)
	}

	id := fmt.Sprintf("reply-%d", time.Now().UnixNano())
	request := strings.Replace(ctyunRequest, "{", `{"replyTo":"`+chat.URL+`/hook",`, 1)
	data := pubsubData(id, []byte(request))
	created := false
	for range 6 { // the first delivery answers in_progress; Pub/Sub redelivers
		if is2xx(cloudEvent(t, "ctyun-create-policy", "binary", id, data)) {
			created = true
			break
		}
		if n := count(); n != 0 {
			t.Fatalf("posted %d results while the creation was in progress, want none", n)
		}
	}
	if !created {
		t.Fatal("redeliveries never ended in created")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posted) != 1 || !posted[0].OK || posted[0].Status != op.StatusCreated || posted[0].Function != "ctyun-create-policy" {
		t.Errorf("posted %+v, want the created result once", posted)
	}
}
