package ctyun

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/lbfn/lbfn/shared/validate"
)

// The rules are those of the async-create-policy page and of CTyun's SDK field comments (see
// RULES.md, generated from the tests that cover each one). Every check names the field as
// the user wrote it; all violations are reported together.

var (
	// name: Latin letters, Chinese, digits, _ and -, starting with a letter or Chinese.
	namePattern = regexp.MustCompile(`^[\p{Han}A-Za-z][\p{Han}A-Za-z0-9_-]*$`)
	// httpExpectedCodes: three-digit codes, listed with "," or as "-" ranges: 200,301-302.
	codesPattern = regexp.MustCompile(`^[0-9]{3}(-[0-9]{3})?(,[0-9]{3}(-[0-9]{3})?)*$`)
)

// Validate checks every documented rule of the body. An empty clientToken passes: the
// request may leave it to be derived; on the wire it is required (the emulator checks that).
func (b *PolicyBody) Validate(v *validate.Report) {
	if b.ClientToken != "" {
		v.Length("clientToken", &b.ClientToken, 1, 64)
	}
	v.RequiredString("regionID", &b.RegionID)
	v.RequiredString("listenerID", &b.ListenerID)
	if v.RequiredString("name", &b.Name) && v.Length("name", &b.Name, 2, 32) && notURL(v, "name", b.Name) {
		v.Match("name", &b.Name, namePattern,
			"Latin letters, Chinese characters, digits, _ or -, starting with a letter or Chinese character")
	}
	if b.Description != nil && v.Length("description", b.Description, 0, 128) {
		notURL(v, "description", *b.Description)
	}

	if len(b.Conditions) == 0 {
		v.Addf("conditions", "required: at least one condition")
	}
	for i := range b.Conditions {
		b.Conditions[i].validate(v.Object(validate.Index("conditions", i)))
	}

	if v.Required("targetGroup", b.TargetGroup != nil) {
		b.TargetGroup.validate(v.Object("targetGroup"))
	}
}

// notURL records a violation when s starts with http: or https:, which CTyun refuses for
// names and descriptions.
func notURL(v *validate.Report, field, s string) bool {
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, "http:") || strings.HasPrefix(lower, "https:") {
		v.Addf(field, "must not start with http: or https:")
		return false
	}
	return true
}

func (c *Condition) validate(at validate.Object) {
	if at.RequiredString("ruleType", &c.RuleType) {
		at.Enum("ruleType", &c.RuleType, "HOST", "PATH")
	}
	if at.RequiredString("matchType", &c.MatchType) {
		at.Enum("matchType", &c.MatchType, "STARTS_WITH", "EQUAL_TO", "REGEX")
	}
	if at.RequiredString("matchValue", &c.MatchValue) && c.RuleType == "PATH" && c.MatchValue == "/" {
		at.Addf("matchValue", `must not be "/" alone when ruleType is PATH`)
	}
}

func (g *TargetGroup) validate(at validate.Object) {
	at.RequiredString("name", &g.Name)
	if at.RequiredString("algorithm", &g.Algorithm) {
		at.Enum("algorithm", &g.Algorithm, "rr", "lc")
	}
	for i := range g.Targets {
		g.Targets[i].validate(at.Object(validate.Index("targets", i)))
	}
	if g.HealthCheck != nil {
		g.HealthCheck.validate(at.Object("healthCheck"))
	}
	if g.SessionSticky != nil {
		g.SessionSticky.validate(at.Object("sessionSticky"))
	}
}

func (t *Target) validate(at validate.Object) {
	at.RequiredString("instanceID", &t.InstanceID)
	at.RequiredRange("protocolPort", t.ProtocolPort, 1, 65535)
	if at.RequiredString("instanceType", &t.InstanceType) {
		at.Enum("instanceType", &t.InstanceType, "vm")
	}
	at.RequiredRange("weight", t.Weight, 1, 256)
	if at.RequiredString("address", &t.Address) {
		at.IP("address", &t.Address)
	}
}

func (h *HealthCheck) validate(at validate.Object) {
	isHTTP := h.Protocol == "HTTP"
	known := at.RequiredString("protocol", &h.Protocol) &&
		at.Enum("protocol", &h.Protocol, "TCP", "UDP", "HTTP")
	at.RequiredRange("timeout", h.Timeout, 2, 60)
	at.RequiredRange("interval", h.Interval, 1, 20940)
	at.RequiredRange("maxRetry", h.MaxRetry, 1, 10)

	// "Required and effective only when protocol is HTTP": with another protocol CTyun would
	// silently ignore them, which is never what the user meant.
	httpOnly := []struct {
		name  string
		value *string
		check func(name string, s *string)
	}{
		{"httpMethod", h.HTTPMethod, func(name string, s *string) { at.Enum(name, s, "GET", "HEAD") }},
		{"httpUrlPath", h.HTTPURLPath, func(name string, s *string) { at.Length(name, s, 1, 80) }},
		{"httpExpectedCodes", h.HTTPExpectedCodes, func(name string, s *string) {
			if at.Length(name, s, 1, 64) && at.Match(name, s, codesPattern, `three-digit codes separated by "," or ranges like 200-299`) {
				ascendingRanges(at, name, *s)
			}
		}},
	}
	for _, hf := range httpOnly {
		switch {
		case isHTTP && hf.value == nil:
			at.Addf(hf.name, "required when protocol is HTTP")
		case isHTTP:
			hf.check(hf.name, hf.value)
		case known && hf.value != nil: // judged only against a valid protocol
			at.Addf(hf.name, "only allowed when protocol is HTTP")
		}
	}
}

// ascendingRanges checks that each a-b range of a well-formed code list, member name of at,
// has a ≤ b.
func ascendingRanges(at validate.Object, name, codes string) {
	for _, part := range strings.Split(codes, ",") {
		if lo, hi, ok := strings.Cut(part, "-"); ok {
			a, _ := strconv.Atoi(lo)
			b, _ := strconv.Atoi(hi)
			if a > b {
				at.Addf(name, "range %s must go from the lower code to the higher", part)
				return
			}
		}
	}
}

func (s *SessionSticky) validate(at validate.Object) {
	if at.RequiredString("sessionType", &s.SessionType) {
		at.Enum("sessionType", &s.SessionType, "APP_COOKIE", "HTTP_COOKIE", "SOURCE_IP")
	}
	if s.SessionType == "APP_COOKIE" && (s.CookieName == nil || *s.CookieName == "") {
		at.Addf("cookieName", "required when sessionType is APP_COOKIE")
	}
	if (s.SessionType == "APP_COOKIE" || s.SessionType == "SOURCE_IP") && s.PersistenceTimeout == nil {
		at.Addf("persistenceTimeout", "required when sessionType is %s", s.SessionType)
	}
}
