// Package jdcloud is the JD Cloud load-balancer provider: the createBackend request as the
// API documents it, every documented rule, and the signed call, with the name-conflict
// reconcile that makes a redelivered request create one backend, not two.
package jdcloud

import "github.com/lbfn/lbfn/shared/op"

// CreateBackendRequest is the jdcloud-create-backend function's request: the createBackend
// body (regionId included, as JD Cloud's SDKs send it) plus the common fields.
type CreateBackendRequest struct {
	op.Common
	CreateBackendBody
}

// CreateBackendBody is the body of POST /v1/regions/{regionId}/backends/, field for field as
// the API page names them. Optional fields are pointers so that a false or a zero the user
// wrote is sent, and an unset one is not.
type CreateBackendBody struct {
	RegionID       string           `json:"regionId"`
	BackendName    string           `json:"backendName"`
	LoadBalancerID string           `json:"loadBalancerId"`
	Protocol       string           `json:"protocol"`
	Port           *int             `json:"port,omitempty"`
	HealthCheck    *HealthCheckSpec `json:"healthCheckSpec,omitempty"`

	Algorithm      *string      `json:"algorithm,omitempty"`
	TargetGroupIDs []string     `json:"targetGroupIds,omitempty"`
	AgIDs          []string     `json:"agIds,omitempty"`
	AgInfoSpec     []AgInfoSpec `json:"agInfoSpec,omitempty"`
	ProxyProtocol  *bool        `json:"proxyProtocol,omitempty"`
	Description    *string      `json:"description,omitempty"`

	SessionStickiness         *bool `json:"sessionStickiness,omitempty"`
	SessionStickyTimeout      *int  `json:"sessionStickyTimeout,omitempty"`
	ConnectionDrainingSeconds *int  `json:"connectionDrainingSeconds,omitempty"`
	HTTPCookieExpireSeconds   *int  `json:"httpCookieExpireSeconds,omitempty"`

	HTTPForwardedProtocol   *bool `json:"httpForwardedProtocol,omitempty"`
	HTTPForwardedPort       *bool `json:"httpForwardedPort,omitempty"`
	HTTPForwardedHost       *bool `json:"httpForwardedHost,omitempty"`
	HTTPForwardedVip        *bool `json:"httpForwardedVip,omitempty"`
	HTTPForwardedClientPort *bool `json:"httpForwardedClientPort,omitempty"`
}

// HealthCheckSpec is the backend's health check (the SDK model HealthCheckSpec).
type HealthCheckSpec struct {
	Protocol                string   `json:"protocol"`
	HealthyThresholdCount   *int     `json:"healthyThresholdCount,omitempty"`
	UnhealthyThresholdCount *int     `json:"unhealthyThresholdCount,omitempty"`
	CheckTimeoutSeconds     *int     `json:"checkTimeoutSeconds,omitempty"`
	IntervalSeconds         *int     `json:"intervalSeconds,omitempty"`
	Port                    *int     `json:"port,omitempty"`
	HTTPVersion             *string  `json:"httpVersion,omitempty"`
	HTTPDomain              *string  `json:"httpDomain,omitempty"`
	HTTPPath                *string  `json:"httpPath,omitempty"`
	HTTPCode                []string `json:"httpCode,omitempty"`
}

// AgInfoSpec names an availability group with its default target weight; it wins over agIds.
type AgInfoSpec struct {
	AgID          string `json:"agId"`
	DefaultWeight *int   `json:"defaultWeight,omitempty"`
}
