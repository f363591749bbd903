package gcp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// Topic publishes to one Pub/Sub topic through the REST API (projects.topics.publish), with
// an access token from the metadata server of the function's own service account. It is
// written by hand because the Pub/Sub client library would bring gRPC and several megabytes
// for one call. It implements trigger.FailureQueue.
type Topic struct {
	// Name is "projects/{project}/topics/{topic}".
	Name string
	// Endpoint is the Pub/Sub base URL, default https://pubsub.googleapis.com.
	Endpoint string
	// MetadataHost is the metadata server, default metadata.google.internal.
	MetadataHost string
	// Client sends the publish call (with its retries) and the token request.
	Client *httpx.Client

	mu      sync.Mutex
	token   redact.Secret
	expires time.Time
}

// topicSettings are read from the environment.
type topicSettings struct {
	// Topic is the failure topic: a full name or, with GOOGLE_CLOUD_PROJECT, a short one.
	Topic   string `envconfig:"LBFN_FAILURE_TOPIC"`
	Project string `envconfig:"GOOGLE_CLOUD_PROJECT"`
	// Endpoint overrides the Pub/Sub API's base URL (tests, a private endpoint).
	Endpoint string `envconfig:"LBFN_PUBSUB_ENDPOINT" default:"https://pubsub.googleapis.com"`
	// MetadataHost is the variable Google's own libraries read to move the metadata server.
	MetadataHost string `envconfig:"GCE_METADATA_HOST" default:"metadata.google.internal"`
}

// LoadTopic returns the failure topic LBFN_FAILURE_TOPIC names, or nil when it is unset.
func LoadTopic() (*Topic, error) {
	var s topicSettings
	if err := config.Load(&s); err != nil {
		return nil, err
	}
	return s.topic("LBFN_FAILURE_TOPIC", s.Topic)
}

// topic returns the topic name (full, or short with GOOGLE_CLOUD_PROJECT) read from variable
// names, or nil when name is empty.
func (s topicSettings) topic(variable, name string) (*Topic, error) {
	if name == "" {
		return nil, nil
	}
	if !strings.HasPrefix(name, "projects/") {
		if s.Project == "" {
			return nil, op.Errorf(op.KindConfig, "%s %q is a short name: give projects/{project}/topics/{topic}, or set GOOGLE_CLOUD_PROJECT", variable, name)
		}
		name = "projects/" + s.Project + "/topics/" + name
	}
	if parts := strings.Split(name, "/"); len(parts) != 4 || parts[2] != "topics" || parts[1] == "" || parts[3] == "" {
		return nil, op.Errorf(op.KindConfig, "%s: %q is not projects/{project}/topics/{topic}", variable, name)
	}
	endpoint, err := config.Endpoint("LBFN_PUBSUB_ENDPOINT", s.Endpoint)
	if err != nil {
		return nil, err
	}
	t, err := config.LoadTransport()
	if err != nil {
		return nil, err
	}
	// A publish that was sent but not answered may be retried: a duplicate failure report is
	// better than a lost one, and a duplicate chat request carries its job id as its key.
	return &Topic{Name: name, Endpoint: endpoint.String(), MetadataHost: s.MetadataHost, Client: t.Client(true)}, nil
}

// Send publishes one message with body as its data and the non-empty attributes.
func (t *Topic) Send(ctx context.Context, body string, attributes map[string]string) error {
	attrs := map[string]string{}
	for k, v := range attributes {
		if v != "" {
			attrs[k] = v
		}
	}
	payload, _ := json.Marshal(map[string]any{
		"messages": []map[string]any{{"data": []byte(body), "attributes": attrs}},
	})
	resp, err := t.Client.Do(ctx, httpx.Request{
		Method: http.MethodPost,
		URL:    t.Endpoint + "/v1/" + t.Name + ":publish",
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   payload,
	}, t.authorize, httpx.DefaultRetryable)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Status  string `json:"status"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(resp.Body, &e)
		kind := op.KindProvider
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			kind = op.KindAuth
		case http.StatusNotFound:
			kind = op.KindNotFound
		case http.StatusTooManyRequests:
			kind = op.KindThrottled
		default:
			if resp.StatusCode >= 500 {
				kind = op.KindUnavailable
			}
		}
		return &op.Error{Kind: kind, Retryable: kind.Retryable(), HTTPStatus: resp.StatusCode, ProviderCode: e.Error.Status,
			ProviderMessage: redact.Text(e.Error.Message), Attempts: resp.Attempts,
			Message: fmt.Sprintf("publishing to %s: HTTP %d %s", t.Name, resp.StatusCode, e.Error.Status)}
	}
	return nil
}

// authorize sets the bearer token; httpx calls it before every attempt.
func (t *Topic) authorize(req *http.Request, _ []byte) error {
	token, err := t.accessToken(req.Context())
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return nil
}

// accessToken returns the service account's token from the metadata server, cached until a
// minute before it expires.
func (t *Topic) accessToken(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token.IsSet() && time.Now().Before(t.expires) {
		return t.token.Reveal(), nil
	}
	url := "http://" + t.MetadataHost + "/computeMetadata/v1/instance/service-accounts/default/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", op.Wrap(op.KindConfig, err, "GCE_METADATA_HOST: cannot build the token request")
	}
	req.Header.Set("Metadata-Flavor", "Google")
	resp, err := httpx.WithoutRedirects(t.Client.HTTP).Do(req)
	if err != nil {
		return "", op.Wrap(op.KindUnavailable, err, "metadata server: no access token")
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken redact.Secret `json:"access_token"`
		ExpiresIn   int           `json:"expires_in"`
	}
	if resp.StatusCode/100 == 3 {
		return "", op.Errorf(op.KindUnavailable, "metadata server: HTTP %d for the access token: a redirect is not followed", resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		return "", op.Errorf(op.KindAuth, "metadata server: HTTP %d for the access token", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || !tok.AccessToken.IsSet() {
		return "", op.Errorf(op.KindAuth, "metadata server: no access token in its answer")
	}
	t.token = tok.AccessToken
	t.expires = time.Now().Add(time.Duration(tok.ExpiresIn)*time.Second - time.Minute)
	return t.token.Reveal(), nil
}
