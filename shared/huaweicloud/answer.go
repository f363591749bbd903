package huaweicloud

import "encoding/json"

// createdIDs reads what a create's answer says of the result, the id of its object under key
// ("pool") and the top-level
// request_id, in one pass that also checks the whole answer is JSON (it goes into the result
// as it came). json.Unmarshal scanned it twice, checking and then decoding, and was a fifth
// of a warm invoke's CPU with a master-slave pool's answer (docs/BENCHMARKS.md has the profile). A member that is not where or what
// is expected (a pool that is not an object, an id that is not a string) reads as absent.
// ok is false when the answer is not JSON.
func createdIDs(body []byte, key string) (id, requestID string, ok bool) {
	r := answerReader{data: body, key: key}
	r.space()
	r.value(0, false)
	r.space()
	return r.poolID, r.requestID, r.err == nil && r.pos == len(r.data)
}

// answerReader is a strict JSON reader over a byte slice; err stops it at the first error.
type answerReader struct {
	data              []byte
	key               string // the member holding the created object
	pos               int
	err               error
	poolID, requestID string
}

var errNotJSON = &json.SyntaxError{}

// maxAnswerDepth bounds nesting as encoding/json does, so that a hostile answer cannot
// exhaust the stack.
const maxAnswerDepth = 10000

func (r *answerReader) fail() {
	if r.err == nil {
		r.err = errNotJSON
	}
}

func (r *answerReader) space() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// value reads one value at nesting level (0: the answer itself); pool says it is the
// answer's member holding the created object.
func (r *answerReader) value(level int, pool bool) {
	if r.err != nil || r.pos >= len(r.data) || level > maxAnswerDepth {
		r.fail()
		return
	}
	switch c := r.data[r.pos]; {
	case c == '{':
		r.object(level, pool)
	case c == '[':
		r.pos++
		for first := true; r.more(']', &first); {
			r.value(level+1, false)
		}
	case c == '"':
		r.str()
	case c == 't':
		r.literal("true")
	case c == 'f':
		r.literal("false")
	case c == 'n':
		r.literal("null")
	default:
		r.number()
	}
}

func (r *answerReader) object(level int, pool bool) {
	r.pos++ // {
	for first := true; r.more('}', &first); {
		if r.pos >= len(r.data) || r.data[r.pos] != '"' {
			r.fail()
			return
		}
		raw, escaped := r.str()
		key := "" // decoded only when escaped: the usual key is compared where it lies
		if escaped {
			key = r.text(raw, true)
		}
		is := func(name string) bool { return escaped && key == name || !escaped && string(raw) == name }
		r.space()
		if r.pos >= len(r.data) || r.data[r.pos] != ':' {
			r.fail()
			return
		}
		r.pos++
		r.space()
		var dst *string
		switch {
		case level == 0 && is("request_id"):
			dst = &r.requestID
		case pool && is("id"):
			dst = &r.poolID
		}
		if dst == nil {
			r.value(level+1, level == 0 && is(r.key))
			continue
		}
		*dst = "" // the last of repeated members counts, as in encoding/json
		if r.pos < len(r.data) && r.data[r.pos] == '"' {
			*dst = r.text(r.str())
		} else {
			r.value(level+1, false)
		}
	}
}

// more reads what follows an opening bracket (first is then true) or an element: false at
// the closing bracket (or an error), true when an element follows (after a comma, but the first).
func (r *answerReader) more(closing byte, first *bool) bool {
	r.space()
	if r.err != nil || r.pos >= len(r.data) {
		r.fail()
		return false
	}
	c := r.data[r.pos]
	switch {
	case c == closing:
		r.pos++
		return false
	case *first:
		*first = false
		return true
	case c == ',':
		r.pos++
		r.space()
		if r.pos < len(r.data) && r.data[r.pos] == closing {
			r.fail()
			return false
		}
		return true
	}
	r.fail()
	return false
}

// str reads a string and returns its bytes between the quotes, and whether they hold escapes.
func (r *answerReader) str() ([]byte, bool) {
	start := r.pos + 1
	r.pos++ // "
	escaped := false
	for r.pos < len(r.data) {
		switch c := r.data[r.pos]; {
		case c == '"':
			r.pos++
			return r.data[start : r.pos-1], escaped
		case c == '\\':
			escaped = true
			if r.pos+1 >= len(r.data) {
				r.fail()
				return nil, false
			}
			switch r.data[r.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.pos += 2
			case 'u':
				if r.pos+6 > len(r.data) || !isHex4(r.data[r.pos+2:r.pos+6]) {
					r.fail()
					return nil, false
				}
				r.pos += 6
			default:
				r.fail()
				return nil, false
			}
		case c < 0x20:
			r.fail()
			return nil, false
		default:
			r.pos++
		}
	}
	r.fail()
	return nil, false
}

// text is a string's value from str: its bytes as they are, or decoded by encoding/json,
// which knows every escape, when it has some.
func (r *answerReader) text(raw []byte, escaped bool) string {
	if !escaped {
		return string(raw)
	}
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	var s string
	if json.Unmarshal(quoted, &s) != nil {
		r.fail()
	}
	return s
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (r *answerReader) literal(word string) {
	if len(r.data)-r.pos < len(word) || string(r.data[r.pos:r.pos+len(word)]) != word {
		r.fail()
		return
	}
	r.pos += len(word)
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *answerReader) number() {
	if r.pos < len(r.data) && r.data[r.pos] == '-' {
		r.pos++
	}
	switch {
	case r.pos < len(r.data) && r.data[r.pos] == '0':
		r.pos++
	case r.pos < len(r.data) && '1' <= r.data[r.pos] && r.data[r.pos] <= '9':
		r.digits()
	default:
		r.fail()
		return
	}
	if r.pos < len(r.data) && r.data[r.pos] == '.' {
		r.pos++
		if !r.digits() {
			r.fail()
			return
		}
	}
	if r.pos < len(r.data) && (r.data[r.pos] == 'e' || r.data[r.pos] == 'E') {
		r.pos++
		if r.pos < len(r.data) && (r.data[r.pos] == '+' || r.data[r.pos] == '-') {
			r.pos++
		}
		if !r.digits() {
			r.fail()
		}
	}
}

// digits reads one or more digits and reports whether there was one.
func (r *answerReader) digits() bool {
	start := r.pos
	for r.pos < len(r.data) && '0' <= r.data[r.pos] && r.data[r.pos] <= '9' {
		r.pos++
	}
	return r.pos > start
}
