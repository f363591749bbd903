package main

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// A sampleFile is one file of events/<function>/: a hand-written request (build nil) or a
// trigger's envelope around them.
type sampleFile struct {
	name, trigger, what string // events/README.md's table
	build               func(r requests) (any, error)
}

// requests are a function's two sample requests, compact, as written in direct.json and
// second.json (key order kept).
type requests struct {
	function      string
	first, second []byte
}

// sampleFiles are the files of every events/<function>/ folder, in events/README.md's order.
var sampleFiles = []sampleFile{
	{"direct.json", "direct (Step Functions, `aws lambda invoke`)", "the request itself; hand-written, like `second.json`", nil},
	{"second.json", "direct", "a second request: the other record of `sqs.json`, the body of `http-base64.json`", nil},
	{"dry-run.json", "direct", "the first request with `\"dryRun\": true`: validated, nothing sent", dryRunEvent},
	{"sqs.json", "SQS", "an `events.SQSEvent` with two records, each `body` a request as a JSON string", sqsEvent},
	{"http.json", "API Gateway HTTP API v2 / Function URL", "`requestContext.http`, `body` = the first request", httpEvent(false)},
	{"http-base64.json", "API Gateway HTTP API v2", "the second request, base64 in `body` with `isBase64Encoded: true`", httpEvent(true)},
	{"sns.json", "SNS", "one record, `Sns.Message` = the first request as a JSON string", snsEvent},
	{"eventbridge.json", "EventBridge", "`detail-type` and `detail`, `detail` = the first request", eventBridgeEvent},
}

// sampleTable is events/README.md's table of sampleFiles.
func sampleTable() string {
	var b strings.Builder
	b.WriteString("| file | trigger | what is in it |\n|---|---|---|\n")
	for _, f := range sampleFiles {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.name, f.trigger, f.what)
	}
	return b.String()
}

// sampleEvents returns the envelopes of events/<function>/, built from its two requests.
func sampleEvents(root, function string) ([]file, error) {
	dir := path.Join("events", function)
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path.Join(dir, name))))
		if err != nil {
			return nil, fmt.Errorf("%v: every function's folder has its hand-written requests (events/README.md)", err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil || !bytes.HasPrefix(c.Bytes(), []byte("{")) {
			return nil, fmt.Errorf("%s/%s: not a JSON object (%v)", dir, name, err)
		}
		return c.Bytes(), nil
	}
	var r requests
	var err error
	r.function = function
	if r.first, err = read("direct.json"); err != nil {
		return nil, err
	}
	if r.second, err = read("second.json"); err != nil {
		return nil, err
	}
	var files []file
	for _, f := range sampleFiles {
		if f.build == nil {
			continue
		}
		v, err := f.build(r)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", dir, f.name, err)
		}
		b, err := encode(v)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", dir, f.name, err)
		}
		files = append(files, file{path.Join(dir, f.name), b})
	}
	return files, nil
}

// encode writes v as the samples are written: two-space indent, no HTML escapes (a request
// reads as written), a final newline.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.SetIndent("", "  ")
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// The made-up account, region and clock every envelope shares.
const (
	account   = "123456789012"
	region    = "us-east-1"
	timestamp = "2026-11-22T06:00:00Z"
	epochMs   = 1763791200000
)

// sampleID is a stable UUID for the named id of a function's sample: the same on every run,
// different for every function and file, so no two samples share an idempotency key.
func sampleID(function, what string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/lbfn/lbfn/events/"+function+"#"+what)).String()
}

func dryRunEvent(r requests) (any, error) {
	body := bytes.Clone(r.first[:len(r.first)-1]) // r.first without its closing brace
	if len(r.first) > 2 {
		body = append(body, ',')
	}
	return json.RawMessage(append(body, `"dryRun":true}`...)), nil
}

type sqsRecord struct {
	MessageID         string        `json:"messageId"`
	ReceiptHandle     string        `json:"receiptHandle"`
	Body              string        `json:"body"`
	Attributes        sqsAttributes `json:"attributes"`
	MessageAttributes struct{}      `json:"messageAttributes"`
	MD5OfBody         string        `json:"md5OfBody"`
	EventSource       string        `json:"eventSource"`
	EventSourceARN    string        `json:"eventSourceARN"`
	AWSRegion         string        `json:"awsRegion"`
}

type sqsAttributes struct {
	ApproximateReceiveCount          string
	SentTimestamp                    string
	SenderID                         string `json:"SenderId"`
	ApproximateFirstReceiveTimestamp string
}

func sqsEvent(r requests) (any, error) {
	var records []sqsRecord
	for i, body := range [][]byte{r.first, r.second} {
		sum := md5.Sum(body)
		records = append(records, sqsRecord{
			MessageID:     sampleID(r.function, fmt.Sprintf("sqs-%d", i)),
			ReceiptHandle: fmt.Sprintf("AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a%d", i),
			Body:          string(body),
			Attributes: sqsAttributes{ApproximateReceiveCount: "1", SentTimestamp: fmt.Sprint(epochMs),
				SenderID: "AIDAIENQZJOLO23YVJ4VO", ApproximateFirstReceiveTimestamp: fmt.Sprint(epochMs + 1)},
			MD5OfBody:      hex.EncodeToString(sum[:]),
			EventSource:    "aws:sqs",
			EventSourceARN: "arn:aws:sqs:" + region + ":" + account + ":lbfn-" + r.function,
			AWSRegion:      region,
		})
	}
	return struct {
		Records []sqsRecord
	}{records}, nil
}

type httpRequest struct {
	Version         string      `json:"version"`
	RouteKey        string      `json:"routeKey"`
	RawPath         string      `json:"rawPath"`
	RawQueryString  string      `json:"rawQueryString"`
	Headers         httpHeaders `json:"headers"`
	RequestContext  httpContext `json:"requestContext"`
	Body            string      `json:"body"`
	IsBase64Encoded bool        `json:"isBase64Encoded"`
}

type httpHeaders struct {
	ContentType    string `json:"content-type"`
	Host           string `json:"host"`
	UserAgent      string `json:"user-agent"`
	ForwardedProto string `json:"x-forwarded-proto"`
}

type httpContext struct {
	AccountID    string `json:"accountId"`
	APIID        string `json:"apiId"`
	DomainName   string `json:"domainName"`
	DomainPrefix string `json:"domainPrefix"`
	HTTP         struct {
		Method    string `json:"method"`
		Path      string `json:"path"`
		Protocol  string `json:"protocol"`
		SourceIP  string `json:"sourceIp"`
		UserAgent string `json:"userAgent"`
	} `json:"http"`
	RequestID string `json:"requestId"`
	RouteKey  string `json:"routeKey"`
	Stage     string `json:"stage"`
	Time      string `json:"time"`
	TimeEpoch int64  `json:"timeEpoch"`
}

// httpEvent is the HTTP API's event of the first request, or of the second one in base64.
func httpEvent(base64Body bool) func(r requests) (any, error) {
	return func(r requests) (any, error) {
		const apiID, agent = "abcdef1234", "curl/8.5.0"
		domain := apiID + ".execute-api." + region + ".amazonaws.com"
		route := "POST /" + r.function
		body := string(r.first)
		if base64Body {
			body = base64.StdEncoding.EncodeToString(r.second)
		}
		sum := sha256.Sum256([]byte(r.function))
		c := httpContext{AccountID: account, APIID: apiID, DomainName: domain, DomainPrefix: apiID,
			RequestID: "Rq" + hex.EncodeToString(sum[:4]) + "-" + hex.EncodeToString(sum[4:6])[:3],
			RouteKey:  route, Stage: "$default", Time: "22/Nov/2026:06:00:00 +0000", TimeEpoch: epochMs}
		c.HTTP.Method, c.HTTP.Path, c.HTTP.Protocol, c.HTTP.SourceIP, c.HTTP.UserAgent = "POST", "/"+r.function, "HTTP/1.1", "192.0.2.10", agent
		return httpRequest{Version: "2.0", RouteKey: route, RawPath: "/" + r.function,
			Headers:        httpHeaders{ContentType: "application/json", Host: domain, UserAgent: agent, ForwardedProto: "https"},
			RequestContext: c, Body: body, IsBase64Encoded: base64Body}, nil
	}
}

type snsRecord struct {
	EventSource          string
	EventVersion         string
	EventSubscriptionArn string
	Sns                  struct {
		Type              string
		MessageID         string `json:"MessageId"`
		TopicArn          string
		Subject           string
		Message           string
		Timestamp         string
		SignatureVersion  string
		Signature         string
		SigningCertURL    string `json:"SigningCertUrl"`
		UnsubscribeURL    string `json:"UnsubscribeUrl"`
		MessageAttributes struct{}
	}
}

func snsEvent(r requests) (any, error) {
	topic := "arn:aws:sns:" + region + ":" + account + ":lbfn-" + r.function
	rec := snsRecord{EventSource: "aws:sns", EventVersion: "1.0", EventSubscriptionArn: topic + ":" + sampleID(r.function, "sns-subscription")}
	s := &rec.Sns
	s.Type, s.MessageID, s.TopicArn, s.Subject, s.Message = "Notification", sampleID(r.function, "sns"), topic, "create", string(r.first)
	s.Timestamp, s.SignatureVersion, s.Signature = "2026-11-22T06:00:00.000Z", "1", "EXAMPLE"
	s.SigningCertURL = "https://sns." + region + ".amazonaws.com/SimpleNotificationService-EXAMPLE.pem"
	s.UnsubscribeURL = "https://sns." + region + ".amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + topic
	return struct{ Records []snsRecord }{[]snsRecord{rec}}, nil
}

func eventBridgeEvent(r requests) (any, error) {
	return struct {
		Version    string          `json:"version"`
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Account    string          `json:"account"`
		Time       string          `json:"time"`
		Region     string          `json:"region"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail"`
	}{"0", sampleID(r.function, "eventbridge"), "lbfn " + r.function, "lbfn.example", account, timestamp, region, []string{}, r.first}, nil
}
