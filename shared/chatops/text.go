package chatops

import (
	"strings"
	"unicode/utf8"
)

// Truncate returns s cut to at most max bytes on a UTF-8 boundary, ending in "…" when it was
// cut, so a long answer still fits a platform's message limit and stays valid text. Invalid
// UTF-8 in s is replaced first (a platform may reject it).
func Truncate(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	if max < len(ellipsis) {
		return ""
	}
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
