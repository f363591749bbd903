package command

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/lbfn/lbfn/shared/validate"
)

// A seg is one step of a path: a member name, or an array index when index >= 0.
type seg struct {
	name  string
	index int
}

var ideographicDots = strings.NewReplacer("。", ".", "｡", ".")

// resolve reads a path as written and follows it through the request's shape. path is the
// path as errors print it (as far as it could be read); problem says why it names no field.
func resolve(written string, root *shape) (path string, segs []seg, sh *shape, problem string) {
	// A Chinese input method types 。 for the dot; no member name holds one.
	written = ideographicDots.Replace(written)
	if written == "" {
		return "", nil, nil, "a path is missing before '='"
	}
	sh = root
	rest := written
	for first := true; rest != "" || first; first = false {
		var name string
		switch {
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return written, nil, nil, "has a '[' without its ']'"
			}
			digits := rest[1:end]
			i, err := strconv.Atoi(digits)
			if err != nil || i < 0 || digits != strconv.Itoa(i) {
				return written, nil, nil, fmt.Sprintf("has index [%s]: want a number such as [0]", clip(digits))
			}
			if i > maxIndex {
				return written, nil, nil, fmt.Sprintf("has index [%d]: at most %d", i, maxIndex)
			}
			if first {
				return written, nil, nil, "must start with a field name"
			}
			if sh.kind != kindArray {
				return path, nil, nil, fmt.Sprintf("is %s, not an array", article(sh))
			}
			path, sh = validate.Index(path, i), sh.elem
			segs = append(segs, seg{index: i})
			rest = rest[end+1:]
			continue
		case first:
			name, rest = cutName(rest)
		case rest[0] == '.':
			name, rest = cutName(rest[1:])
		default:
			return written, nil, nil, "has text after ']' that is not .name or [index]"
		}
		if name == "" {
			return written, nil, nil, "has an empty field name"
		}
		at := validate.Join(path, name)
		switch sh.kind {
		case kindObject:
			if len(segs) == 0 && commonFields[name] {
				return at, nil, nil, commonFieldMessage(name)
			}
			f := sh.member(name)
			if f == nil {
				return at, nil, nil, unknownField(sh, path, name)
			}
			sh = f.shape
		case kindMap:
			sh = sh.elem
		case kindArray:
			return path, nil, nil, fmt.Sprintf("is an array: give an index, as %s", validate.Join(validate.Index(path, 0), name))
		default:
			return path, nil, nil, fmt.Sprintf("is %s: it has no field %q", article(sh), clip(name))
		}
		path = at
		segs = append(segs, seg{name: name, index: -1})
	}
	return path, segs, sh, ""
}

// cutName splits off a member name, which ends at '.' or '['.
func cutName(s string) (name, rest string) {
	if i := strings.IndexAny(s, ".["); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

func article(sh *shape) string {
	switch n := sh.typeName(); {
	case strings.HasPrefix(n, "[]"):
		return "an array"
	case n == "int" || n == "object":
		return "an " + n
	default:
		return "a " + n
	}
}

func unknownField(sh *shape, parent, name string) string {
	names := make([]string, 0, len(sh.fields))
	for _, f := range sh.fields {
		names = append(names, f.name)
	}
	if near := nearest(name, names); near != "" {
		return fmt.Sprintf("unknown field (did you mean %s?)", validate.Join(parent, near))
	}
	return "unknown field"
}

// nearest returns the candidate closest to s when it is close enough to be a typo: the same
// ignoring case, or within a few edits.
func nearest(s string, candidates []string) string {
	if len(s) > 64 {
		return ""
	}
	best, bestDist := "", len(s)/3+2
	for _, c := range candidates {
		if strings.EqualFold(s, c) {
			return c
		}
		if d := distance(strings.ToLower(s), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance in bytes (names are ASCII).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// A node is the request being built: an object or array set member by member, or a value
// given whole.
type node struct {
	path     string
	whole    json.RawMessage
	children map[seg]*node
	order    []seg // object members in the order first set
	max      int   // array: the highest index set
}

// set puts raw at segs, refusing a path set twice and one that overlaps a value given whole.
func (n *node) set(segs []seg, path string, raw json.RawMessage) string {
	for _, sg := range segs {
		if n.whole != nil {
			return fmt.Sprintf("%s is already given as a whole", n.path)
		}
		n = n.child(sg)
	}
	switch {
	case n.whole != nil:
		return "is set more than once"
	case n.children != nil:
		return "its fields are already set one by one"
	}
	n.whole = raw
	return ""
}

func (n *node) child(sg seg) *node {
	if c, ok := n.children[sg]; ok {
		return c
	}
	if n.children == nil {
		n.children = map[seg]*node{}
	}
	c := &node{path: validate.Join(n.path, sg.name)}
	if sg.index >= 0 {
		c.path = validate.Index(n.path, sg.index)
		n.max = max(n.max, sg.index)
	}
	n.children[sg] = c
	n.order = append(n.order, sg)
	return c
}

// isArray: a node's children are all items or all members, as the request's shape says.
func (n *node) isArray() bool { return len(n.order) > 0 && n.order[0].index >= 0 }

// item returns array item i.
func (n *node) item(i int) *node { return n.children[seg{index: i}] }

// checkArrays reports an array whose items are not numbered 0, 1, 2, … without a gap.
func (n *node) checkArrays(p *parser) {
	if n.isArray() && n.max >= len(n.children) {
		missing := 0
		for n.item(missing) != nil {
			missing++
		}
		p.fail(validate.Index(n.path, missing), "missing: number the items from 0 without gaps (%s is set)",
			validate.Index(n.path, n.max))
	}
	for _, sg := range n.order {
		n.children[sg].checkArrays(p)
	}
}

// encode writes the node as JSON, array items by index; a node with nothing set writes
// nothing. Parse encodes only after checkArrays found no gap.
func (n *node) encode(b *bytes.Buffer) {
	switch {
	case n.whole != nil:
		b.Write(n.whole)
	case n.isArray():
		b.WriteByte('[')
		for i := range len(n.children) {
			if i > 0 {
				b.WriteByte(',')
			}
			n.item(i).encode(b)
		}
		b.WriteByte(']')
	case n.children != nil:
		b.WriteByte('{')
		for i, sg := range n.order {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(marshalString(sg.name))
			b.WriteByte(':')
			n.children[sg].encode(b)
		}
		b.WriteByte('}')
	}
}
