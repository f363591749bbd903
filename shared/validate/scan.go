package validate

import (
	"context"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads JSON from a byte slice, one token at a time, without building anything: a
// value the request type does not hold is skipped at the cost of reading it. The first
// syntax error stops the scan (err); every method is a no-op after it.
type scanner struct {
	data []byte
	pos  int
	err  error
	// scratch holds the last string read that had escapes.
	scratch []byte
	// ctx ends the scan early: tick looks at it every tickBytes of input.
	ctx      context.Context
	nextTick int
}

const tickBytes = 16 << 10

// tick reports whether to go on: false (with err set to ctx's) once the context has ended.
func (s *scanner) tick() bool {
	if s.pos < s.nextTick || s.ctx == nil {
		return true
	}
	s.nextTick = s.pos + tickBytes
	if err := s.ctx.Err(); err != nil {
		s.err = err
		return false
	}
	return true
}

// A syntaxError is JSON that is not well formed, with the byte offset where it was noticed.
type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s (at byte %d)", e.msg, e.offset) }

// errUnexpectedEnd is the end of input inside a value.
var errUnexpectedEnd = &syntaxError{msg: "unexpected end of input"}

func (s *scanner) fail(format string, args ...any) {
	if s.err == nil {
		s.err = &syntaxError{msg: fmt.Sprintf(format, args...), offset: s.pos}
	}
}

// failChar reports the byte at pos as unexpected, in encoding/json's words.
func (s *scanner) failChar(context string) {
	if s.pos >= len(s.data) {
		if s.err == nil {
			s.err = errUnexpectedEnd
		}
		return
	}
	s.fail("invalid character %s %s", quoteChar(s.data[s.pos]), context)
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	q := strconv.Quote(string(rune(c)))
	if c >= utf8.RuneSelf {
		q = fmt.Sprintf(`"\x%02x"`, c)
	}
	return "'" + q[1:len(q)-1] + "'"
}

// skipSpace moves past white space and returns the next byte, or 0 at the end of input.
func (s *scanner) skipSpace() byte {
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

// expect consumes c (after white space) or fails.
func (s *scanner) expect(c byte, context string) bool {
	if s.err != nil {
		return false
	}
	if s.skipSpace() != c {
		s.failChar(context)
		return false
	}
	s.pos++
	return true
}

// more reports whether an object or array goes on after a member or item: it consumes the
// ',' before the next one, or the closing delimiter (and then reports false).
func (s *scanner) more(end byte, first bool) bool {
	if s.err != nil {
		return false
	}
	c := s.skipSpace()
	if c == end {
		s.pos++
		return false
	}
	if !first {
		if c != ',' {
			s.failChar("after " + containerName(end))
			return false
		}
		s.pos++
		c = s.skipSpace()
	}
	if end == '}' && c != '"' {
		s.failChar("looking for beginning of object key string")
		return false
	}
	return true
}

func containerName(end byte) string {
	if end == '}' {
		return "object key:value pair"
	}
	return "array element"
}

// str reads a string token (pos at its opening quote) and returns its text: a slice of the
// input when it has no escapes, else of scratch (valid until the next string). Invalid UTF-8
// and lone surrogates become U+FFFD, as encoding/json decodes them.
func (s *scanner) str() []byte {
	if s.err != nil {
		return nil
	}
	s.pos++ // the opening quote
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return s.data[start : s.pos-1]
		case c == '\\' || c >= utf8.RuneSelf:
			return s.slowStr(start)
		case c < 0x20:
			s.fail("invalid character %s in string literal", quoteChar(c))
			return nil
		}
		s.pos++
	}
	s.err = errUnexpectedEnd
	return nil
}

func (s *scanner) slowStr(start int) []byte {
	b := append(s.scratch[:0], s.data[start:s.pos]...)
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			s.scratch = b
			return b
		case c < 0x20:
			s.fail("invalid character %s in string literal", quoteChar(c))
			return nil
		case c == '\\':
			if s.pos+1 >= len(s.data) {
				s.err = errUnexpectedEnd
				return nil
			}
			s.pos++
			switch e := s.data[s.pos]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := s.hex4(s.pos + 1)
				if !ok {
					return nil
				}
				s.pos += 4
				if utf16.IsSurrogate(r) {
					r2, ok2 := rune(-1), false
					if s.pos+2 < len(s.data) && s.data[s.pos+1] == '\\' && s.data[s.pos+2] == 'u' {
						if r2, ok2 = s.hex4(s.pos + 3); !ok2 {
							return nil
						}
					}
					if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
						s.pos += 6
						r = dec
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				s.fail("invalid character %s in string escape code", quoteChar(e))
				return nil
			}
			s.pos++
		case c < utf8.RuneSelf:
			b = append(b, c)
			s.pos++
		default:
			r, size := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, s.data[s.pos:s.pos+size]...)
			}
			s.pos += size
		}
	}
	s.err = errUnexpectedEnd
	return nil
}

// hex4 reads the four hex digits of a \u escape starting at i.
func (s *scanner) hex4(i int) (rune, bool) {
	if i+4 > len(s.data) {
		s.pos = len(s.data)
		s.err = errUnexpectedEnd
		return 0, false
	}
	var r rune
	for j := i; j < i+4; j++ {
		c := s.data[j]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			s.pos = j
			s.fail("invalid character %s in \\u hexadecimal character escape", quoteChar(s.data[j]))
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// number reads a number token (pos at its first byte) and returns its text, checked against
// the JSON grammar.
func (s *scanner) number() []byte {
	start := s.pos
	d := s.data
	i := s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	default:
		s.pos = i
		s.failChar("in numeric literal")
		return nil
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			s.failChar("after decimal point in numeric literal")
			return nil
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			s.failChar("in exponent of numeric literal")
			return nil
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	s.pos = i
	return d[start:i]
}

// literal reads true, false or null (pos at its first byte).
func (s *scanner) literal(word string) {
	for i := 0; i < len(word); i++ {
		if s.pos >= len(s.data) {
			s.err = errUnexpectedEnd
			return
		}
		if s.data[s.pos] != word[i] {
			s.failChar("in literal " + word + " (expecting " + quoteChar(word[i]) + ")")
			return
		}
		s.pos++
	}
}

// kind names the JSON value starting at pos, for messages: "an object", "an integer", ...
// It reads nothing, except that it must look at a number to tell an integer.
func (s *scanner) kind() string {
	if s.pos >= len(s.data) {
		return "nothing"
	}
	switch c := s.data[s.pos]; c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
scan:
	for i := s.pos; i < len(s.data); i++ {
		switch s.data[i] {
		case '.', 'e', 'E':
			return "a number"
		case '-', '+', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		default:
			break scan
		}
	}
	return "an integer"
}

// maxDepth bounds nesting, as encoding/json does, so a hostile body cannot exhaust the stack.
const maxDepth = 1000

// skip reads one value (after white space) without building it. It keeps its own stack of
// open containers, so no depth costs Go stack.
func (s *scanner) skip(depth int) {
	open := 0 // containers opened by this skip
	var stack [64]byte
	ends := stack[:0]
	for s.err == nil && s.tick() {
		c := s.skipSpace()
		switch {
		case c == '{' || c == '[':
			if depth+open >= maxDepth {
				s.fail("nested deeper than %d levels", maxDepth)
				return
			}
			s.pos++
			end := byte(']')
			if c == '{' {
				end = '}'
			}
			ends = append(ends, end)
			open++
			if !s.more(end, true) {
				ends, open = ends[:len(ends)-1], open-1
				break
			}
			if end == '}' {
				s.str()
				s.expect(':', "after object key")
			}
			continue
		case c == '"':
			s.str()
		case c == 't':
			s.literal("true")
		case c == 'f':
			s.literal("false")
		case c == 'n':
			s.literal("null")
		case c == '-' || ('0' <= c && c <= '9'):
			s.number()
		default:
			s.failChar("looking for beginning of value")
			return
		}
		// A value ended: close every container that ends after it.
		for open > 0 && s.err == nil {
			end := ends[len(ends)-1]
			if !s.more(end, false) {
				ends, open = ends[:len(ends)-1], open-1
				continue
			}
			if end == '}' {
				s.str()
				s.expect(':', "after object key")
			}
			break
		}
		if open == 0 {
			return
		}
	}
}
