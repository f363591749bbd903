package gcp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
)

func TestLoadTopic(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantName string // "" with wantErr "": no topic
		wantErr  string
	}{
		{name: "unset", env: map[string]string{"LBFN_FAILURE_TOPIC": ""}},
		{name: "full name", env: map[string]string{"LBFN_FAILURE_TOPIC": "projects/p1/topics/f", "GOOGLE_CLOUD_PROJECT": ""},
			wantName: "projects/p1/topics/f"},
		{name: "short name and project", env: map[string]string{"LBFN_FAILURE_TOPIC": "f", "GOOGLE_CLOUD_PROJECT": "p2"},
			wantName: "projects/p2/topics/f"},
		{name: "short name without project", env: map[string]string{"LBFN_FAILURE_TOPIC": "f", "GOOGLE_CLOUD_PROJECT": ""},
			wantErr: "GOOGLE_CLOUD_PROJECT"},
		{name: "malformed", env: map[string]string{"LBFN_FAILURE_TOPIC": "projects/p/subscriptions/s"},
			wantErr: "is not projects/{project}/topics/{topic}"},
		{name: "plain http endpoint", env: map[string]string{"LBFN_FAILURE_TOPIC": "projects/p/topics/f",
			"LBFN_PUBSUB_ENDPOINT": "http://pubsub.example.com"}, wantErr: "LBFN_PUBSUB_ENDPOINT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			topic, err := LoadTopic()
			if tt.wantErr != "" {
				var e *op.Error
				if !errors.As(err, &e) || e.Kind != op.KindConfig || !strings.Contains(e.Message, tt.wantErr) {
					t.Fatalf("err = %v, want a config error naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantName == "" {
				if topic != nil {
					t.Errorf("topic %+v, want none", topic)
				}
				return
			}
			if topic == nil || topic.Name != tt.wantName {
				t.Errorf("topic %+v, want %s", topic, tt.wantName)
			}
		})
	}
}

// TestTopicNeverFollowsARedirect: neither the metadata server's token answer nor Pub/Sub's
// publish answer is followed when it is a 3xx: the bearer token and the failure report would
// go to wherever it points.
func TestTopicNeverFollowsARedirect(t *testing.T) {
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		_, _ = w.Write([]byte(`{"access_token":"stolen","expires_in":3600}`))
	}))
	defer target.Close()
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	token := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"access_token":"tok","expires_in":3600}`))
	})
	tests := []struct {
		name             string
		metadata, pubsub http.Handler
	}{
		{"metadata redirects", redirect, token},
		{"publish redirects", token, redirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta := httptest.NewServer(tt.metadata)
			defer meta.Close()
			pubsub := httptest.NewServer(tt.pubsub)
			defer pubsub.Close()
			topic := &Topic{Name: "projects/p/topics/t", Endpoint: pubsub.URL, MetadataHost: strings.TrimPrefix(meta.URL, "http://"),
				Client: &httpx.Client{Policy: httpx.Policy{MaxAttempts: 1}}}
			if err := topic.Send(context.Background(), "report", nil); err == nil {
				t.Error("a 307 was a successful publish")
			}
			if n := followed.Load(); n != 0 {
				t.Errorf("the redirect was followed %d times", n)
			}
		})
	}
}
