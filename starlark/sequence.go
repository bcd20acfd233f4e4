package starlark

import (
	"fmt"
	"regexp"
	"strings"

	"go.starlark.net/starlark"
)

const builtinSequence = "sequence"

var sequenceNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// sequenceBuiltin implements sequence(name, fn, doc = ""): it registers an
// operational sequence that `opdeploy run FILE NAME` calls with a ctx.
func sequenceBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := atMostPositional(b, args, 2, "name, fn"); err != nil {
		return nil, err
	}
	var (
		name string
		fn   starlark.Callable
		doc  string
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "fn", &fn, "doc?", &doc); err != nil {
		return nil, err
	}
	if !sequenceNameRE.MatchString(name) {
		return nil, fmt.Errorf("%s: invalid name %q: use letters, digits, '-', '_' and '.', starting with a letter or digit", b.Name(), name)
	}
	if err := takesOneArgument(fn); err != nil {
		return nil, fmt.Errorf("%s %q: %v", b.Name(), name, err)
	}
	st := stateOf(thread)
	for _, s := range st.sequences {
		if s.Name == name {
			return nil, fmt.Errorf("%s: %q is already defined at %s", b.Name(), name, s.Pos)
		}
	}
	if doc == "" {
		if f, ok := fn.(*starlark.Function); ok {
			doc = cleanDoc(f.Doc())
		}
	}
	st.sequences = append(st.sequences, &Sequence{Name: name, Doc: doc, Pos: callerPos(thread), Fn: fn})
	return starlark.None, nil
}

// takesOneArgument checks that fn can be called as fn(ctx). Builtins
// cannot be inspected and are accepted.
func takesOneArgument(fn starlark.Callable) error {
	f, ok := fn.(*starlark.Function)
	if !ok {
		return nil
	}
	positional := f.NumParams() - f.NumKwonlyParams()
	if f.HasVarargs() {
		positional-- // *args is counted among the parameters
	}
	if f.HasKwargs() {
		positional--
	}
	if positional < 1 && !f.HasVarargs() {
		return fmt.Errorf("function %s must take one argument (ctx), but takes none", f.Name())
	}
	required := 0
	for i := 0; i < f.NumParams(); i++ {
		if f.ParamDefault(i) == nil && !isStarParam(f, i) {
			required++
		}
	}
	if required > 1 {
		return fmt.Errorf("function %s must take one argument (ctx), but requires %d", f.Name(), required)
	}
	return nil
}

// isStarParam reports whether parameter i is *args or **kwargs, which
// starlark-go lists after the named parameters.
func isStarParam(f *starlark.Function, i int) bool {
	star := 0
	if f.HasVarargs() {
		star++
	}
	if f.HasKwargs() {
		star++
	}
	return i >= f.NumParams()-star
}

// cleanDoc removes the indentation a docstring's continuation lines carry
// from the source, as Python's inspect.cleandoc does.
func cleanDoc(doc string) string {
	lines := strings.Split(strings.TrimSpace(doc), "\n")
	indent := -1
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	for i := 1; i < len(lines) && indent > 0; i++ {
		if len(lines[i]) >= indent {
			lines[i] = lines[i][indent:]
		}
	}
	return strings.Join(lines, "\n")
}
