// Package ctyun is the CTyun (China Telecom Cloud) ELB provider: the create-policy operation
// behind the ctyun-create-policy function, its documented rules, and the step loop that
// re-sends the same request with the same clientToken until CTyun says the policy is done.
package ctyun

import "github.com/lbfn/lbfn/shared/op"

// CreatePolicyRequest is the ctyun-create-policy request: the async-create-policy body at the
// top level, plus the common fields, which are never sent.
type CreatePolicyRequest struct {
	op.Common
	PolicyBody
}

// PolicyBody is the documented body of POST /v4/elb/async-create-policy, field for field and
// in the documented order. Required strings are held by value (an empty one is as missing);
// required numbers are pointers so that a missing one is told from a written zero.
type PolicyBody struct {
	// ClientToken makes the creation idempotent: CTyun answers every request carrying it with
	// the progress of the one creation. Optional in the request (derived from the idempotency
	// key when empty), always sent.
	ClientToken string       `json:"clientToken,omitempty"`
	RegionID    string       `json:"regionID"`
	ListenerID  string       `json:"listenerID"`
	Name        string       `json:"name"`
	Description *string      `json:"description,omitempty"`
	Conditions  []Condition  `json:"conditions,omitzero"`
	TargetGroup *TargetGroup `json:"targetGroup,omitempty"`
}

// Condition is one match rule of the policy.
type Condition struct {
	RuleType   string `json:"ruleType"`  // HOST or PATH
	MatchType  string `json:"matchType"` // STARTS_WITH, EQUAL_TO or REGEX
	MatchValue string `json:"matchValue"`
}

// TargetGroup is the backend group the policy forwards to.
type TargetGroup struct {
	Name          string         `json:"name"`
	Algorithm     string         `json:"algorithm"` // rr or lc
	Targets       []Target       `json:"targets,omitzero"`
	HealthCheck   *HealthCheck   `json:"healthCheck,omitempty"`
	SessionSticky *SessionSticky `json:"sessionSticky,omitempty"`
}

// Target is one backend host.
type Target struct {
	InstanceID   string `json:"instanceID"`
	ProtocolPort *int   `json:"protocolPort,omitempty"`
	InstanceType string `json:"instanceType"` // vm
	Weight       *int   `json:"weight,omitempty"`
	Address      string `json:"address"`
}

// HealthCheck configures the target group's health check. The http* fields apply to HTTP only.
type HealthCheck struct {
	Protocol          string  `json:"protocol"` // TCP, UDP or HTTP
	Timeout           *int    `json:"timeout,omitempty"`
	Interval          *int    `json:"interval,omitempty"`
	MaxRetry          *int    `json:"maxRetry,omitempty"`
	HTTPMethod        *string `json:"httpMethod,omitempty"`
	HTTPURLPath       *string `json:"httpUrlPath,omitempty"`
	HTTPExpectedCodes *string `json:"httpExpectedCodes,omitempty"`
}

// SessionSticky configures session persistence.
type SessionSticky struct {
	CookieName         *string `json:"cookieName,omitempty"`
	PersistenceTimeout *int    `json:"persistenceTimeout,omitempty"`
	SessionType        string  `json:"sessionType"` // APP_COOKIE, HTTP_COOKIE or SOURCE_IP
}
