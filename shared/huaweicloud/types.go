package huaweicloud

import "github.com/lbfn/lbfn/shared/op"

// Request is the request of every Huawei operation: the routing fields, then the API's own
// pool object exactly as the provider documents it. The common fields (op.Common) live at the
// top level only; inside pool only the provider's fields are accepted.
type Request[P any] struct {
	op.Common
	// Region such as "cn-north-4"; it picks the host https://elb.{region}.{domain}.
	Region string `json:"region"`
	// ProjectID is 32 lower-case letters and digits; default HUAWEICLOUD_SDK_PROJECT_ID.
	ProjectID string `json:"projectId,omitempty"`
	// Pool is the body's pool object.
	Pool *P `json:"pool"`
}

// The requests of the three operations.
type (
	CreatePoolRequest            = Request[Pool]
	CreateLbaasPoolRequest       = Request[LbaasPool]
	CreateMasterSlavePoolRequest = Request[MasterSlavePool]
)

// SessionPersistence is the pool's session_persistence object, the same on the three APIs.
// Absent (or null) means session persistence is off.
type SessionPersistence struct {
	Type               string  `json:"type"`
	CookieName         *string `json:"cookie_name,omitempty"`
	PersistenceTimeout *int    `json:"persistence_timeout,omitempty"`
}

// V2PoolFields are the pool fields POST /v2/{project_id}/elb/pools and POST /v2.0/lbaas/pools share.
type V2PoolFields struct {
	TenantID           *string             `json:"tenant_id,omitempty"`
	Name               *string             `json:"name,omitempty"`
	Description        *string             `json:"description,omitempty"`
	Protocol           string              `json:"protocol"`
	LbAlgorithm        string              `json:"lb_algorithm"`
	AdminStateUp       *bool               `json:"admin_state_up,omitempty"`
	ListenerID         *string             `json:"listener_id,omitempty"`
	LoadbalancerID     *string             `json:"loadbalancer_id,omitempty"`
	SessionPersistence *SessionPersistence `json:"session_persistence,omitempty"`
}

// Pool is the pool object of POST /v2/{project_id}/elb/pools.
type Pool struct {
	V2PoolFields
	ProtectionStatus *string `json:"protection_status,omitempty"`
	ProtectionReason *string `json:"protection_reason,omitempty"`
}

// LbaasPool is the pool object of POST /v2.0/lbaas/pools (Neutron-LBaaS style).
type LbaasPool struct {
	V2PoolFields
	ProjectID *string `json:"project_id,omitempty"`
}

// MasterSlavePool is the pool object (CreateMasterSlavePoolOption) of
// POST /v3/{project_id}/elb/master-slave-pools.
type MasterSlavePool struct {
	Description         *string              `json:"description,omitempty"`
	LbAlgorithm         string               `json:"lb_algorithm"`
	LoadbalancerID      *string              `json:"loadbalancer_id,omitempty"`
	ListenerID          *string              `json:"listener_id,omitempty"`
	Name                *string              `json:"name,omitempty"`
	ProjectID           *string              `json:"project_id,omitempty"`
	Protocol            string               `json:"protocol"`
	SessionPersistence  *SessionPersistence  `json:"session_persistence,omitempty"`
	VpcID               *string              `json:"vpc_id,omitempty"`
	Type                *string              `json:"type,omitempty"`
	IPVersion           *string              `json:"ip_version,omitempty"`
	Members             []MasterSlaveMember  `json:"members"`
	Healthmonitor       *HealthMonitor       `json:"healthmonitor"`
	AnyPortEnable       *bool                `json:"any_port_enable,omitempty"`
	ConnectionDrain     *ConnectionDrain     `json:"connection_drain,omitempty"`
	QuicCidHashStrategy *QuicCidHashStrategy `json:"quic_cid_hash_strategy,omitempty"`
}

// MasterSlaveMember is one of the two members (CreateMasterSlaveMemberOption).
type MasterSlaveMember struct {
	Address      string  `json:"address"`
	AdminStateUp *bool   `json:"admin_state_up,omitempty"`
	Name         *string `json:"name,omitempty"`
	ProtocolPort *int    `json:"protocol_port,omitempty"`
	SubnetCidrID *string `json:"subnet_cidr_id,omitempty"`
	Role         string  `json:"role"`
}

// HealthMonitor is the master-slave pool's health check (CreateMasterSlaveHealthMonitorOption).
type HealthMonitor struct {
	Delay          *int    `json:"delay"`
	DomainName     *string `json:"domain_name,omitempty"`
	ExpectedCodes  *string `json:"expected_codes,omitempty"`
	HTTPMethod     *string `json:"http_method,omitempty"`
	MaxRetries     *int    `json:"max_retries"`
	MaxRetriesDown *int    `json:"max_retries_down,omitempty"`
	MonitorPort    *int    `json:"monitor_port,omitempty"`
	Name           *string `json:"name,omitempty"`
	Timeout        *int    `json:"timeout"`
	Type           string  `json:"type"`
	URLPath        *string `json:"url_path,omitempty"`
}

// ConnectionDrain configures delayed deregistration of members.
type ConnectionDrain struct {
	Enable  *bool `json:"enable,omitempty"`
	Timeout *int  `json:"timeout,omitempty"`
}

// QuicCidHashStrategy configures QUIC_CID hashing.
type QuicCidHashStrategy struct {
	Len    *int `json:"len,omitempty"`
	Offset *int `json:"offset,omitempty"`
}
