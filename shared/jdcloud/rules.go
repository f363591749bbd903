package jdcloud

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/lbfn/lbfn/shared/validate"
)

// Documented values: the createBackend page of JD Cloud's LB API, and its SDKs' models for what
// the page leaves out (RULES.md names the source of each rule).
var (
	protocols            = []string{"Http", "Tcp", "Udp"}
	algorithms           = []string{"IpHash", "RoundRobin", "LeastConn", "QuintupleHash"}
	healthCheckProtocols = []string{"Http", "Tcp", "Icmp"}
	httpVersions         = []string{"HTTP1.0", "HTTP1.1"}

	regionPattern      = regexp.MustCompile(`^cn-[a-z]+-[0-9]+$`)
	backendNamePattern = regexp.MustCompile(`^[\p{Han}A-Za-z0-9_-]+$`)
	httpDomainPattern  = regexp.MustCompile(`^[A-Za-z0-9.-]+$`)
	httpCodePattern    = regexp.MustCompile(`^(?:([2-4][0-9]{2})(?:-([2-4][0-9]{2}))?|[234]xx)$`)
)

// httpOnly are the backend fields the page marks 【alb Http协议】.
func httpOnly(b *CreateBackendBody) []struct {
	name    string
	present bool
} {
	return []struct {
		name    string
		present bool
	}{
		{"httpCookieExpireSeconds", b.HTTPCookieExpireSeconds != nil},
		{"httpForwardedProtocol", b.HTTPForwardedProtocol != nil},
		{"httpForwardedPort", b.HTTPForwardedPort != nil},
		{"httpForwardedHost", b.HTTPForwardedHost != nil},
		{"httpForwardedVip", b.HTTPForwardedVip != nil},
		{"httpForwardedClientPort", b.HTTPForwardedClientPort != nil},
	}
}

// ValidateBody records every broken createBackend rule of b into v, each with the JSON path
// of the field the user must add, remove or change. The function and the emulator both run
// it, so the fake cloud refuses exactly what the function refuses.
func ValidateBody(b *CreateBackendBody, v *validate.Report) {
	if v.RequiredString("regionId", &b.RegionID) {
		v.Match("regionId", &b.RegionID, regionPattern, "a region id like cn-north-1")
	}
	if v.RequiredString("backendName", &b.BackendName) && v.Length("backendName", &b.BackendName, 1, 32) {
		v.Match("backendName", &b.BackendName, backendNamePattern,
			"Chinese characters, letters, digits, _ and -")
	}
	v.RequiredString("loadBalancerId", &b.LoadBalancerID)
	protocolOK := v.RequiredString("protocol", &b.Protocol) && v.Enum("protocol", &b.Protocol, protocols...)
	v.RequiredRange("port", b.Port, 1, 65535)
	v.Enum("algorithm", b.Algorithm, algorithms...)

	checkIDs(v, "targetGroupIds", b.TargetGroupIDs)
	checkIDs(v, "agIds", b.AgIDs)
	if len(b.AgInfoSpec) > 1 {
		v.Addf("agInfoSpec", "only one availability group is supported, got %d", len(b.AgInfoSpec))
	}
	for i, ag := range b.AgInfoSpec {
		v.Object(validate.Index("agInfoSpec", i)).RequiredString("agId", &ag.AgID)
	}
	if len(b.TargetGroupIDs) > 0 {
		v.Forbidden("agIds", len(b.AgIDs) > 0, "together with targetGroupIds")
		v.Forbidden("agInfoSpec", len(b.AgInfoSpec) > 0, "together with targetGroupIds")
	}

	v.Length("description", b.Description, 0, 256)
	v.Range("sessionStickyTimeout", b.SessionStickyTimeout, 1, 3600)
	v.Range("connectionDrainingSeconds", b.ConnectionDrainingSeconds, 0, 3600)
	v.Range("httpCookieExpireSeconds", b.HTTPCookieExpireSeconds, 0, 86400)

	if protocolOK {
		if b.Protocol != "Http" {
			for _, f := range httpOnly(b) {
				v.Forbidden(f.name, f.present, "unless protocol is Http")
			}
		} else {
			v.Forbidden("proxyProtocol", b.ProxyProtocol != nil, "with protocol Http (only Tcp and Udp)")
			// Http backends exist only on alb, where cookie stickiness needs RoundRobin and
			// QuintupleHash (a dnlb algorithm) does not exist.
			if b.Algorithm != nil && *b.Algorithm == "QuintupleHash" {
				v.Addf("algorithm", "QuintupleHash is a dnlb algorithm; dnlb backends are Tcp or Udp, not Http")
			} else if b.SessionStickiness != nil && *b.SessionStickiness && b.Algorithm != nil && *b.Algorithm != "RoundRobin" {
				v.Addf("sessionStickiness", "with protocol Http requires algorithm RoundRobin, got %s", *b.Algorithm)
			}
		}
	}

	if v.Required("healthCheckSpec", b.HealthCheck != nil) {
		validateHealthCheck(b, b.HealthCheck, v, protocolOK)
	}
}

func checkIDs(v *validate.Report, field string, ids []string) {
	if len(ids) > 1 {
		v.Addf(field, "only one id is supported (目前只支持一个), got %d", len(ids))
	}
	for i := range ids {
		v.RequiredString(validate.Index(field, i), &ids[i])
	}
}

func validateHealthCheck(b *CreateBackendBody, h *HealthCheckSpec, v *validate.Report, backendProtocolOK bool) {
	hc := v.Object("healthCheckSpec")
	protocolOK := hc.RequiredString("protocol", &h.Protocol) &&
		hc.Enum("protocol", &h.Protocol, healthCheckProtocols...)
	if protocolOK && h.Protocol == "Icmp" && backendProtocolOK && b.Protocol != "Udp" {
		hc.Addf("protocol", "Icmp health checks are only for Udp backends, protocol is %s", b.Protocol)
	}
	if protocolOK && h.Protocol == "Http" && b.Algorithm != nil && *b.Algorithm == "QuintupleHash" {
		hc.Addf("protocol", "dnlb (algorithm QuintupleHash) health checks are Tcp or Icmp")
	}
	hc.Range("healthyThresholdCount", h.HealthyThresholdCount, 1, 5)
	hc.Range("unhealthyThresholdCount", h.UnhealthyThresholdCount, 1, 5)
	hc.Range("checkTimeoutSeconds", h.CheckTimeoutSeconds, 2, 60)
	hc.Range("intervalSeconds", h.IntervalSeconds, 5, 300)
	if hc.Range("port", h.Port, 0, 65535) && protocolOK && h.Protocol == "Icmp" {
		hc.Forbidden("port", h.Port != nil, "with health check protocol Icmp")
	}
	hc.Enum("httpVersion", h.HTTPVersion, httpVersions...)

	isHTTP := !protocolOK || h.Protocol == "Http" // an unknown protocol is reported once, above
	if !isHTTP {
		hc.Forbidden("httpDomain", h.HTTPDomain != nil, "unless healthCheckSpec.protocol is Http")
		hc.Forbidden("httpPath", h.HTTPPath != nil, "unless healthCheckSpec.protocol is Http")
		hc.Forbidden("httpCode", h.HTTPCode != nil, "unless healthCheckSpec.protocol is Http")
	}
	if hc.Length("httpDomain", h.HTTPDomain, 1, 255) {
		hc.Match("httpDomain", h.HTTPDomain, httpDomainPattern, "letters, digits, - and .")
	}
	if hc.Length("httpPath", h.HTTPPath, 1, 1000) && h.HTTPPath != nil && !strings.HasPrefix(*h.HTTPPath, "/") {
		hc.Addf("httpPath", "must start with /, got %q", *h.HTTPPath)
	}
	for i, code := range h.HTTPCode {
		if !validHTTPCode(code) {
			hc.Addf(validate.Index("httpCode", i),
				"must be a status 200-499, a range like 201-205, or 2xx, 3xx or 4xx, got %q", code)
		}
	}
}

// validHTTPCode accepts 200–499, a rising range of those, or 2xx/3xx/4xx.
func validHTTPCode(s string) bool {
	m := httpCodePattern.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	if m[1] == "" { // 2xx, 3xx, 4xx
		return true
	}
	lo, _ := strconv.Atoi(m[1])
	if lo < 200 || lo > 499 {
		return false
	}
	if m[2] == "" {
		return true
	}
	hi, _ := strconv.Atoi(m[2])
	return hi > lo && hi <= 499
}
