// Package validate collects rule violations, each named by the JSON path of the field as the
// user wrote it (pool.members[1].role), and decodes requests strictly: unknown fields and
// values of the wrong JSON type are violations too, all reported together.
package validate

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Violation is one broken rule.
type Violation struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (v Violation) String() string {
	if v.Field == "" {
		return v.Message
	}
	return v.Field + ": " + v.Message
}

// Join returns the path of the member name inside the object at parent.
// An empty member name is written [""], so that no field but the whole request has the
// empty path.
func Join(parent, name string) string {
	if name == "" {
		return parent + `[""]`
	}
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// Index returns the path of item i of the array at parent.
func Index(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// A Report gathers violations. The zero value is ready to use. Each check records a violation
// when the rule is broken and reports whether it held, so callers can skip dependent checks.
type Report struct {
	list []Violation
}

// Addf records a violation of field.
func (r *Report) Addf(field, format string, args ...any) {
	r.list = append(r.list, Violation{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Add records violations found elsewhere, such as by Decode.
func (r *Report) Add(vs ...Violation) { r.list = append(r.list, vs...) }

// Violations returns what was recorded, in the order it was found.
func (r *Report) Violations() []Violation { return r.list }

// OK reports whether nothing was recorded.
func (r *Report) OK() bool { return len(r.list) == 0 }

// Required checks that a required field is present.
func (r *Report) Required(field string, present bool) bool {
	if !present {
		r.Addf(field, "required")
	}
	return present
}

// RequiredString checks that a required string is present and not empty.
func (r *Report) RequiredString(field string, s *string) bool {
	if s == nil || *s == "" {
		r.Addf(field, "required")
		return false
	}
	return true
}

// Forbidden records a violation when a field is present though a rule excludes it.
func (r *Report) Forbidden(field string, present bool, why string) bool {
	if present {
		r.Addf(field, "not allowed %s", why)
	}
	return !present
}

// Enum checks that s, when set, is one of allowed (case-sensitive, as the providers are).
func (r *Report) Enum(field string, s *string, allowed ...string) bool {
	if s == nil {
		return true
	}
	for _, a := range allowed {
		if *s == a {
			return true
		}
	}
	r.Addf(field, "must be one of %s, got %q", strings.Join(allowed, ", "), *s)
	return false
}

// Range checks that n, when set, lies in [min, max].
func (r *Report) Range(field string, n *int, min, max int) bool {
	if n == nil || (*n >= min && *n <= max) {
		return true
	}
	r.Addf(field, "must be between %d and %d, got %d", min, max, *n)
	return false
}

// Length checks that s, when set, has between min and max characters (not bytes: the
// providers count Chinese characters as one).
func (r *Report) Length(field string, s *string, min, max int) bool {
	if s == nil {
		return true
	}
	n := utf8.RuneCountInString(*s)
	if n < min || n > max {
		if min == 0 {
			r.Addf(field, "must be at most %d characters, got %d", max, n)
		} else {
			r.Addf(field, "must be %d to %d characters, got %d", min, max, n)
		}
		return false
	}
	return true
}

// Match checks that s, when set, matches re; what describes the allowed form in the message.
func (r *Report) Match(field string, s *string, re *regexp.Regexp, what string) bool {
	if s == nil || re.MatchString(*s) {
		return true
	}
	r.Addf(field, "must be %s, got %q", what, *s)
	return false
}

// IP checks that s, when set, is an IPv4 or IPv6 address.
func (r *Report) IP(field string, s *string) bool {
	if s == nil {
		return true
	}
	if _, err := netip.ParseAddr(*s); err != nil {
		r.Addf(field, "must be an IP address, got %q", *s)
		return false
	}
	return true
}

// Str returns a pointer to s, for checks on required strings held by value.
func Str(s string) *string { return &s }
