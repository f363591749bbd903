// Package command reads chat commands, one grammar for every chat platform:
//
//	help                                          the functions, one line each
//	help <function>                               its fields, which are required, enums
//	create <function> [--dry-run] <path>=<value> …
//	create <function> [--dry-run] {…}              the request as one JSON object
//
// with an optional leading "/lb" or "lb". A path is a request field's JSON path as errors
// print it (pool.members[1].role); its value takes the type the function's own request type
// gives that field, so port=80 is a number and backendName=123 a string. Parse only builds the
// request: the operation's own Decode judges it, with the same rules as the function.
package command

import (
	"strconv"
	"strings"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// Kind is what a command asks for.
type Kind int

const (
	Help         Kind = iota // "help"
	HelpFunction             // "help <function>"
	Create                   // "create <function> ..."
)

func (k Kind) String() string {
	switch k {
	case Help:
		return "help"
	case HelpFunction:
		return "help <function>"
	case Create:
		return "create"
	}
	return "unknown"
}

// Limits that keep a hostile message cheap and the answer fit for a chat.
const (
	// MaxText is the longest command read, in bytes; a chat message is shorter (Slack's
	// slash command text is at most 4,000 characters).
	MaxText = 16 << 10
	// maxShown is how many problems the answer lists (the error keeps up to maxViolations).
	maxShown      = 8
	maxViolations = 50
	// maxIndex bounds an array index in a path: no request has arrays anywhere near this long.
	maxIndex = 999
)

// usage is an *op.Error of kind validation: every problem as a violation, and a message fit
// to show in the chat (the problems, then how to write the command).
func usage(vs []validate.Violation, hint string) *op.Error {
	if len(vs) > maxViolations {
		vs = append(vs[:maxViolations:maxViolations], validate.Violation{
			Field: "", Message: "too many problems; the rest are not listed"})
	}
	var b strings.Builder
	for i, v := range vs {
		if i == maxShown {
			b.WriteString("… and " + strconv.Itoa(len(vs)-maxShown) + " more\n")
			break
		}
		b.WriteString(v.String() + "\n")
	}
	b.WriteString(hint)
	return &op.Error{Kind: op.KindValidation, Message: strings.TrimSuffix(b.String(), "\n"), Violations: vs}
}

// lookup finds the operation of function, ignoring case (a phone capitalises what it likes).
func lookup(ops []op.Operation, function string) op.Operation {
	for _, o := range ops {
		if strings.EqualFold(o.Function(), function) {
			return o
		}
	}
	return nil
}

func functionNames(ops []op.Operation) []string {
	names := make([]string, 0, len(ops))
	for _, o := range ops {
		names = append(names, o.Function())
	}
	return names
}
