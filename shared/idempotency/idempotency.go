// Package idempotency keeps op.Store records in Amazon DynamoDB, so that a creation delivered
// again to another Lambda instance (a redelivered SQS message, a retried HTTP call) answers the
// first result instead of creating a second resource. The in-process op.MemoryStore covers
// one warm instance only.
//
// The record layout and its rules are those of Powertools for AWS Lambda's idempotency
// utility: one item per key, claimed IN_PROGRESS with a conditional PutItem, then COMPLETED
// with the stored result, or deleted after a failure so the next delivery runs again. Records
// expire by their own timestamps, never by DynamoDB's TTL deletion, which may lag for days.
//
// It speaks DynamoDB's JSON protocol through shared/awsjson (aws-sdk-go-v2's SigV4 signer over
// the project's retrying transport), as the failure queue speaks SQS: the SDK's DynamoDB client
// would cost about 1 MB of every function's binary for four calls.
package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/lbfn/lbfn/shared/awsjson"
	"github.com/lbfn/lbfn/shared/config"
	"github.com/lbfn/lbfn/shared/httpx"
	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/redact"
)

// Settings are read from the environment.
type Settings struct {
	// Table is the DynamoDB table of the records; unset means the in-process store.
	Table string `envconfig:"LBFN_IDEMPOTENCY_TABLE"`
	// TTL is how long a finished creation is remembered.
	TTL time.Duration `envconfig:"LBFN_IDEMPOTENCY_TTL" default:"1h"`
	// Endpoint overrides the DynamoDB endpoint (default https://dynamodb.{AWS_REGION}.amazonaws.com).
	// It exists for tests against a local DynamoDB and accepts only a loopback host.
	Endpoint        string        `envconfig:"LBFN_DYNAMODB_ENDPOINT"`
	Region          string        `envconfig:"AWS_REGION"`
	AccessKeyID     string        `envconfig:"AWS_ACCESS_KEY_ID"`
	SecretAccessKey redact.Secret `envconfig:"AWS_SECRET_ACCESS_KEY"`
	SessionToken    redact.Secret `envconfig:"AWS_SESSION_TOKEN"`
}

// FromEnv returns the Store the environment describes: the DynamoDB table
// LBFN_IDEMPOTENCY_TABLE names, or, when it is unset, an op.MemoryStore. Both remember a
// finished creation for LBFN_IDEMPOTENCY_TTL. A setting that is present but unusable is an
// *op.Error of kind config naming the variable.
func FromEnv() (op.Store, error) {
	var s Settings
	if err := config.Load(&s); err != nil {
		return nil, err
	}
	if s.TTL <= 0 {
		return nil, op.Errorf(op.KindConfig, "LBFN_IDEMPOTENCY_TTL must be positive, got %s", s.TTL)
	}
	if s.Table == "" {
		return &op.MemoryStore{TTL: s.TTL}, nil
	}
	t, err := config.LoadTransport()
	if err != nil {
		return nil, err
	}
	// Every call is safe to repeat: a claim that landed unanswered is found again as this
	// key's own IN_PROGRESS record (a retryable "in progress"), and a completion or a
	// release only sets or removes the same item again.
	store, err := New(s, t.Client(true))
	if err != nil {
		return nil, err
	}
	return store, nil
}

// DynamoDBStore is an op.Store in a DynamoDB table whose partition key is the string
// attribute "id", with DynamoDB TTL on the number attribute "expiration". It is safe for
// concurrent use.
type DynamoDBStore struct {
	table string
	ttl   time.Duration
	api   *awsjson.Client
	// Now is the clock of record expiry and of signing; nil means time.Now.
	Now func() time.Time
}

// New returns the store s describes, sending with client.
func New(s Settings, client *httpx.Client) (*DynamoDBStore, error) {
	if s.Table == "" {
		return nil, op.Errorf(op.KindConfig, "LBFN_IDEMPOTENCY_TABLE is not set")
	}
	if s.TTL <= 0 {
		return nil, op.Errorf(op.KindConfig, "LBFN_IDEMPOTENCY_TTL must be positive, got %s", s.TTL)
	}
	store := &DynamoDBStore{table: s.Table, ttl: s.TTL}
	cfg := awsjson.Config{
		Service: "dynamodb", TargetPrefix: "DynamoDB_20120810", JSONVersion: "1.0",
		Env:     awsjson.Env{Region: s.Region, AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey, SessionToken: s.SessionToken},
		Purpose: "needed for LBFN_IDEMPOTENCY_TABLE",
		// DynamoDB sends its throttling answers as 400s: worth another attempt.
		Retryable: awsjson.RetryThrottled,
		Now:       store.now,
	}
	if err := cfg.Env.Check(cfg.Purpose); err != nil {
		return nil, err
	}
	if s.Endpoint != "" {
		e, err := awsjson.LoopbackEndpoint("LBFN_DYNAMODB_ENDPOINT", s.Endpoint)
		if err != nil {
			return nil, err
		}
		cfg.Endpoint = e
	}
	api, err := awsjson.New(cfg, client)
	if err != nil {
		return nil, err
	}
	store.api = api
	return store, nil
}

// defaultEndpoint is DynamoDB's regional endpoint; the China regions live under their own domain.
func defaultEndpoint(region string) string { return awsjson.RegionalEndpoint("dynamodb", region) }

// Table returns the table's name.
func (s *DynamoDBStore) Table() string { return s.table }

// The record's attribute names and status values: Powertools', so that its documentation and
// tools read our table too.
const (
	attrID         = "id"
	attrExpiry     = "expiration"             // epoch seconds: the table's TTL attribute
	attrLease      = "in_progress_expiration" // epoch milliseconds: the claim's lease
	attrStatus     = "status"
	attrHash       = "validation" // digest of the request the key was used for
	attrData       = "data"       // the result JSON of a completed creation
	statusProgress = "IN_PROGRESS"
	statusComplete = "COMPLETED"
)

// claimCondition lets a claim replace only a record that does not hold the key any more: none,
// an expired one, or a claim whose lease has passed.
const claimCondition = "attribute_not_exists(#id) OR #expiration < :now OR (#status = :inprogress AND #lease < :nowms)"

// maxClaims bounds the claim, read, claim again cycle when a record vanishes or lapses between
// the claim and the read.
const maxClaims = 3

func (s *DynamoDBStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Claim implements op.Store: a conditional PutItem of an IN_PROGRESS record, and when another
// record holds the key, a consistent read of it to say why.
func (s *DynamoDBStore) Claim(ctx context.Context, key, hash string, lease time.Time) (*op.Result, error) {
	for range maxClaims {
		now := s.now()
		expiry := now.Add(s.ttl)
		if lease.After(expiry) { // the record must outlive its own lease
			expiry = lease
		}
		in := putItemInput{
			TableName: s.table,
			Item: item{
				attrID:     str(key),
				attrStatus: str(statusProgress),
				attrHash:   str(hash),
				attrExpiry: num(epochSeconds(expiry)),
				attrLease:  num(lease.UnixMilli()),
			},
			ConditionExpression: claimCondition,
			ExpressionAttributeNames: map[string]string{
				"#id": attrID, "#expiration": attrExpiry, "#status": attrStatus, "#lease": attrLease,
			},
			ExpressionAttributeValues: item{
				":now":        num(now.Unix()),
				":nowms":      num(now.UnixMilli()),
				":inprogress": str(statusProgress),
			},
		}
		err := s.call(ctx, "PutItem", in, nil)
		if err == nil {
			return nil, nil
		}
		if !isConditionFailed(err) {
			return nil, err
		}
		rec, err := s.get(ctx, key)
		if err != nil {
			return nil, err
		}
		if rec == nil || rec.lapsed(now) {
			continue // gone or lapsed since the claim: claim again
		}
		return rec.answer(hash)
	}
	return nil, op.ErrInProgress
}

// Complete implements op.Store: the record becomes COMPLETED with the result, for the TTL.
func (s *DynamoDBStore) Complete(ctx context.Context, key, hash string, res *op.Result) error {
	data, err := json.Marshal(res)
	if err != nil {
		return unavailable("encoding the result", err)
	}
	in := putItemInput{
		TableName: s.table,
		Item: item{
			attrID:     str(key),
			attrStatus: str(statusComplete),
			attrHash:   str(hash),
			attrExpiry: num(epochSeconds(s.now().Add(s.ttl))),
			attrData:   str(string(data)),
		},
	}
	return s.call(ctx, "PutItem", in, nil)
}

// Release implements op.Store: the record is deleted, so the next delivery runs again.
func (s *DynamoDBStore) Release(ctx context.Context, key string) error {
	return s.call(ctx, "DeleteItem", keyInput{TableName: s.table, Key: item{attrID: str(key)}}, nil)
}

// record is a stored item, read back.
type record struct {
	status string
	hash   string
	expiry int64 // epoch seconds
	lease  int64 // epoch milliseconds
	data   string
}

func (s *DynamoDBStore) get(ctx context.Context, key string) (*record, error) {
	var out struct {
		Item item `json:"Item"`
	}
	in := keyInput{TableName: s.table, Key: item{attrID: str(key)}, ConsistentRead: true}
	if err := s.call(ctx, "GetItem", in, &out); err != nil {
		return nil, err
	}
	if out.Item == nil {
		return nil, nil
	}
	return &record{
		status: out.Item.str(attrStatus),
		hash:   out.Item.str(attrHash),
		expiry: out.Item.num(attrExpiry),
		lease:  out.Item.num(attrLease),
		data:   out.Item.str(attrData),
	}, nil
}

// lapsed reports whether the record no longer holds its key at now, by the claim condition's
// own rule.
func (r *record) lapsed(now time.Time) bool {
	return r.expiry < now.Unix() || (r.status == statusProgress && r.lease < now.UnixMilli())
}

// answer is Claim's answer for a record that holds the key.
func (r *record) answer(hash string) (*op.Result, error) {
	switch {
	case r.hash != hash:
		return nil, op.ErrKeyReused
	case r.status == statusComplete:
		var res op.Result
		if err := json.Unmarshal([]byte(r.data), &res); err != nil {
			return nil, unavailable("reading the stored result", err)
		}
		return &res, nil
	default:
		return nil, op.ErrInProgress
	}
}

// epochSeconds rounds t up to a whole second, so a record never expires early.
func epochSeconds(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// An attribute value in DynamoDB's JSON: a string or a number (sent as a decimal string).
type attribute struct {
	S *string `json:"S,omitempty"`
	N *string `json:"N,omitempty"`
}

type item map[string]attribute

func str(s string) attribute { return attribute{S: &s} }

func num(n int64) attribute {
	s := strconv.FormatInt(n, 10)
	return attribute{N: &s}
}

func (it item) str(name string) string {
	if v := it[name].S; v != nil {
		return *v
	}
	return ""
}

func (it item) num(name string) int64 {
	if v := it[name].N; v != nil {
		n, _ := strconv.ParseInt(*v, 10, 64)
		return n
	}
	return 0
}

type putItemInput struct {
	TableName                 string            `json:"TableName"`
	Item                      item              `json:"Item"`
	ConditionExpression       string            `json:"ConditionExpression,omitempty"`
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames,omitempty"`
	ExpressionAttributeValues item              `json:"ExpressionAttributeValues,omitempty"`
}

// keyInput is the input of GetItem and DeleteItem.
type keyInput struct {
	TableName      string `json:"TableName"`
	Key            item   `json:"Key"`
	ConsistentRead bool   `json:"ConsistentRead,omitempty"`
}

func isConditionFailed(err error) bool {
	return awsjson.HasCode(err, "ConditionalCheckFailedException")
}

// call sends one DynamoDB action and decodes its answer into out (when not nil). Every
// failure is an *op.Error of kind unavailable, retryable, whose message names the action and
// DynamoDB's code but never a credential; a refusal carries an *awsjson.Error as its cause.
func (s *DynamoDBStore) call(ctx context.Context, action string, in, out any) error {
	err := s.api.Call(ctx, action, in, out)
	if err == nil {
		return nil
	}
	if errors.Is(err, awsjson.ErrUnreadable) {
		return unavailable(action, awsjson.ErrUnreadable)
	}
	if refusal := awsjson.AsError(err); refusal != nil {
		return unavailable(action, refusal)
	}
	return unavailable(action, err)
}

// unavailable is the one failure of the store: retryable, since without the claim nothing
// is created, and the next delivery finds the store again.
func unavailable(action string, cause error) *op.Error {
	msg := "idempotency store: DynamoDB " + action + " failed"
	switch c := cause.(type) {
	case *op.Error:
		msg += ": " + c.Message
	case *awsjson.Error:
		msg += ": DynamoDB answered " + strconv.Itoa(c.StatusCode) + " " + strings.TrimSpace(c.Code+" "+c.Message)
	}
	return &op.Error{Kind: op.KindUnavailable, Retryable: true, Message: msg, Err: cause}
}
