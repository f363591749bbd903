package validate

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxViolations bounds how many violations a Report (and so Decode) lists. Past it they are
// only counted, and the list ends with one violation of the whole request (field "") saying
// how many more there are: a hostile request of a million wrong items costs a count, not a
// million messages.
const MaxViolations = 50

// Limits on what a violation echoes of the request, so that an answer stays small whatever
// was sent: member names in paths, and values quoted in messages.
const (
	maxNameInPath = 100
	maxMessage    = 300
)

// Omitted is the violation that ends a list cut at MaxViolations: n more were found.
func Omitted(n int) Violation {
	return Violation{Field: "", Message: strconv.Itoa(n) + omittedSuffix}
}

const omittedSuffix = " more violations not listed"

// Count returns how many violations vs stands for: its length, plus what an Omitted at its
// end leaves out.
func Count(vs []Violation) int {
	if len(vs) == 0 {
		return 0
	}
	if n := omitted(vs[len(vs)-1]); n > 0 {
		return len(vs) - 1 + n
	}
	return len(vs)
}

// omitted returns the count of an Omitted violation, 0 for any other.
func omitted(v Violation) int {
	if n, ok := strings.CutSuffix(v.Message, omittedSuffix); ok && v.Field == "" {
		if more, err := strconv.Atoi(n); err == nil && more > 0 {
			return more
		}
	}
	return 0
}

// clip shortens s to at most max bytes (at a character boundary), marking the cut.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// A frame is one step of the path to the value being decoded: a member name or an index.
type frame struct {
	name  []byte
	index int // -1 for a member name
}

// pathOf writes frames as a JSON path the way Join and Index do.
func pathOf(frames []frame) string {
	var b strings.Builder
	for _, f := range frames {
		if f.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(f.index))
			b.WriteByte(']')
			continue
		}
		name := clip(string(f.name), maxNameInPath)
		switch {
		case name == "":
			b.WriteString(`[""]`)
		case b.Len() == 0:
			b.WriteString(name)
		default:
			b.WriteByte('.')
			b.WriteString(name)
		}
	}
	return b.String()
}

// appendKey appends the sort key of frames: comparing keys as bytes orders paths as the
// report lists them, member names as strings, indexes as numbers, a parent before its
// children.
func appendKey(key []byte, frames []frame) []byte {
	for _, f := range frames {
		if f.index >= 0 {
			key = append(key, 2)
			key = binary.BigEndian.AppendUint64(key, uint64(f.index))
			continue
		}
		key = append(key, 1)
		for _, c := range f.name {
			key = append(key, c)
			if c == 0 {
				key = append(key, 1) // so that a 0 in a name sorts after the name's end
			}
		}
		key = append(key, 0, 0)
	}
	return key
}

type entry struct {
	key []byte
	v   Violation
}

// collector gathers the violations of one Decode in the order the report gives them:
// repeated members first, in the order they appear, then the rest sorted by path. It keeps
// only the first MaxViolations of that order (a max-heap of the smallest paths) and counts
// the rest, so its memory is bounded whatever the request holds.
type collector struct {
	dups    []Violation
	sorted  []entry // a max-heap by key
	nDups   int     // repeated members found
	nSorted int     // other violations found, less those withdrawn
	// overflow is set once more violations were found than can be listed: from then on
	// nothing is withdrawn and the decoded value is not built (the request is too broken for
	// its rules to be worth checking).
	overflow bool
	key      []byte // scratch for the key of the current path
}

func (c *collector) total() int { return c.nDups + c.nSorted }

func (c *collector) noteFound() {
	if c.total() > MaxViolations {
		c.overflow = true
	}
}

// dup records that the member at frames appears more than once.
func (c *collector) dup(frames []frame) {
	c.nDups++
	if len(c.dups) < MaxViolations {
		c.dups = append(c.dups, Violation{Field: pathOf(frames), Message: "appears more than once"})
	}
	c.noteFound()
}

// wants reports whether a violation at frames would be listed (so its message is worth
// writing), and counts it either way.
func (c *collector) wants(frames []frame) bool {
	c.nSorted++
	c.noteFound()
	c.key = appendKey(c.key[:0], frames)
	return len(c.sorted) < MaxViolations || bytes.Compare(c.key, c.sorted[0].key) < 0
}

// add lists a violation wants accepted (c.key is its key).
func (c *collector) add(frames []frame, msg string) {
	e := entry{v: Violation{Field: pathOf(frames), Message: clip(msg, maxMessage)}}
	if len(c.sorted) < MaxViolations {
		e.key = slices.Clone(c.key)
		c.sorted = append(c.sorted, e)
		c.up(len(c.sorted) - 1)
		return
	}
	e.key = append(c.sorted[0].key[:0], c.key...) // reuse the evicted entry's key
	c.sorted[0] = e
	c.down(0)
}

// withdraw forgets the n violations found under the member at frames: it appeared again, and
// only its last occurrence is judged (as encoding/json keeps the last).
func (c *collector) withdraw(frames []frame, n int) {
	if c.overflow || n == 0 {
		return
	}
	c.nSorted -= n
	prefix := appendKey(c.key[:0], frames)
	kept := c.sorted[:0]
	for _, e := range c.sorted {
		if !bytes.HasPrefix(e.key, prefix) {
			kept = append(kept, e)
		}
	}
	clear(c.sorted[len(kept):])
	c.sorted = kept
	for i := len(c.sorted)/2 - 1; i >= 0; i-- {
		c.down(i)
	}
}

func (c *collector) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if bytes.Compare(c.sorted[i].key, c.sorted[parent].key) <= 0 {
			return
		}
		c.sorted[i], c.sorted[parent] = c.sorted[parent], c.sorted[i]
		i = parent
	}
}

func (c *collector) down(i int) {
	for {
		largest, l, r := i, 2*i+1, 2*i+2
		if l < len(c.sorted) && bytes.Compare(c.sorted[l].key, c.sorted[largest].key) > 0 {
			largest = l
		}
		if r < len(c.sorted) && bytes.Compare(c.sorted[r].key, c.sorted[largest].key) > 0 {
			largest = r
		}
		if largest == i {
			return
		}
		c.sorted[i], c.sorted[largest] = c.sorted[largest], c.sorted[i]
		i = largest
	}
}

// violations returns the list: at most MaxViolations, then Omitted when more were found.
func (c *collector) violations() []Violation {
	if c.total() == 0 {
		return nil
	}
	slices.SortFunc(c.sorted, func(a, b entry) int { return bytes.Compare(a.key, b.key) })
	out := make([]Violation, 0, min(c.total(), MaxViolations)+1)
	out = append(out, c.dups...)
	for _, e := range c.sorted {
		if len(out) == MaxViolations {
			break
		}
		out = append(out, e.v)
	}
	if more := c.total() - len(out); more > 0 {
		out = append(out, Omitted(more))
	}
	return out
}
