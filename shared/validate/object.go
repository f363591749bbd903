package validate

import (
	"net/netip"
	"regexp"
	"strings"
	"unicode/utf8"
)

// An Object checks the members of one object of a request, each named by its member name: the
// member's path (Join of the object's path and the name) is written only when a check fails.
// A request's rules check dozens of fields that nearly always hold, and writing each path
// beforehand was half the allocations of a call. Each check records a violation when the rule
// is broken and reports whether it held, as Report's do.
type Object struct {
	r    *Report
	path string
	// nested is false for Report's own checks, whose names are whole paths.
	nested bool
}

// Object returns the checks of the members of the object at path.
func (r *Report) Object(path string) Object { return Object{r: r, path: path, nested: true} }

// top is the checks of fields named by their whole path.
func (r *Report) top() Object { return Object{r: r} }

// Path returns the path of member name.
func (o Object) Path(name string) string {
	if !o.nested {
		return name
	}
	return Join(o.path, name)
}

// Object returns the checks of the members of the object at member name.
func (o Object) Object(name string) Object { return o.r.Object(o.Path(name)) }

// Addf records a violation of member name.
func (o Object) Addf(name, format string, args ...any) { o.r.Addf(o.Path(name), format, args...) }

// Required checks that a required member is present.
func (o Object) Required(name string, present bool) bool {
	if !present {
		o.Addf(name, "required")
	}
	return present
}

// RequiredString checks that a required string is present and not empty.
func (o Object) RequiredString(name string, s *string) bool {
	if s == nil || *s == "" {
		o.Addf(name, "required")
		return false
	}
	return true
}

// Forbidden records a violation when a member is present though a rule excludes it.
func (o Object) Forbidden(name string, present bool, why string) bool {
	if present {
		o.Addf(name, "not allowed %s", why)
	}
	return !present
}

// Enum checks that s, when set, is one of allowed (case-sensitive, as the providers are).
func (o Object) Enum(name string, s *string, allowed ...string) bool {
	if s == nil {
		return true
	}
	for _, a := range allowed {
		if *s == a {
			return true
		}
	}
	o.Addf(name, "must be one of %s, got %q", strings.Join(allowed, ", "), *s)
	return false
}

// Range checks that n, when set, lies in [min, max].
func (o Object) Range(name string, n *int, min, max int) bool {
	if n == nil || (*n >= min && *n <= max) {
		return true
	}
	o.Addf(name, "must be between %d and %d, got %d", min, max, *n)
	return false
}

// RequiredRange checks that a required number is present and lies in [min, max].
func (o Object) RequiredRange(name string, n *int, min, max int) bool {
	return o.Required(name, n != nil) && o.Range(name, n, min, max)
}

// Length checks that s, when set, has between min and max characters (not bytes: the
// providers count Chinese characters as one).
func (o Object) Length(name string, s *string, min, max int) bool {
	if s == nil {
		return true
	}
	n := utf8.RuneCountInString(*s)
	if n < min || n > max {
		if min == 0 {
			o.Addf(name, "must be at most %d characters, got %d", max, n)
		} else {
			o.Addf(name, "must be %d to %d characters, got %d", min, max, n)
		}
		return false
	}
	return true
}

// Match checks that s, when set, matches re; what describes the allowed form in the message.
func (o Object) Match(name string, s *string, re *regexp.Regexp, what string) bool {
	if s == nil || re.MatchString(*s) {
		return true
	}
	o.Addf(name, "must be %s, got %q", what, *s)
	return false
}

// IP checks that s, when set, is an IPv4 or IPv6 address.
func (o Object) IP(name string, s *string) bool {
	if s == nil {
		return true
	}
	if _, err := netip.ParseAddr(*s); err != nil {
		o.Addf(name, "must be an IP address, got %q", *s)
		return false
	}
	return true
}
