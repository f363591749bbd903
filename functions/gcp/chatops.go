package gcp

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/lbfn/lbfn/shared/chatops/queue"
	"github.com/lbfn/lbfn/shared/chatops/server"
	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/op"
)

// ChatopsName is the HTTP function of the chat webhooks.
const ChatopsName = "chatops"

// TopicPrefix starts the variable of each create function's Pub/Sub topic, the queue chatops
// publishes a command's request to.
const TopicPrefix = "LBFN_TOPIC_"

func init() {
	functions.HTTP(ChatopsName, NewChatops(newLogger()).ServeHTTP)
}

// Chatops is the HTTP function chatops: the chat webhooks, publishing each command's request to
// the create function's topic (LBFN_TOPIC_<FUNCTION>), whose <name>-pubsub function runs it and
// posts the result back to chatops. Its set-up runs on first use and again after a failure.
type Chatops struct {
	log *slog.Logger

	mu    sync.Mutex
	ready *server.Server
}

// NewChatops returns the chatops function, logging to log.
func NewChatops(log *slog.Logger) *Chatops { return &Chatops{log: log} }

// ServeHTTP is the HTTP function chatops.
func (c *Chatops) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := c.setup()
	if s == nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	s.ServeHTTP(w, r)
}

func (c *Chatops) setup() *server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ready != nil {
		return c.ready
	}
	settings, err := server.LoadSettings()
	var topics *Topics
	if err == nil {
		topics, err = LoadTopics(Operations)
	}
	if err != nil {
		c.log.Error("configuration failed: answering 500", "function", ChatopsName, "errorKind", string(op.KindConfig), "error", err.Error())
		return nil
	}
	opts := settings.Options(Operations, topics, nil)
	opts.Logger = c.log
	c.ready = server.New(opts)
	return c.ready
}

// Topics publishes each create function's requests to its topic.
type Topics struct {
	byFunction map[string]*Topic
}

// LoadTopics reads LBFN_TOPIC_<FUNCTION> for each of ops (a full topic name, or a short one
// with GOOGLE_CLOUD_PROJECT); a function without one is not published to.
func LoadTopics(ops []op.Operation) (*Topics, error) {
	var s topicSettings
	if err := config.Load(&s); err != nil {
		return nil, err
	}
	t := &Topics{byFunction: map[string]*Topic{}}
	for _, o := range ops {
		// The names follow the catalog, so they are looked up one by one.
		variable := queue.Variable(TopicPrefix, o.Function())
		topic, err := s.topic(variable, strings.TrimSpace(os.Getenv(variable)))
		if err != nil {
			return nil, err
		}
		if topic != nil {
			t.byFunction[o.Function()] = topic
		}
	}
	return t, nil
}

// Enqueue publishes request to function's topic (server.Queue).
func (t *Topics) Enqueue(ctx context.Context, function string, request []byte, jobID string) error {
	topic, ok := t.byFunction[function]
	if !ok {
		return op.Errorf(op.KindConfig, "%s is not set: %s cannot be queued", queue.Variable(TopicPrefix, function), function)
	}
	return topic.Send(ctx, string(request), map[string]string{"function": function, "jobId": jobID})
}
