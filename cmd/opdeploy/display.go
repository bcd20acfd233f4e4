package main

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text that comes from containers — log lines, healthcheck output, an HTTP
// body, exec output — reaches opdeploy's messages for a person. A terminal
// acts on control characters in it: a container could retitle the window,
// clear the screen or overwrite the lines above. Everything opdeploy prints
// for a person therefore goes through safeText (or safeLine) first, and
// only then gets opdeploy's own colours and cursor movements.
//
// The rendering (docs/cli.md, Errors):
//   - newline and tab are kept (safeLine shows them too, as ^J and ^I);
//   - a carriage return that ends a line (CRLF) is dropped, any other is
//     shown as ^M;
//   - the other C0 controls and DEL in caret notation: ESC as ^[, BEL as
//     ^G, NUL as ^@, DEL as ^?;
//   - C1 controls (U+0080–U+009F), which some terminals obey as ESC
//     sequences, as \u009b;
//   - bytes that are not UTF-8, which an 8-bit terminal may read as C1
//     controls, as \x9b.
//
// The escapes are for reading, not for decoding: a container that prints
// a literal "^[" looks the same as one that prints ESC.

// safeText returns s with every control character but newline and tab
// made visible.
func safeText(s string) string { return makeVisible(s, false) }

// safeLine is safeText for text that must stay on one line (a table cell,
// a line the progress display redraws in place): newline and tab are
// shown as ^J and ^I too.
func safeLine(s string) string { return makeVisible(s, true) }

func makeVisible(s string, oneLine bool) string {
	if isPlainASCII(s, oneLine) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case (r == '\n' || r == '\t') && !oneLine:
			b.WriteByte(byte(r))
		case r == '\r' && (i+1 == len(s) || s[i+1] == '\n'):
			// a line ending (CRLF), not a cursor movement
		case r < 0x20:
			b.WriteByte('^')
			b.WriteByte(byte(r) + 0x40)
		case r == 0x7f:
			b.WriteString("^?")
		case 0x80 <= r && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isPlainASCII reports whether s is printable ASCII (with newlines and
// tabs unless oneLine), which needs no change: the common case, kept
// free of allocations.
func isPlainASCII(s string, oneLine bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x7f || c < 0x20 && (oneLine || c != '\n' && c != '\t') {
			return false
		}
	}
	return true
}

// safeJSON escapes, in encoding/json output, the control characters that
// package leaves raw: DEL and the C1 controls (it already escapes C0 and
// replaces invalid UTF-8). JSON output thus keeps the exact text, as \u
// escapes, while its bytes are as harmless on a terminal as safeText's.
// Outside strings JSON is ASCII, so these bytes can only be inside one,
// where a \u escape means the same character.
func safeJSON(b []byte) []byte {
	if bytes.IndexByte(b, 0x7f) < 0 && bytes.IndexByte(b, 0xc2) < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == 0x7f:
			out = append(out, `\u007f`...)
		case b[i] == 0xc2 && i+1 < len(b) && 0x80 <= b[i+1] && b[i+1] <= 0x9f:
			out = fmt.Appendf(out, `\u%04x`, b[i+1])
			i++
		default:
			out = append(out, b[i])
		}
	}
	return out
}
