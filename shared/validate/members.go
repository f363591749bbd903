package validate

// Members calls fn with the name and raw value of each member of the JSON object data, in
// order, building nothing: name and value are slices of data (a name with escapes is
// unescaped into a buffer), valid only during the call. It reports whether data is exactly
// one well-formed JSON object, white space around it aside; fn may have been called before
// a syntax error was found. A trigger looks at an event's shape this way before decoding it.
func Members(data []byte, fn func(name, value []byte)) bool {
	s := scanner{data: data}
	if !s.expect('{', "looking for beginning of value") {
		return false
	}
	for first := true; s.more('}', first); first = false {
		name := s.str()
		if !s.expect(':', "after object key") {
			return false
		}
		s.skipSpace()
		start := s.pos
		s.skip(1)
		if s.err != nil {
			return false
		}
		fn(name, data[start:s.pos])
	}
	return s.end()
}

// Items calls fn with the raw value of each item of the JSON array data, as Members does.
func Items(data []byte, fn func(value []byte)) bool {
	s := scanner{data: data}
	if !s.expect('[', "looking for beginning of value") {
		return false
	}
	for first := true; s.more(']', first); first = false {
		s.skipSpace()
		start := s.pos
		s.skip(1)
		if s.err != nil {
			return false
		}
		fn(data[start:s.pos])
	}
	return s.end()
}

// end reports whether the scan succeeded and nothing but white space is left.
func (s *scanner) end() bool {
	s.skipSpace()
	return s.err == nil && s.pos == len(s.data)
}
