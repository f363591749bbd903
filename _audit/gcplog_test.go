package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/lbfn/lbfn/functions/gcp"
)

func TestGCPLog(t *testing.T) {
	os.Unsetenv("LBFN_FAILURE_TOPIC")
	var buf bytes.Buffer
	fn := gcp.NewFunction(gcp.Operations[0], slog.New(slog.NewJSONHandler(&buf, nil)))
	data, _ := json.Marshal(map[string]any{"message": map[string]any{"data": base64.StdEncoding.EncodeToString([]byte(`{"regionId":"","replyTo":"https://hooks.example/SECRETTOKEN"}`)), "messageId": "m1"}})
	e := event.New()
	e.SetID("x")
	e.SetType("google.cloud.pubsub.topic.v1.messagePublished")
	e.SetSource("//pubsub")
	_ = e.SetData("application/json", data)
	err := fn.HandlePubSub(context.Background(), e)
	t.Logf("err=%v\n%s", err, buf.String())
}
