package command

import (
	"strings"

	"github.com/lbfn/lbfn/shared/op"
	"github.com/lbfn/lbfn/shared/validate"
)

// Help is meant to fit one chat message: Slack shows at most 3,000 characters in a section
// block and WeCom's markdown at most 4,096 bytes, so every Describe stays under 3,000
// characters (the tests check the five functions).

// Usage is the answer to "help": the commands, then every function with one line each (its
// provider and the fields it cannot do without).
func Usage(ops []op.Operation) string {
	var b strings.Builder
	b.WriteString("lbfn chatops commands:\n" +
		"help · this list\n" +
		"help <function> · its fields, which are required, enums\n" +
		"create <function> [--dry-run] <path>=<value> … · e.g. port=80 pool.members[0].role=master name=\"two words\"\n" +
		"create <function> [--dry-run] {…} · the request as one JSON object\n" +
		"Functions, with what each requires:\n")
	for _, o := range ops {
		root := requestShape(o.RequestType())
		f := learn(o, root)
		b.WriteString(o.Function() + " (" + o.Provider() + "): " + strings.Join(mandatory(root, "", f), ", ") + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// mandatory lists the fields a request cannot leave out: required fields whose objects are
// required too, an object by its own required fields when it has any.
func mandatory(sh *shape, path string, f *facts) []string {
	var out []string
	for _, fl := range sh.fields {
		at := validate.Join(path, fl.name)
		if !f.required[display(at)] {
			continue
		}
		var inner []string
		if fl.shape.kind == kindObject && fl.shape != sh {
			inner = mandatory(fl.shape, at, f)
		}
		if len(inner) == 0 {
			inner = []string{at}
		}
		out = append(out, inner...)
	}
	return out
}

// Describe is the answer to "help <function>": every field by its JSON path with its type,
// * for required (within its object, when that object is given), the values of an enum, and
// the conditions the rules put on it, all generated from the request type and the
// operation's own rules.
func Describe(o op.Operation) string {
	root := requestShape(o.RequestType())
	f := learn(o, root)
	var b strings.Builder
	b.WriteString(o.Function() + " (" + o.Provider() + ")\n" +
		"create " + o.Function() + " [--dry-run] <path>=<value> …  or  {…JSON…}\n" +
		"* required (within its object) · a|b one of · [n] item n, from 0\n")
	describe(&b, root, "", f, map[*shape]bool{root: true})
	return strings.TrimSuffix(b.String(), "\n")
}

func describe(b *strings.Builder, sh *shape, path string, f *facts, onPath map[*shape]bool) {
	for _, fl := range sh.fields {
		at := validate.Join(path, fl.name)
		line(b, at, fl.shape, f)
		inner, innerPath := fl.shape, at
		if inner.kind == kindArray {
			inner, innerPath = inner.elem, validate.Index(at, 0)
		}
		if inner.kind == kindObject && !onPath[inner] {
			onPath[inner] = true
			describe(b, inner, innerPath, f, onPath)
			delete(onPath, inner)
		}
	}
}

func line(b *strings.Builder, at string, sh *shape, f *facts) {
	shown := display(at)
	b.WriteString(shown)
	if f.required[shown] {
		b.WriteByte('*')
	}
	b.WriteByte(' ')
	switch {
	case f.enums[shown] != nil:
		b.WriteString(strings.Join(f.enums[shown], "|"))
	case sh.kind == kindArray && f.enums[display(validate.Index(at, 0))] != nil:
		b.WriteString("[]" + strings.Join(f.enums[display(validate.Index(at, 0))], "|"))
	default:
		b.WriteString(sh.typeName())
	}
	if notes := f.notes[shown]; len(notes) > 0 {
		b.WriteString(" (" + strings.Join(mergeNotes(notes), "; ") + ")")
	}
	b.WriteByte('\n')
}

// mergeNotes writes "required when type is A" and "required when type is B" as one note,
// "required when type is A or B".
func mergeNotes(notes []string) []string {
	var out []string
	last := ""
	for _, n := range notes {
		i := strings.LastIndex(n, " is ")
		if i > 0 && len(out) > 0 && n[:i] == last {
			out[len(out)-1] += " or " + n[i+len(" is "):]
			continue
		}
		out = append(out, n)
		last = ""
		if i > 0 {
			last = n[:i]
		}
	}
	return out
}
