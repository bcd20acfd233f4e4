package starlark

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/opdeploy/opdeploy/target"
)

// Error is an error in a subject file: where it happened, what went wrong
// and, when calls or loads led there, the Starlark frames that did.
type Error struct {
	Pos   target.Pos
	Msg   string
	Stack []Frame // outermost first; empty when the error has no call chain
	cause error
}

// Frame is one Starlark call frame of an error's backtrace.
type Frame struct {
	Pos      target.Pos
	Function string
}

func (e *Error) Error() string {
	if e.Pos.File == "" {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.cause }

// Backtrace renders the frames that led to the error, or "" when there is
// only the one the message already names.
func (e *Error) Backtrace() string {
	if len(e.Stack) < 2 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Traceback (most recent call last):\n")
	for _, f := range e.Stack {
		fmt.Fprintf(&b, "  %s: in %s\n", f.Pos, f.Function)
	}
	return b.String()
}

// posError is returned by builtins that know a better position than their
// call site, such as a check naming a service its deployment lacks.
type posError struct {
	pos target.Pos
	msg string
}

func (e *posError) Error() string { return e.pos.String() + ": " + e.msg }

func toPos(p syntax.Position) target.Pos {
	if !p.IsValid() {
		return target.Pos{}
	}
	return target.Pos{File: p.Filename(), Line: int(p.Line), Col: int(p.Col)}
}

const cancelledPrefix = "Starlark computation cancelled: "

// WrapError turns an error from calling Starlark code (a sequence, a
// check) into an *Error with its position and backtrace; other errors are
// returned as they are.
func WrapError(err error) error { return wrapError(err) }

// wrapError turns what starlark-go returns into an *Error positioned at the
// innermost place the user can act on.
func wrapError(err error) error {
	var out *Error
	for cur := err; cur != nil; cur = errors.Unwrap(cur) {
		switch e := cur.(type) {
		case *Error:
			return e
		case *starlark.EvalError:
			out = &Error{Msg: strings.TrimPrefix(e.Msg, cancelledPrefix), cause: err}
			for _, fr := range e.CallStack {
				if fr.Pos.Filename() == "<builtin>" {
					continue
				}
				out.Stack = append(out.Stack, Frame{Pos: toPos(fr.Pos), Function: fr.Name})
			}
			if n := len(out.Stack); n > 0 {
				out.Pos = out.Stack[n-1].Pos
			}
		case *posError:
			if out == nil {
				out = &Error{cause: err}
			}
			out.Pos, out.Msg = e.pos, e.msg
			return out
		case syntax.Error:
			return syntaxError(out, err, e.Pos, e.Msg)
		case resolve.ErrorList:
			if len(e) == 0 {
				break
			}
			var lines []string
			for _, re := range e[1:] {
				lines = append(lines, re.Pos.String()+": "+withSuggestion(re.Msg))
			}
			return syntaxError(out, err, e[0].Pos, strings.Join(append([]string{withSuggestion(e[0].Msg)}, lines...), "\n"))
		}
	}
	if out == nil {
		return err
	}
	return out
}

// syntaxError positions an error at a parse or resolve failure, keeping
// the load chain (if any) that reached the broken file.
func syntaxError(outer *Error, cause error, pos syntax.Position, msg string) *Error {
	e := &Error{Pos: toPos(pos), Msg: msg, cause: cause}
	if outer != nil {
		e.Stack = append(outer.Stack, Frame{Pos: e.Pos, Function: "<toplevel>"})
	}
	return e
}

// withSuggestion adds "(did you mean X?)" to an "undefined: Y" message when
// Y looks like a typo of a builtin.
func withSuggestion(msg string) string {
	name, ok := strings.CutPrefix(msg, "undefined: ")
	if !ok {
		return msg
	}
	if s := suggestName(name); s != "" && s != name {
		return msg + " (did you mean " + s + "?)"
	}
	return msg
}
