package main

import (
	"bytes"
	"fmt"
	"strings"
)

// The marker lines of a generated region: a line containing beginMarker+name and, further
// down, one containing endMarker+name, each in the file's own comment syntax ("# ...",
// "<!-- ... -->"). The name ends at the end of the line or at a space or colon.
const (
	beginMarker = "BEGIN GENERATED "
	endMarker   = "END GENERATED "
)

// replaceRegion returns src with the lines between region name's marker lines replaced by
// body (whole lines, ending in a newline, or empty). It fails unless src has exactly one
// such region, so that a marker lost in an edit is never silently skipped.
func replaceRegion(src []byte, name, body string) ([]byte, error) {
	if body != "" && !strings.HasSuffix(body, "\n") {
		return nil, fmt.Errorf("region %s: the generated text does not end a line", name)
	}
	lines := bytes.SplitAfter(src, []byte("\n"))
	begin, end := -1, -1
	for i, l := range lines {
		switch {
		case marks(l, beginMarker+name):
			if begin >= 0 {
				return nil, fmt.Errorf("region %s begins twice (lines %d and %d)", name, begin+1, i+1)
			}
			begin = i
		case marks(l, endMarker+name):
			if end >= 0 {
				return nil, fmt.Errorf("region %s ends twice (lines %d and %d)", name, end+1, i+1)
			}
			end = i
		}
	}
	switch {
	case begin < 0:
		return nil, fmt.Errorf("no %q line: where does region %s go?", beginMarker+name, name)
	case end < 0:
		return nil, fmt.Errorf("region %s (line %d) has no %q line", name, begin+1, endMarker+name)
	case end < begin:
		return nil, fmt.Errorf("region %s ends (line %d) before it begins (line %d)", name, end+1, begin+1)
	}
	var out bytes.Buffer
	for _, l := range lines[:begin+1] {
		out.Write(l)
	}
	out.WriteString(body)
	for _, l := range lines[end:] {
		out.Write(l)
	}
	return out.Bytes(), nil
}

// marks reports whether line holds marker, the whole of its name.
func marks(line []byte, marker string) bool {
	i := bytes.Index(line, []byte(marker))
	if i < 0 {
		return false
	}
	rest := bytes.TrimRight(line[i+len(marker):], "\r\n")
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == ':'
}
