package op

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends r as JSON: the bytes encoding/json's Encoder writes for r with
// SetEscapeHTML(false) (what aws-lambda-go sends), without the newline it ends with.
//
// It is the encoder of the answers a trigger sends, because encoding/json checks every
// json.RawMessage again, byte by byte, as it copies it: with a provider's answer of 1.5 kB in
// Response that check was ten times the cost of encoding the rest of the result. Response and
// Request are JSON that was checked already (Response is the provider's answer, which its
// client reads whole before it makes a result of it, or a stored result's; Request is lbfn's
// own encoding), so they are only compacted here, as encoding/json compacts them.
func (r *Result) AppendJSON(b []byte) []byte {
	b = slices.Grow(b, 300+len(r.Response)+len(r.Request)) // the names and ids take less than 300 bytes
	b = append(b, `{"ok":`...)
	b = strconv.AppendBool(b, r.OK)
	b = appendMember(b, "function", r.Function, false)
	b = appendMember(b, "provider", r.Provider, false)
	b = appendMember(b, "status", string(r.Status), true)
	b = appendMember(b, "id", r.ID, true)
	b = appendMember(b, "requestId", r.RequestID, true)
	if r.Attempts != 0 {
		b = append(b, `,"attempts":`...)
		b = strconv.AppendInt(b, int64(r.Attempts), 10)
	}
	b = appendMember(b, "idempotencyKey", r.IdempotencyKey, true)
	if len(r.Response) > 0 {
		b = append(b, `,"response":`...)
		b = appendCompact(b, r.Response)
	}
	b = appendMember(b, "clientToken", r.ClientToken, true)
	if r.RetryAfterSeconds != 0 {
		b = append(b, `,"retryAfterSeconds":`...)
		b = strconv.AppendInt(b, int64(r.RetryAfterSeconds), 10)
	}
	if len(r.Request) > 0 {
		b = append(b, `,"request":`...)
		b = appendCompact(b, r.Request)
	}
	if r.Error != nil {
		// Rare, small, and its own MarshalJSON decides its form (which escapes HTML, as
		// encoding/json's Encoder leaves it): written as the Encoder writes a Marshaler.
		e, _ := r.Error.MarshalJSON() // a struct of strings, bools, ints and violations: never fails
		b = append(b, `,"error":`...)
		b = append(b, e...)
	}
	return append(b, '}')
}

// appendMember appends ,"name":value, or nothing when omitEmpty and value is empty.
func appendMember(b []byte, name, value string, omitEmpty bool) []byte {
	if omitEmpty && value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// appendString appends s as a JSON string. Names, ids and keys need no escaping and are
// copied as they are; any other string is written by encoding/json, so that its escapes are
// exactly encoding/json's.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendCompact appends the JSON value v without the whitespace between its tokens, as
// encoding/json writes a json.RawMessage. v must be valid JSON: it is not checked.
func appendCompact(b, v []byte) []byte {
	start := 0 // of the part of v not appended yet
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			i = stringEnd(v, i)
		case ' ', '\t', '\n', '\r':
			b = append(b, v[start:i]...)
			start = i + 1
		}
	}
	return append(b, v[start:]...)
}

// stringEnd returns the index of the quote closing the string that opens at v[open]: the
// first quote after it not escaped by an odd number of backslashes (len(v) if there is none).
func stringEnd(v []byte, open int) int {
	for i := open + 1; ; i++ {
		q := bytes.IndexByte(v[i:], '"')
		if q < 0 {
			return len(v)
		}
		i += q
		backslashes := 0
		for j := i - 1; j > open && v[j] == '\\'; j-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return i
		}
	}
}
