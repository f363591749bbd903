package gcp_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lbfn/lbfn/functions/gcp"
	"github.com/lbfn/lbfn/shared/op"
)

func TestChatopsTopics(t *testing.T) {
	t.Setenv("LBFN_TOPIC_HUAWEI_CREATE_POOL", "lbfn-huawei-create-pool") // short: GOOGLE_CLOUD_PROJECT completes it
	t.Setenv("LBFN_TOPIC_CTYUN_CREATE_POLICY", "projects/other/topics/ctyun")
	topics, err := gcp.LoadTopics(gcp.Operations)
	if err != nil {
		t.Fatal(err)
	}
	pubsub.take()
	request := []byte(`{"region":"cn-north-4","idempotencyKey":"slack:1"}`)
	if err := topics.Enqueue(context.Background(), "huawei-create-pool", request, "slack:1"); err != nil {
		t.Fatal(err)
	}
	if err := topics.Enqueue(context.Background(), "ctyun-create-policy", request, "slack:1"); err != nil {
		t.Fatal(err)
	}
	err = topics.Enqueue(context.Background(), "jdcloud-create-backend", request, "slack:1")
	if e := op.AsError(err); e == nil || e.Kind != op.KindConfig || !strings.Contains(e.Message, "LBFN_TOPIC_JDCLOUD_CREATE_BACKEND") {
		t.Errorf("a function without a topic: %v", err)
	}
	got := pubsub.take()
	if len(got) != 2 || got[0].Topic != "projects/lbfn-test/topics/lbfn-huawei-create-pool" || got[1].Topic != "projects/other/topics/ctyun" ||
		string(got[0].Data) != string(request) || got[0].Attributes["jobId"] != "slack:1" || got[0].Attributes["function"] != "huawei-create-pool" {
		t.Errorf("published %+v", got)
	}

	t.Setenv("LBFN_TOPIC_HUAWEI_CREATE_POOL", "projects/x/subscriptions/y")
	if _, err := gcp.LoadTopics(gcp.Operations); err == nil || !strings.Contains(err.Error(), "LBFN_TOPIC_HUAWEI_CREATE_POOL") {
		t.Errorf("a malformed topic: %v", err)
	}
}

func TestChatopsHTTPFunction(t *testing.T) {
	t.Setenv("LBFN_SLACK_SIGNING_SECRET", "")
	c := gcp.NewChatops(slog.New(slog.DiscardHandler))
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/chatops/slack", http.StatusUnauthorized}, // not configured
		{"/chatops/result/slack.AAAA", http.StatusUnauthorized},
		{"/other", http.StatusNotFound},
	} {
		w := httptest.NewRecorder()
		c.ServeHTTP(w, httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader("{}")))
		if w.Code != tt.want {
			t.Errorf("POST %s = %d, want %d", tt.path, w.Code, tt.want)
		}
	}
	t.Setenv("LBFN_CHATOPS_ENQUEUE_BUDGET", "0s")
	w := httptest.NewRecorder()
	gcp.NewChatops(slog.New(slog.DiscardHandler)).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/chatops/slack", nil))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("a broken setting: %d", w.Code)
	}
}
