package suite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
)

// The assertions of the `json` command: PATH (jsonpath.go) OP VALUE, on
// the output of the last command.

// parseDocument reads the text a command printed: one JSON value, or
// several (JSON lines, as `run --progress json` prints), which then count
// as an array of them.
func parseDocument(text string) (any, error) {
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("no output to read: json reads the last command's output (e.g. of status --json)")
	}
	dec := json.NewDecoder(strings.NewReader(text))
	var docs []any
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("output is not JSON: %v (it begins %q)", err, firstLineOf(text))
		}
		docs = append(docs, v)
	}
	if len(docs) == 1 {
		return docs[0], nil
	}
	return docs, nil
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if len(line) > 60 {
		line = line[:60] + "…"
	}
	return line
}

// parseOperand reads the VALUE of an assertion: JSON when it is valid
// JSON (true, 3, null, "text", [1,2]), otherwise the text itself, so that
// `== running` needs no quotes.
func parseOperand(s string) any {
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&v); err == nil && !dec.More() {
		if _, err := dec.Token(); err == io.EOF {
			return v
		}
	}
	return s
}

// ops are the comparisons `json` knows.
var ops = []string{"==", "!=", "<", "<=", ">", ">=", "~"}

// compare reports whether got OP want holds.
func compare(got any, op, want string) (bool, error) {
	if op == "~" {
		re, err := regexp.Compile(want)
		if err != nil {
			return false, fmt.Errorf("bad regexp %q: %v", want, err)
		}
		s, ok := got.(string)
		if !ok {
			s = render(got)
		}
		return re.MatchString(s), nil
	}
	w := parseOperand(want)
	switch op {
	case "==":
		return reflect.DeepEqual(got, w), nil
	case "!=":
		return !reflect.DeepEqual(got, w), nil
	}
	var c int
	switch g := got.(type) {
	case float64:
		wn, ok := w.(float64)
		if !ok {
			return false, fmt.Errorf("%s compares numbers; %q is not a number", op, want)
		}
		c = cmpOrdered(g, wn)
	case string:
		ws, ok := w.(string)
		if !ok {
			return false, fmt.Errorf("%s compares two numbers or two strings; %s is not a string", op, want)
		}
		c = strings.Compare(g, ws)
	default:
		return false, fmt.Errorf("%s compares numbers or strings, not %s", op, kindOf(got))
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	case ">=":
		return c >= 0, nil
	}
	return false, fmt.Errorf("unknown operator %q (want one of %s)", op, strings.Join(ops, " "))
}

func cmpOrdered(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// render shows a JSON value as JSON, compactly.
func render(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

// checkJSON evaluates `PATH OP VALUE` on a command's output. With any, one
// value the path yields must satisfy it; otherwise every one must. When it
// does not hold, why says which value did not, and what it was. err is for
// what cannot be evaluated at all (a bad path, output that is not JSON),
// which fails a script whether or not the assertion was negated.
func checkJSON(text, path, op, want string, any bool) (holds bool, why string, err error) {
	if !validOp(op) {
		return false, "", fmt.Errorf("unknown operator %q (want one of %s)", op, strings.Join(ops, " "))
	}
	steps, err := parsePath(path)
	if err != nil {
		return false, "", err
	}
	doc, err := parseDocument(text)
	if err != nil {
		return false, "", err
	}
	vals, err := evalPath(doc, steps)
	if err != nil {
		return false, "", err
	}
	if len(vals) == 0 {
		return false, "", fmt.Errorf("%s yields no value (an empty array or object)", path)
	}
	var failed []jsonValue
	for _, jv := range vals {
		ok, err := compare(jv.v, op, want)
		if err != nil {
			return false, "", fmt.Errorf("%s: %v", jv.path, err)
		}
		if ok && any {
			return true, "", nil
		}
		if !ok {
			failed = append(failed, jv)
		}
	}
	if len(failed) == 0 {
		return true, "", nil
	}
	if any {
		var got []string
		for _, jv := range vals {
			got = append(got, render(jv.v))
		}
		return false, fmt.Sprintf("no value of %s is %s %s: got %s", path, op, want, strings.Join(got, ", ")), nil
	}
	f := failed[0]
	why = fmt.Sprintf("%s is %s, want %s %s", f.path, render(f.v), op, want)
	if f.note != "" {
		why += " (" + f.note + ")"
	}
	if len(failed) > 1 {
		why += fmt.Sprintf("; %d of %d values fail", len(failed), len(vals))
	}
	return false, why, nil
}

func validOp(op string) bool {
	for _, o := range ops {
		if o == op {
			return true
		}
	}
	return false
}
