package main

import (
	"encoding/json"
	"testing"
)

func TestSafeText(t *testing.T) {
	for _, tc := range []struct {
		name, in, text, line string
	}{
		{"plain", "GET /health: 200", "GET /health: 200", "GET /health: 200"},
		{"empty", "", "", ""},
		{"newline and tab", "a\tb\nc", "a\tb\nc", "a^Ib^Jc"},
		{"title change", "\x1b]0;pwned\x07x", "^[]0;pwned^Gx", "^[]0;pwned^Gx"},
		{"clear screen", "\x1b[2J\x1b[H", "^[[2J^[[H", "^[[2J^[[H"},
		{"NUL, backspace, DEL", "a\x00b\bc\x7f", "a^@b^Hc^?", "a^@b^Hc^?"},
		{"CRLF line endings", "one\r\ntwo\r", "one\ntwo", "one^Jtwo"},
		{"bare carriage return", "100%\rdone", "100%^Mdone", "100%^Mdone"},
		{"C1 CSI as UTF-8", "a\u009b31mb", `a\u009b31mb`, `a\u009b31mb`},
		{"C1 range ends", "\u0080\u009f\u00a0", `\u0080\u009f` + "\u00a0", `\u0080\u009f` + "\u00a0"},
		{"invalid UTF-8", "a\x9b31m\xffb", `a\x9b31m\xffb`, `a\x9b31m\xffb`},
		{"truncated rune", "é\xc3", `é\xc3`, `é\xc3`},
		{"unicode kept", "héllo ✔ 日本 \ufffd", "héllo ✔ 日本 \ufffd", "héllo ✔ 日本 \ufffd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := safeText(tc.in); got != tc.text {
				t.Errorf("safeText(%q) = %q, want %q", tc.in, got, tc.text)
			}
			if got := safeLine(tc.in); got != tc.line {
				t.Errorf("safeLine(%q) = %q, want %q", tc.in, got, tc.line)
			}
		})
	}
}

func TestSafeJSON(t *testing.T) {
	in := map[string]string{"detail": "a\x1b[2J\x7f\u009b\u00e9\x9bz"}
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	got := safeJSON(raw)
	want := `{"detail":"a\u001b[2J\u007f\u009bé\ufffdz"}`
	if string(got) != want {
		t.Errorf("safeJSON = %s, want %s", got, want)
	}
	for _, c := range got {
		if c < 0x20 || c == 0x7f {
			t.Fatalf("control byte %#x left in %q", c, got)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(got, &back); err != nil || back["detail"] != "a\x1b[2J\x7f\u009bé\ufffdz" {
		t.Errorf("decodes to %q (%v), want the text with only the invalid byte replaced", back["detail"], err)
	}
	if plain := []byte(`{"a":"b"}`); &safeJSON(plain)[0] != &plain[0] {
		t.Error("JSON without DEL or C1 was copied")
	}
}
