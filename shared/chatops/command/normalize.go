package command

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Normalize undoes what chat clients and input methods do to typed text, so that one grammar
// serves every platform:
//
//   - full-width ASCII (U+FF01–U+FF5E: ＝ ， ： ［ ］ ｛ ｝ ＂ ｃｒｅａｔｅ ８０, from Chinese and
//     Japanese input methods) becomes ASCII, and 【 】 (a Chinese input method's [ ]) become [ ];
//   - curly quotes “ ” ‘ ’ (iOS and macOS smart punctuation, Chinese input methods), „ and
//     「 」 become ASCII quotes;
//   - an em or en dash (or a run of them, or a Chinese input method's ——) where a word
//     starts becomes "--": smart punctuation turns a typed "--dry-run" into "—dry-run";
//   - U+3000, no-break and other Unicode spaces, tabs and line breaks become a plain space,
//     and invisible characters (zero-width spaces and joiners, BOM, soft hyphen) are dropped;
//   - invalid UTF-8 becomes U+FFFD.
//
// Text inside quotes is the user's own and is kept as typed (a Chinese description keeps its
// ，and 。); only its quote marks are made ASCII. A quote mark opens a quoted text only where
// a value or a JSON string can start (after a space, =, :, ,, [ or {), so the apostrophe in
// don’t stays an apostrophe. Parse calls Normalize itself.
func Normalize(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case quoteClass(r) != 0 && opensValue(b.String()):
			i = quoted(&b, s, i)
			continue
		case isDash(r) && startsWord(b.String()):
			j := i
			ascii := true
			for j < len(s) {
				d, n := utf8.DecodeRuneInString(s[j:])
				if !isDash(d) {
					break
				}
				ascii = ascii && d == '-'
				j += n
			}
			if ascii {
				b.WriteString(s[i:j])
			} else {
				b.WriteString("--")
			}
			i = j
			continue
		}
		writePlain(&b, r)
		i += size
	}
	return b.String()
}

// writePlain writes r, found outside quotes, as the grammar reads it.
func writePlain(b *strings.Builder, r rune) {
	switch {
	case r > ' ' && r < utf8.RuneSelf: // most of a command
		b.WriteByte(byte(r))
	case r >= 0xFF01 && r <= 0xFF5E:
		b.WriteRune(r - 0xFEE0)
	case r == '【':
		b.WriteByte('[')
	case r == '】':
		b.WriteByte(']')
	case invisible(r):
	case unicode.IsSpace(r) || unicode.Is(unicode.Zs, r):
		b.WriteByte(' ')
	default:
		if q := quoteClass(r); q != 0 { // a quote inside a word: an apostrophe, say
			b.WriteByte(q)
			return
		}
		b.WriteRune(r)
	}
}

// quoted copies the quoted text starting at s[i] (an opening quote mark) to b with ASCII
// quotes and returns where it ends. A text opened by an ASCII quote ends only at the same
// ASCII quote; one opened by a typographic or full-width mark ends at any mark of its kind,
// since smart punctuation picks “ or ” by what precedes, not by which end it is. Inside double
// quotes a backslash escapes the next character (as in JSON). An unterminated text runs to the
// end, without a closing quote, for Parse to report.
func quoted(b *strings.Builder, s string, i int) int {
	open, size := utf8.DecodeRuneInString(s[i:])
	class := quoteClass(open)
	ascii := open == '"' || open == '\''
	corner := open == '「'
	b.WriteByte(class)
	i += size
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case class == '"' && r == '\\' && !corner:
			b.WriteByte('\\')
			i += size
			if i < len(s) {
				e, n := utf8.DecodeRuneInString(s[i:])
				if quoteClass(e) == '"' {
					b.WriteByte('"') // an escaped quote that smart punctuation curled
				} else {
					b.WriteString(s[i : i+n])
				}
				i += n
			}
			continue
		case closes(open, r, ascii, corner) && (r != '’' || !wordFollows(s[i+size:])):
			b.WriteByte(class)
			return i + size
		case corner && (r == '"' || r == '\\'):
			// 「…」 has no escapes of its own; written as "…", its quotes and backslashes must be.
			b.WriteByte('\\')
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return i
}

func closes(open, r rune, ascii, corner bool) bool {
	switch {
	case corner:
		return r == '」'
	case ascii:
		return r == open
	}
	return quoteClass(r) == quoteClass(open) && r != '「'
}

// wordFollows reports whether s starts with a letter or digit: a ’ there is an apostrophe
// (don’t), not a closing quote.
func wordFollows(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// quoteClass is the ASCII quote, double or single, that a mark stands for, else 0.
func quoteClass(r rune) byte {
	switch r {
	case '"', '“', '”', '„', '‟', '＂', '「':
		return '"'
	case '\'', '‘', '’', '‚', '‛', '＇':
		return '\''
	}
	return 0
}

// opensValue reports whether a quote after written text starts a quoted value or JSON
// string rather than sitting inside a word.
func opensValue(written string) bool {
	if written == "" {
		return true
	}
	switch written[len(written)-1] {
	case ' ', '=', ':', ',', '[', '{':
		return true
	}
	return false
}

func startsWord(written string) bool {
	return written == "" || written[len(written)-1] == ' '
}

func isDash(r rune) bool {
	switch r {
	case '-', '‐', '‑', '‒', '–', '—', '―', '−', '﹣', '－':
		return true
	}
	return false
}

func invisible(r rune) bool {
	switch r {
	case '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD', '\u200E', '\u200F':
		return true
	}
	return false
}
