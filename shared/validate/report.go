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
// It lists at most MaxViolations and counts the rest (Violations then ends with Omitted), so
// a request breaking a rule in each of a million items costs a count, not a million messages.
type Report struct {
	list []Violation
	more int
	// decoded is what Decode refused: a rule broken at or under one of its fields only
	// repeats it, and is not recorded.
	decoded []Violation
}

// Addf records a violation of field.
func (r *Report) Addf(field, format string, args ...any) {
	if Covered(r.decoded, field) {
		return
	}
	if len(r.list) >= MaxViolations {
		r.more++ // not even formatted: it will not be listed
		return
	}
	r.list = append(r.list, Violation{Field: field, Message: clip(fmt.Sprintf(format, args...), maxMessage)})
}

// Add records violations found elsewhere, such as by Decode (an Omitted among them adds its
// count).
func (r *Report) Add(vs ...Violation) {
	for _, v := range vs {
		if n := omitted(v); n > 0 {
			r.more += n
			continue
		}
		if Covered(r.decoded, v.Field) {
			continue
		}
		if len(r.list) >= MaxViolations {
			r.more++
			continue
		}
		r.list = append(r.list, v)
	}
}

// Violations returns what was recorded, in the order it was found: at most MaxViolations,
// then Omitted when there were more.
func (r *Report) Violations() []Violation {
	if r.more == 0 {
		return r.list
	}
	return append(r.list[:len(r.list):len(r.list)], Omitted(r.more))
}

// Len is how many violations were recorded, listed or not.
func (r *Report) Len() int { return len(r.list) + r.more }

// OK reports whether nothing was recorded.
func (r *Report) OK() bool { return r.Len() == 0 }

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
