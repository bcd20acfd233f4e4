package suite

import (
	"encoding/json"
	"fmt"
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
