package starlark

import (
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// Brief renders a user's value for a message as str() would, but at most
// about briefLen characters and briefDepth levels deep. A message is worth
// little time: str() of a list nested 100,000 levels deep takes minutes
// (starlark-go checks every level against all the levels above it), a
// deeper tuple overflows the stack, and a 1GiB string is no message.
func Brief(v starlark.Value) string {
	b := &briefWriter{}
	b.value(v, 0)
	return b.String()
}

const (
	briefLen   = 120
	briefDepth = 4
)

type briefWriter struct {
	strings.Builder
}

func (b *briefWriter) room() int { return max(briefLen-b.Len(), 0) }

func (b *briefWriter) value(v starlark.Value, depth int) {
	switch v := v.(type) {
	case starlark.String:
		if s := string(v); len(s) > b.room() {
			b.WriteString(syntax.Quote(s[:b.room()], false) + "…")
		} else {
			b.WriteString(syntax.Quote(s, false))
		}
	case starlark.Bytes:
		if s := string(v); len(s) > b.room() {
			b.WriteString(syntax.Quote(s[:b.room()], true) + "…")
		} else {
			b.WriteString(syntax.Quote(s, true))
		}
	case *starlark.List:
		b.elems("[", "]", v, depth, func(x starlark.Value) { b.value(x, depth+1) })
	case starlark.Tuple:
		closing := ")"
		if len(v) == 1 {
			closing = ",)"
		}
		b.elems("(", closing, v, depth, func(x starlark.Value) { b.value(x, depth+1) })
	case *starlark.Set:
		b.elems("set([", "])", v, depth, func(x starlark.Value) { b.value(x, depth+1) })
	case *starlark.Dict:
		b.elems("{", "}", v, depth, func(k starlark.Value) {
			val, _, _ := v.Get(k)
			b.value(k, depth+1)
			b.WriteString(": ")
			b.value(val, depth+1)
		})
	case *starlarkstruct.Struct:
		b.WriteString("struct(")
		for i, name := range v.AttrNames() {
			if depth >= briefDepth || b.room() == 0 {
				b.WriteString("…")
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(name + " = ")
			field, _ := v.Attr(name)
			b.value(field, depth+1)
		}
		b.WriteString(")")
	default: // scalars, functions, opdeploy's own values: short
		if s := v.String(); len(s) > b.room() {
			b.WriteString(s[:b.room()] + "…")
		} else {
			b.WriteString(s)
		}
	}
}

// elems writes the elements of x (the keys of a dict) with each, between
// open and closing, and "…" for those past the depth or the room left.
// It stops iterating there, so a long list costs no more than a short one.
func (b *briefWriter) elems(open, closing string, x starlark.Iterable, depth int, each func(starlark.Value)) {
	b.WriteString(open)
	iter := x.Iterate()
	defer iter.Done()
	var elem starlark.Value
	for i := 0; iter.Next(&elem); i++ {
		if depth >= briefDepth || b.room() == 0 {
			b.WriteString("…")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		each(elem)
	}
	b.WriteString(closing)
}
