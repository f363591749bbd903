// Package validate collects rule violations, each named by the JSON path of the field as the
// user wrote it (pool.members[1].role), and decodes requests strictly: unknown fields and
// values of the wrong JSON type are violations too, all reported together.
package validate

import (
	"fmt"
	"regexp"
	"strconv"
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

// The checks below are Object's (object.go), on fields named by their whole path.

// Required checks that a required field is present.
func (r *Report) Required(field string, present bool) bool { return r.top().Required(field, present) }

// RequiredString checks that a required string is present and not empty.
func (r *Report) RequiredString(field string, s *string) bool {
	return r.top().RequiredString(field, s)
}

// Forbidden records a violation when a field is present though a rule excludes it.
func (r *Report) Forbidden(field string, present bool, why string) bool {
	return r.top().Forbidden(field, present, why)
}

// Enum checks that s, when set, is one of allowed (case-sensitive, as the providers are).
func (r *Report) Enum(field string, s *string, allowed ...string) bool {
	return r.top().Enum(field, s, allowed...)
}

// Range checks that n, when set, lies in [min, max].
func (r *Report) Range(field string, n *int, min, max int) bool {
	return r.top().Range(field, n, min, max)
}

// RequiredRange checks that a required number is present and lies in [min, max].
func (r *Report) RequiredRange(field string, n *int, min, max int) bool {
	return r.top().RequiredRange(field, n, min, max)
}

// Length checks that s, when set, has between min and max characters (not bytes: the
// providers count Chinese characters as one).
func (r *Report) Length(field string, s *string, min, max int) bool {
	return r.top().Length(field, s, min, max)
}

// Match checks that s, when set, matches re; what describes the allowed form in the message.
func (r *Report) Match(field string, s *string, re *regexp.Regexp, what string) bool {
	return r.top().Match(field, s, re, what)
}

// IP checks that s, when set, is an IPv4 or IPv6 address.
func (r *Report) IP(field string, s *string) bool { return r.top().IP(field, s) }

// Str returns a pointer to s, for checks on required strings held by value.
func Str(s string) *string { return &s }
