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
		b.Conditions[i].validate(v, validate.Index("conditions", i))
	}

	if v.Required("targetGroup", b.TargetGroup != nil) {
		b.TargetGroup.validate(v, "targetGroup")
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

func (c *Condition) validate(v *validate.Report, path string) {
	if v.RequiredString(validate.Join(path, "ruleType"), &c.RuleType) {
		v.Enum(validate.Join(path, "ruleType"), &c.RuleType, "HOST", "PATH")
	}
	if v.RequiredString(validate.Join(path, "matchType"), &c.MatchType) {
		v.Enum(validate.Join(path, "matchType"), &c.MatchType, "STARTS_WITH", "EQUAL_TO", "REGEX")
	}
	if v.RequiredString(validate.Join(path, "matchValue"), &c.MatchValue) && c.RuleType == "PATH" && c.MatchValue == "/" {
		v.Addf(validate.Join(path, "matchValue"), `must not be "/" alone when ruleType is PATH`)
	}
}

func (g *TargetGroup) validate(v *validate.Report, path string) {
	v.RequiredString(validate.Join(path, "name"), &g.Name)
	if v.RequiredString(validate.Join(path, "algorithm"), &g.Algorithm) {
		v.Enum(validate.Join(path, "algorithm"), &g.Algorithm, "rr", "lc")
	}
	for i := range g.Targets {
		g.Targets[i].validate(v, validate.Index(validate.Join(path, "targets"), i))
	}
	if g.HealthCheck != nil {
		g.HealthCheck.validate(v, validate.Join(path, "healthCheck"))
	}
	if g.SessionSticky != nil {
		g.SessionSticky.validate(v, validate.Join(path, "sessionSticky"))
	}
}

func (t *Target) validate(v *validate.Report, path string) {
	v.RequiredString(validate.Join(path, "instanceID"), &t.InstanceID)
	if v.Required(validate.Join(path, "protocolPort"), t.ProtocolPort != nil) {
		v.Range(validate.Join(path, "protocolPort"), t.ProtocolPort, 1, 65535)
	}
	if v.RequiredString(validate.Join(path, "instanceType"), &t.InstanceType) {
		v.Enum(validate.Join(path, "instanceType"), &t.InstanceType, "vm")
	}
	if v.Required(validate.Join(path, "weight"), t.Weight != nil) {
		v.Range(validate.Join(path, "weight"), t.Weight, 1, 256)
	}
	if v.RequiredString(validate.Join(path, "address"), &t.Address) {
		v.IP(validate.Join(path, "address"), &t.Address)
	}
}

func (h *HealthCheck) validate(v *validate.Report, path string) {
	field := func(name string) string { return validate.Join(path, name) }
	isHTTP := h.Protocol == "HTTP"
	known := v.RequiredString(field("protocol"), &h.Protocol) &&
		v.Enum(field("protocol"), &h.Protocol, "TCP", "UDP", "HTTP")
	if v.Required(field("timeout"), h.Timeout != nil) {
		v.Range(field("timeout"), h.Timeout, 2, 60)
	}
	if v.Required(field("interval"), h.Interval != nil) {
		v.Range(field("interval"), h.Interval, 1, 20940)
	}
	if v.Required(field("maxRetry"), h.MaxRetry != nil) {
		v.Range(field("maxRetry"), h.MaxRetry, 1, 10)
	}

	// "Required and effective only when protocol is HTTP": with another protocol CTyun would
	// silently ignore them, which is never what the user meant.
	httpOnly := []struct {
		name  string
		value *string
		check func(field string, s *string)
	}{
		{"httpMethod", h.HTTPMethod, func(f string, s *string) { v.Enum(f, s, "GET", "HEAD") }},
		{"httpUrlPath", h.HTTPURLPath, func(f string, s *string) { v.Length(f, s, 1, 80) }},
		{"httpExpectedCodes", h.HTTPExpectedCodes, func(f string, s *string) {
			if v.Length(f, s, 1, 64) && v.Match(f, s, codesPattern, `three-digit codes separated by "," or ranges like 200-299`) {
				ascendingRanges(v, f, *s)
			}
		}},
	}
	for _, hf := range httpOnly {
		switch {
		case isHTTP && hf.value == nil:
			v.Addf(field(hf.name), "required when protocol is HTTP")
		case isHTTP:
			hf.check(field(hf.name), hf.value)
		case known && hf.value != nil: // judged only against a valid protocol
			v.Addf(field(hf.name), "only allowed when protocol is HTTP")
		}
	}
}

// ascendingRanges checks that each a-b range of a well-formed code list has a ≤ b.
func ascendingRanges(v *validate.Report, field, codes string) {
	for _, part := range strings.Split(codes, ",") {
		if lo, hi, ok := strings.Cut(part, "-"); ok {
			a, _ := strconv.Atoi(lo)
			b, _ := strconv.Atoi(hi)
			if a > b {
				v.Addf(field, "range %s must go from the lower code to the higher", part)
				return
			}
		}
	}
}

func (s *SessionSticky) validate(v *validate.Report, path string) {
	field := func(name string) string { return validate.Join(path, name) }
	if v.RequiredString(field("sessionType"), &s.SessionType) {
		v.Enum(field("sessionType"), &s.SessionType, "APP_COOKIE", "HTTP_COOKIE", "SOURCE_IP")
	}
	if s.SessionType == "APP_COOKIE" && (s.CookieName == nil || *s.CookieName == "") {
		v.Addf(field("cookieName"), "required when sessionType is APP_COOKIE")
	}
	if (s.SessionType == "APP_COOKIE" || s.SessionType == "SOURCE_IP") && s.PersistenceTimeout == nil {
		v.Addf(field("persistenceTimeout"), "required when sessionType is %s", s.SessionType)
	}
}
