package starlark

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	gotime "time"

	"go.starlark.net/lib/time"
	"go.starlark.net/starlark"
)

// maxValueDepth bounds how deeply a value handed to compose may nest.
// Compose files nest a handful of levels (services.web.healthcheck.test).
// Deeper values are mistakes, and costly ones: compose-go splits a value's
// dotted path at every level it visits, so its work grows with the square
// of the depth (3,000 levels took 22 s), and a value that contains itself
// would never end.
const maxValueDepth = 100

// toGo converts a Starlark value built as compose YAML would be into plain
// Go values for compose-go. root names the value for messages
// ("services").
func toGo(v starlark.Value, root string) (any, error) {
	c := &converter{root: root}
	return c.convert(v)
}

// converter walks one value. The path to the value being converted is kept
// as a stack of raw keys and formatted only for an error, so converting
// costs time in proportion to the value's size, whatever its depth.
type converter struct {
	root  string
	path  []pathElem
	depth int              // lists, tuples and dicts around the current value
	outer []starlark.Value // those same containers, outermost first
}

type pathElem struct {
	key   string
	index int // when key is not set
	isKey bool
}

func (c *converter) convert(v starlark.Value) (any, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.Bool:
		return bool(v), nil
	case starlark.String:
		return string(v), nil
	case starlark.Int:
		n, ok := v.Int64()
		if !ok {
			return nil, c.errorf("integer %s is too large", Brief(v))
		}
		return int(n), nil
	case starlark.Float:
		return float64(v), nil
	case time.Duration:
		return gotime.Duration(v).String(), nil
	case *imageValue:
		return v.spec.Tag, nil
	case *starlark.List, starlark.Tuple:
		if err := c.enter(v); err != nil {
			return nil, err
		}
		defer c.leave()
		seq := v.(starlark.Indexable)
		out := make([]any, 0, seq.Len())
		for i := 0; i < seq.Len(); i++ {
			c.path = append(c.path, pathElem{index: i})
			g, err := c.convert(seq.Index(i))
			c.path = c.path[:len(c.path)-1]
			if err != nil {
				return nil, err
			}
			out = append(out, g)
		}
		return out, nil
	case *starlark.Dict:
		if err := c.enter(v); err != nil {
			return nil, err
		}
		defer c.leave()
		items := v.Items()
		keys := make([]string, len(items))
		for i, item := range items {
			k, ok := starlark.AsString(item[0])
			if !ok {
				return nil, c.errorf("key %s: got %s, want string", Brief(item[0]), item[0].Type())
			}
			keys[i] = k
		}
		// Sorted, so messages about the first bad entry are stable.
		order := make([]int, len(items))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return keys[order[a]] < keys[order[b]] })
		out := make(map[string]any, len(items))
		for _, i := range order {
			c.path = append(c.path, pathElem{key: keys[i], isKey: true})
			g, err := c.convert(items[i][1])
			c.path = c.path[:len(c.path)-1]
			if err != nil {
				return nil, err
			}
			out[keys[i]] = g
		}
		return out, nil
	}
	return nil, c.errorf("got %s, want a compose value (string, int, float, bool, None, list or dict)", v.Type())
}

// enter refuses a list, tuple or dict nested too deeply or inside itself.
// Only lists and dicts can contain themselves, and only they are compared:
// tuples are not comparable as Go values.
func (c *converter) enter(v starlark.Value) error {
	switch v.(type) {
	case *starlark.List, *starlark.Dict:
		for _, o := range c.outer {
			if o == v {
				return c.errorf("the value contains itself")
			}
		}
	}
	if c.depth == maxValueDepth {
		return c.errorf("nested more than %d levels deep (compose files nest a few)", maxValueDepth)
	}
	c.depth++
	c.outer = append(c.outer, v)
	return nil
}

func (c *converter) leave() {
	c.depth--
	c.outer = c.outer[:len(c.outer)-1]
}

func (c *converter) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", c.where(), fmt.Sprintf(format, args...))
}

// where formats the path for a message: services["web"]["ports"][0]. A
// path deeper than a message can usefully show keeps its first levels,
// where the value is found, and says how many more there are.
func (c *converter) where() string {
	const shown, maxKey = 8, 40
	var b strings.Builder
	b.WriteString(c.root)
	for i, e := range c.path {
		if i == shown && len(c.path) > shown+1 {
			fmt.Fprintf(&b, "…(%d levels more)", len(c.path)-shown)
			break
		}
		switch {
		case !e.isKey:
			b.WriteString("[" + strconv.Itoa(e.index) + "]")
		case len(e.key) > maxKey:
			b.WriteString("[" + strconv.Quote(e.key[:maxKey]) + "…]")
		default:
			b.WriteString("[" + strconv.Quote(e.key) + "]")
		}
	}
	return b.String()
}
