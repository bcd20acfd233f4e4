package suite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The path language of the `json` command: a small subset of jq, enough to
// reach a field of `status --json` or `check --json` and count things.
//
//	.                      the whole document
//	.key  ."any key"       a field of an object (null when it is absent)
//	[N]   .[N]             element N of an array, from 0; negative counts from the end
//	[]    .[]              every element of an array (or value of an object)
//	| length               the length of an array, object or string; 0 for null
//
// Steps chain: `.services[0].state`, `.services[].ready`, `.services | length`.
// A path through [] yields several values; the assertion must hold for
// every one of them (and there must be at least one).

// jsonValue is one value a path yields, with the concrete path that
// reached it, for messages.
type jsonValue struct {
	path string
	v    any
	note string // why the value is null, when a key or index was missing
}

type step struct {
	kind  byte // '.', '[', '*', 'l' (key, index, every, length)
	key   string
	index int
}

// parsePath parses a path of the language above.
func parsePath(src string) ([]step, error) {
	bad := func(format string, args ...any) ([]step, error) {
		return nil, fmt.Errorf("path %q: %s", src, fmt.Sprintf(format, args...))
	}
	var steps []step
	s := strings.TrimSpace(src)
	if !strings.HasPrefix(s, ".") {
		return bad("must start with '.'")
	}
	if s == "." {
		return nil, nil
	}
	if rest := strings.TrimLeft(s[1:], " "); strings.HasPrefix(rest, "|") {
		s = rest // ". | length": the document itself, then length
	}
	for s != "" {
		switch {
		case strings.HasPrefix(s, "|"):
			rest := strings.TrimSpace(s[1:])
			if !strings.HasPrefix(rest, "length") {
				return bad("after '|' only length is supported")
			}
			steps = append(steps, step{kind: 'l'})
			s = strings.TrimSpace(rest[len("length"):])
		case strings.HasPrefix(s, ".["), strings.HasPrefix(s, "["):
			s = strings.TrimPrefix(s, ".")
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return bad("missing ']'")
			}
			inner := strings.TrimSpace(s[1:end])
			if inner == "" {
				steps = append(steps, step{kind: '*'})
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil {
					return bad("[%s]: want an index such as [0] or [-1], or [] for every element", inner)
				}
				steps = append(steps, step{kind: '[', index: n})
			}
			s = s[end+1:]
		case strings.HasPrefix(s, `."`):
			key, n, err := quotedKey(s[1:])
			if err != nil {
				return bad("%v", err)
			}
			steps = append(steps, step{kind: '.', key: key})
			s = s[1+n:]
		case strings.HasPrefix(s, "."):
			n := 1
			for n < len(s) && isKeyByte(s[n]) {
				n++
			}
			if n == 1 {
				return bad("'.' must be followed by a key, \"a quoted key\" or [index]")
			}
			steps = append(steps, step{kind: '.', key: s[1:n]})
			s = s[n:]
		default:
			return bad("unexpected %q", s)
		}
		s = strings.TrimLeft(s, " ")
		if len(steps) > 0 && steps[len(steps)-1].kind == 'l' && s != "" && !strings.HasPrefix(s, "|") {
			return bad("nothing may follow length but another | length")
		}
	}
	return steps, nil
}

func isKeyByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// quotedKey reads a JSON string at the start of s, returning it and its
// length in s.
func quotedKey(s string) (string, int, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	var key string
	if err := dec.Decode(&key); err != nil {
		return "", 0, fmt.Errorf("bad quoted key: %v", err)
	}
	return key, int(dec.InputOffset()), nil
}

// evalPath applies the steps to the document.
func evalPath(doc any, steps []step) ([]jsonValue, error) {
	vals := []jsonValue{{path: "", v: doc}}
	for _, st := range steps {
		var next []jsonValue
		for _, jv := range vals {
			out, err := applyStep(jv, st)
			if err != nil {
				return nil, err
			}
			next = append(next, out...)
		}
		vals = next
	}
	for i := range vals {
		if vals[i].path == "" {
			vals[i].path = "."
		}
	}
	return vals, nil
}

func applyStep(jv jsonValue, st step) ([]jsonValue, error) {
	here := jv.path
	if here == "" {
		here = "."
	}
	switch st.kind {
	case '.':
		p := jv.path + "." + st.key
		if !isPlainKey(st.key) {
			q, _ := json.Marshal(st.key)
			p = jv.path + "." + string(q)
		}
		switch x := jv.v.(type) {
		case nil:
			return []jsonValue{{path: p, note: jv.note}}, nil
		case map[string]any:
			v, ok := x[st.key]
			if !ok {
				return []jsonValue{{path: p, note: fmt.Sprintf("no key %q in %s (keys: %s)", st.key, here, keysOf(x))}}, nil
			}
			return []jsonValue{{path: p, v: v}}, nil
		default:
			return nil, fmt.Errorf("%s is %s, not an object: cannot take .%s", here, kindOf(jv.v), st.key)
		}
	case '[':
		p := fmt.Sprintf("%s[%d]", jv.path, st.index)
		switch x := jv.v.(type) {
		case nil:
			return []jsonValue{{path: p, note: jv.note}}, nil
		case []any:
			i := st.index
			if i < 0 {
				i += len(x)
			}
			if i < 0 || i >= len(x) {
				return []jsonValue{{path: p, note: fmt.Sprintf("%s has %d elements", here, len(x))}}, nil
			}
			return []jsonValue{{path: p, v: x[i]}}, nil
		default:
			return nil, fmt.Errorf("%s is %s, not an array: cannot take [%d]", here, kindOf(jv.v), st.index)
		}
	case '*':
		switch x := jv.v.(type) {
		case []any:
			out := make([]jsonValue, len(x))
			for i, v := range x {
				out[i] = jsonValue{path: fmt.Sprintf("%s[%d]", jv.path, i), v: v}
			}
			return out, nil
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			out := make([]jsonValue, len(keys))
			for i, k := range keys {
				out[i] = jsonValue{path: jv.path + "." + k, v: x[k]}
			}
			return out, nil
		default:
			return nil, fmt.Errorf("%s is %s: cannot take [] of it", here, kindOf(jv.v))
		}
	default: // length
		p := here + " | length"
		var n int
		switch x := jv.v.(type) {
		case nil:
		case []any:
			n = len(x)
		case map[string]any:
			n = len(x)
		case string:
			n = utf8.RuneCountInString(x)
		default:
			return nil, fmt.Errorf("%s is %s, which has no length", here, kindOf(jv.v))
		}
		return []jsonValue{{path: p, v: float64(n)}}, nil
	}
}

func isPlainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if !isKeyByte(k[i]) {
			return false
		}
	}
	return k != ""
}

func keysOf(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	default:
		return "an object"
	}
}

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
