package gcp

import (
	"errors"
	"strings"
	"testing"

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
