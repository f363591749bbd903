package command

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// A Command is one parsed chat command.
type Command struct {
	Kind     Kind
	Function string          // for HelpFunction and Create: the operation's own name
	DryRun   bool            // --dry-run
	Request  json.RawMessage // Create: the function's request JSON object (no idempotencyKey/replyTo added)
}

// Parse reads text (after Normalize, which it calls itself; a leading "/lb" or "lb" and
// surrounding space are dropped). ops are the create operations. A usage problem (unknown
// command, function or path, bad value) is an *op.Error of kind validation whose violations
// name the JSON path ("pool.protocol"), or "" for the command itself; its message is usage
// text fit to show in the chat. Parse never panics and takes time linear in len(text).
func Parse(text string, ops []op.Operation) (Command, error) {
	if len(text) > MaxText {
		return Command{}, usage([]validate.Violation{{Field: "",
			Message: fmt.Sprintf("the command is %d bytes long, more than the %d read", len(text), MaxText)}}, Usage(ops))
	}
	s := strings.TrimSpace(Normalize(text))
	if word, rest := cutWord(s); strings.EqualFold(word, "/lb") || strings.EqualFold(word, "lb") {
		s = rest
	}
	word, rest := cutWord(s)
	switch strings.ToLower(word) {
	case "", "help":
		return parseHelp(rest, ops)
	case "create":
		return parseCreate(rest, ops)
	}
	return Command{}, usage([]validate.Violation{{Field: "",
		Message: fmt.Sprintf("unknown command %q", clip(word))}}, Usage(ops))
}

func parseHelp(rest string, ops []op.Operation) (Command, error) {
	name, extra := cutWord(rest)
	if name == "" {
		return Command{Kind: Help}, nil
	}
	o := lookup(ops, name)
	if o == nil {
		return Command{}, unknownFunction(name, ops)
	}
	if extra != "" {
		return Command{}, usage([]validate.Violation{{Field: "",
			Message: fmt.Sprintf("help takes one function, got more: %q", clip(extra))}}, "usage: help <function>")
	}
	return Command{Kind: HelpFunction, Function: o.Function()}, nil
}

func unknownFunction(name string, ops []op.Operation) error {
	msg := fmt.Sprintf("unknown function %q", clip(name))
	if near := nearest(name, functionNames(ops)); near != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", near)
	}
	return usage([]validate.Violation{{Field: "", Message: msg}},
		"functions: "+strings.Join(functionNames(ops), ", ")+"\n"+createUsage("<function>"))
}

func createUsage(function string) string {
	return "usage: create " + function + " [--dry-run] <path>=<value> …  or  create " + function +
		" [--dry-run] {…JSON…}\nhelp " + function + " lists the fields"
}

func parseCreate(rest string, ops []op.Operation) (Command, error) {
	name, args := cutWord(rest)
	if name == "" || strings.HasPrefix(name, "--") {
		return Command{}, usage([]validate.Violation{{Field: "", Message: "create needs a function"}},
			"functions: "+strings.Join(functionNames(ops), ", ")+"\n"+createUsage("<function>"))
	}
	o := lookup(ops, name)
	if o == nil {
		return Command{}, unknownFunction(name, ops)
	}
	p := &parser{s: args, root: requestShape(o.RequestType()), tree: &node{}}
	p.run()
	if len(p.problems) > 0 {
		return Command{}, usage(p.problems, createUsage(o.Function()))
	}
	return Command{Kind: Create, Function: o.Function(), DryRun: p.dryRun, Request: p.request()}, nil
}

// cutWord splits s (normalized: spaces are ' ') at its first space.
func cutWord(s string) (word, rest string) {
	word, rest, _ = strings.Cut(s, " ")
	return word, strings.TrimLeft(rest, " ")
}

// clip shortens text quoted back to the user.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// A parser reads the arguments of create: --dry-run, then either path=value pairs or one
// JSON object.
type parser struct {
	s        string
	i        int
	root     *shape
	tree     *node
	object   json.RawMessage // the JSON object form
	pairs    int
	dryRun   bool
	problems []validate.Violation
}

func (p *parser) fail(field, format string, args ...any) {
	if len(p.problems) <= maxViolations {
		p.problems = append(p.problems, validate.Violation{Field: field, Message: fmt.Sprintf(format, args...)})
	}
}

func (p *parser) run() {
	for {
		for p.i < len(p.s) && p.s[p.i] == ' ' {
			p.i++
		}
		if p.i >= len(p.s) {
			break
		}
		switch {
		case strings.HasPrefix(p.s[p.i:], "--"):
			word := p.word()
			if strings.EqualFold(word, "--dry-run") {
				p.dryRun = true
			} else {
				p.fail("", "unknown option %q (the one option is --dry-run)", clip(word))
			}
		case p.s[p.i] == '{':
			p.jsonObject()
		default:
			p.pair()
		}
	}
	p.tree.checkArrays(p)
}

// word consumes up to the next space.
func (p *parser) word() string {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ' ' {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *parser) jsonObject() {
	end, ok := jsonEnd(p.s, p.i)
	raw := p.s[p.i:end]
	p.i = end
	var compact bytes.Buffer
	if !ok || json.Compact(&compact, []byte(raw)) != nil {
		p.fail("", "the request is not valid JSON (%s)", jsonProblem(raw))
		return
	}
	if p.object != nil || p.pairs > 0 {
		p.fail("", "give one JSON object or path=value pairs, not both")
		return
	}
	p.object = compact.Bytes()
	var members map[string]json.RawMessage
	if json.Unmarshal(p.object, &members) == nil {
		for _, name := range sortedNames(members) {
			if commonFields[name] {
				p.fail(name, "%s", commonFieldMessage(name))
			}
		}
	}
	p.checkEnd("")
}

// checkEnd reports text glued to the end of a value: "abc"def, {…}x.
func (p *parser) checkEnd(path string) {
	if p.i < len(p.s) && p.s[p.i] != ' ' {
		p.fail(path, "unexpected %q after the value (quote a value that has spaces or quotes)", clip(p.word()))
	}
}

func (p *parser) pair() {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '=' && p.s[p.i] != ' ' {
		p.i++
	}
	if p.i >= len(p.s) || p.s[p.i] != '=' {
		word := p.s[start:p.i]
		hint := "write <path>=<value>"
		if p.pairs > 0 {
			hint += "; quote a value that has spaces"
		}
		p.fail("", "expected <path>=<value>, got %q (%s)", clip(word), hint)
		return
	}
	written := p.s[start:p.i]
	p.i++ // '='
	p.pairs++
	if p.object != nil && p.pairs == 1 {
		p.fail("", "give one JSON object or path=value pairs, not both")
	}
	path, segs, sh, problem := resolve(written, p.root)
	v, ok := p.value(sh, path)
	if !ok {
		return
	}
	if problem != "" {
		p.fail(path, "%s", problem)
		return
	}
	raw, problem := convert(sh, v)
	if problem != "" {
		p.fail(path, "%s", problem)
		return
	}
	if problem := p.tree.set(segs, path, raw); problem != "" {
		p.fail(path, "%s", problem)
	}
}

// A value as written: its text (quotes removed) and how it was written.
type value struct {
	text   string
	quoted bool
	json   bool // a JSON object or array, as written
}

// value reads the value after '=' for a field of shape sh (nil when the path is unknown).
func (p *parser) value(sh *shape, path string) (value, bool) {
	if p.i >= len(p.s) || p.s[p.i] == ' ' {
		return value{}, true
	}
	switch c := p.s[p.i]; {
	case c == '"' || c == '\'':
		text, ok := p.quotedText(c)
		if !ok {
			p.fail(path, "has an unterminated %c quote", c)
			return value{}, false
		}
		p.checkEnd(path)
		return value{text: text, quoted: true}, true
	case (c == '{' || c == '[') && (sh == nil || sh.kind >= kindObject):
		end, ok := jsonEnd(p.s, p.i)
		raw := p.s[p.i:end]
		p.i = end
		if !ok || !json.Valid([]byte(raw)) {
			p.fail(path, "is not valid JSON (%s)", jsonProblem(raw))
			return value{}, false
		}
		p.checkEnd(path)
		return value{text: raw, json: true}, true
	}
	return value{text: p.word()}, true
}

// quotedText reads a quoted value: inside "…" a backslash escapes " and \ (and is kept before
// anything else, so a regular expression needs no doubling); '…' is taken as written.
func (p *parser) quotedText(q byte) (string, bool) {
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), true
		case q == '"' && c == '\\' && p.i+1 < len(p.s) && (p.s[p.i+1] == '"' || p.s[p.i+1] == '\\'):
			b.WriteByte(p.s[p.i+1])
			p.i += 2
			continue
		}
		b.WriteByte(c)
		p.i++
	}
	return "", false
}

// convert gives v the JSON type of shape sh.
func convert(sh *shape, v value) (json.RawMessage, string) {
	t := strings.TrimSpace(v.text)
	switch sh.kind {
	case kindString:
		return marshalString(v.text), ""
	case kindBool:
		switch strings.ToLower(t) {
		case "true":
			return json.RawMessage("true"), ""
		case "false":
			return json.RawMessage("false"), ""
		}
		return nil, fmt.Sprintf("must be true or false, got %q", clip(v.text))
	case kindInt:
		n, err := strconv.ParseInt(t, 10, sh.bits)
		if err != nil {
			return nil, numberProblem("an integer", v.text, err)
		}
		return json.RawMessage(strconv.FormatInt(n, 10)), ""
	case kindUint:
		n, err := strconv.ParseUint(t, 10, sh.bits)
		if err != nil {
			return nil, numberProblem("a non-negative integer", v.text, err)
		}
		return json.RawMessage(strconv.FormatUint(n, 10)), ""
	case kindFloat:
		f, err := strconv.ParseFloat(t, sh.bits)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, numberProblem("a number", v.text, err)
		}
		return json.RawMessage(strconv.FormatFloat(f, 'g', -1, sh.bits)), ""
	case kindObject, kindMap, kindArray:
		want, open := "a JSON object {…}", byte('{')
		if sh.kind == kindArray {
			want, open = "a JSON array […]", '['
		}
		var b bytes.Buffer
		if t == "" || t[0] != open || json.Compact(&b, []byte(t)) != nil {
			msg := fmt.Sprintf("must be %s, got %q", want, clip(v.text))
			if sh.kind == kindArray && sh.elem.kind < kindObject {
				msg += " (or set items one by one: <path>[0]=…)"
			}
			return nil, msg
		}
		return b.Bytes(), ""
	}
	// A type that decodes itself: the value as JSON when it is JSON, else as a string.
	var b bytes.Buffer
	if !v.quoted && json.Compact(&b, []byte(t)) == nil {
		return b.Bytes(), ""
	}
	return marshalString(v.text), ""
}

func numberProblem(want, text string, err error) string {
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return fmt.Sprintf("is out of range, got %s", clip(text))
	}
	return fmt.Sprintf("must be %s, got %q", want, clip(text))
}

func marshalString(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always marshals (invalid UTF-8 as U+FFFD)
	return b
}

// jsonEnd returns where the JSON object or array starting at s[i] ends, matching brackets
// outside strings; ok is false when it does not end.
func jsonEnd(s string, i int) (end int, ok bool) {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '"':
			for j++; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, true
			}
		}
	}
	return len(s), false
}

// jsonProblem says what is wrong with raw, briefly.
func jsonProblem(raw string) string {
	var v any
	err := json.Unmarshal([]byte(raw), &v)
	if err == nil {
		return "unbalanced brackets"
	}
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	}
	return err.Error()
}

func commonFieldMessage(name string) string {
	if name == "dryRun" {
		return "not set from chat: use --dry-run"
	}
	return "not set from chat: chatops sets it"
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func (p *parser) request() json.RawMessage {
	if p.object != nil {
		return p.object
	}
	var b bytes.Buffer
	p.tree.encode(&b)
	if b.Len() == 0 {
		return json.RawMessage("{}")
	}
	return b.Bytes()
}
