// Package allow reads LBFN_CHATOPS_ALLOW, the list of who may create what from chat:
// comma-separated entries <platform>:<user>=<function>[|<function>…], where * stands for any
// user or any function. It fails closed: an empty list allows nobody, and a list that does not
// parse is an error, never a partial list.
package allow

import (
	"fmt"
	"slices"
	"strings"
)

// Variable is the setting this package reads, named in answers that tell a user how to get
// access.
const Variable = "LBFN_CHATOPS_ALLOW"

// Platforms are the platform names an entry may start with.
var Platforms = []string{"slack", "feishu", "dingtalk", "wecom"}

// Any is the wildcard for a user or a function.
const Any = "*"

// List is a parsed LBFN_CHATOPS_ALLOW. The zero value allows nobody.
type List struct {
	// grants maps platform + ":" + user (or Any) to the functions allowed (or Any).
	grants map[string][]string
}

// Parse reads s. "" (or only white space) gives the empty list. White space around entries
// and around their parts is ignored; anything else malformed is an error naming the entry.
func Parse(s string) (List, error) {
	l := List{grants: map[string][]string{}}
	if strings.TrimSpace(s) == "" {
		return l, nil
	}
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return List{}, fmt.Errorf("%s: entry %d is empty (a stray comma?)", Variable, i+1)
		}
		who, what, ok := strings.Cut(entry, "=")
		if !ok {
			return List{}, fmt.Errorf("%s: entry %q has no '=': want <platform>:<user>=<function>[|<function>…]", Variable, entry)
		}
		platform, user, ok := strings.Cut(strings.TrimSpace(who), ":")
		platform, user = strings.TrimSpace(platform), strings.TrimSpace(user)
		switch {
		case !ok:
			return List{}, fmt.Errorf("%s: entry %q has no ':' between platform and user", Variable, entry)
		case platform == "":
			return List{}, fmt.Errorf("%s: entry %q has an empty platform", Variable, entry)
		case !slices.Contains(Platforms, platform):
			return List{}, fmt.Errorf("%s: entry %q names unknown platform %q (want one of %s)",
				Variable, entry, platform, strings.Join(Platforms, ", "))
		case user == "":
			return List{}, fmt.Errorf("%s: entry %q has an empty user (use * for any user)", Variable, entry)
		case !validName(user):
			return List{}, fmt.Errorf("%s: entry %q has a user with white space or one of ':=|'", Variable, entry)
		}
		key := platform + ":" + user
		if _, dup := l.grants[key]; dup {
			return List{}, fmt.Errorf("%s: %s appears twice: list its functions once, separated by |", Variable, key)
		}
		var functions []string
		for _, f := range strings.Split(what, "|") {
			f = strings.TrimSpace(f)
			switch {
			case f == "":
				return List{}, fmt.Errorf("%s: entry %q has an empty function (use * for any function)", Variable, entry)
			case !validName(f):
				return List{}, fmt.Errorf("%s: entry %q has a function with white space or one of ':=|'", Variable, entry)
			}
			if !slices.Contains(functions, f) {
				functions = append(functions, f)
			}
		}
		l.grants[key] = functions
	}
	return l, nil
}

// validName reports whether s can be a user or function of an entry: no white space and none
// of the separators (a comma cannot occur: entries are split on it).
func validName(s string) bool {
	return !strings.ContainsAny(s, ":=| \t\r\n\v\f")
}

// Empty reports whether the list allows nobody anything.
func (l List) Empty() bool { return len(l.grants) == 0 }

// Allows reports whether user on platform may create with function: an entry for that user,
// or for any user on the platform, names the function or *.
func (l List) Allows(platform, user, function string) bool {
	if platform == "" || user == "" || function == "" {
		return false
	}
	for _, who := range []string{user, Any} {
		for _, f := range l.grants[platform+":"+who] {
			if f == Any || f == function {
				return true
			}
		}
	}
	return false
}

// Unknown returns the functions the list names that are not among known (a typo there
// silently allows nothing; the server can say so at start), sorted.
func (l List) Unknown(known []string) []string {
	var out []string
	for _, fs := range l.grants {
		for _, f := range fs {
			if f != Any && !slices.Contains(known, f) && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	slices.Sort(out)
	return out
}
