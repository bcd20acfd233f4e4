package starlark

import (
	"fmt"
	gotime "time"

	"go.starlark.net/lib/time"
	"go.starlark.net/starlark"
)

// The argument vocabulary: unpackers that builtins and the sequence ctx
// share, so that every builtin speaks about durations, lists of names and
// commands the same way. starlark.UnpackArgs prefixes their errors with
// "<builtin>: for parameter <name>: ".
var (
	_ starlark.Unpacker = (*Duration)(nil)
	_ starlark.Unpacker = (*StringOrList)(nil)
	_ starlark.Unpacker = (*Argv)(nil)
	_ starlark.Unpacker = (*NonEmptyString)(nil)
	_ starlark.Unpacker = (*Port)(nil)
	_ starlark.Unpacker = (*Names)(nil)
	_ starlark.Unpacker = (*Percent)(nil)
	_ starlark.Unpacker = (*Size)(nil)
	_ starlark.Unpacker = (*OptionalNames)(nil)
)

// Duration accepts "2s", "1m30s" or a time.duration; None keeps the value
// it had (its default). A value below Min is refused.
type Duration struct {
	D   gotime.Duration
	Min gotime.Duration
}

func (d *Duration) Unpack(v starlark.Value) error {
	if v == starlark.None {
		return nil
	}
	parsed, err := ParseDuration(v)
	if err != nil {
		return err
	}
	if parsed < d.Min {
		if d.Min == 0 {
			return fmt.Errorf("duration must not be negative, got %s", parsed)
		}
		return fmt.Errorf("duration must be at least %s, got %s", d.Min, parsed)
	}
	d.D = parsed
	return nil
}

// StringOrList accepts "a" or ["a", "b"] (a list or tuple of strings).
type StringOrList struct {
	Values []string
	Single bool // given as one string
}

func (s *StringOrList) Unpack(v starlark.Value) error {
	if str, ok := v.(starlark.String); ok {
		s.Values, s.Single = []string{string(str)}, true
		return nil
	}
	values, err := StringList(v)
	if err != nil {
		return err
	}
	s.Values, s.Single = values, false
	return nil
}

// Argv is a command: a string runs through `sh -c` (as compose's
// CMD-SHELL), a list runs as it is (the only choice in a FROM scratch
// image). It must not be empty.
type Argv []string

func (a *Argv) Unpack(v starlark.Value) error {
	var s StringOrList
	if err := s.Unpack(v); err != nil {
		return err
	}
	argv := s.Values
	if s.Single {
		argv = []string{"sh", "-c", argv[0]}
	}
	if len(argv) == 0 || argv[len(argv)-1] == "" {
		return fmt.Errorf("must not be empty")
	}
	*a = argv
	return nil
}

// NonEmptyString accepts a string with at least one character.
type NonEmptyString string

func (s *NonEmptyString) Unpack(v starlark.Value) error {
	str, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want string", v.Type())
	}
	if str == "" {
		return fmt.Errorf("must not be empty")
	}
	*s = NonEmptyString(str)
	return nil
}

// Port accepts an int from 1 to 65535.
type Port int

func (p *Port) Unpack(v starlark.Value) error {
	i, ok := v.(starlark.Int)
	if !ok {
		return fmt.Errorf("got %s, want int", v.Type())
	}
	n, ok := i.Int64()
	if !ok || n < 1 || n > 65535 {
		return fmt.Errorf("port %s is out of range 1-65535", i)
	}
	*p = Port(n)
	return nil
}

// Names is one name or a non-empty list of them, each non-empty: the
// services a ctx action applies to.
type Names []string

func (n *Names) Unpack(v starlark.Value) error {
	var s StringOrList
	if err := s.Unpack(v); err != nil {
		return err
	}
	if len(s.Values) == 0 {
		return fmt.Errorf("name at least one")
	}
	for i, name := range s.Values {
		if name == "" {
			if s.Single {
				return fmt.Errorf("must not be empty")
			}
			return fmt.Errorf("element %d: must not be empty", i)
		}
	}
	*n = s.Values
	return nil
}

// StringList reads a list or tuple of strings. Builtins and the sequence
// ctx share it.
func StringList(v starlark.Value) ([]string, error) {
	switch v.(type) {
	case *starlark.List, starlark.Tuple:
	default:
		return nil, fmt.Errorf("got %s, want string or list of strings", v.Type())
	}
	var out []string
	iter := starlark.Iterate(v)
	defer iter.Done()
	var x starlark.Value
	for i := 0; iter.Next(&x); i++ {
		str, ok := starlark.AsString(x)
		if !ok {
			return nil, fmt.Errorf("element %d: got %s, want string", i, x.Type())
		}
		out = append(out, str)
	}
	return out, nil
}

// optionalString accepts a string or None.
type optionalString struct {
	value string
	set   bool
}

func (s *optionalString) Unpack(v starlark.Value) error {
	if v == starlark.None {
		return nil
	}
	str, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want string or None", v.Type())
	}
	s.value, s.set = str, true
	return nil
}

// stringDict accepts a dict of strings to strings.
type stringDict map[string]string

func (d *stringDict) Unpack(v starlark.Value) error {
	dict, ok := v.(*starlark.Dict)
	if !ok {
		return fmt.Errorf("got %s, want dict", v.Type())
	}
	*d = stringDict{}
	for _, item := range dict.Items() {
		k, ok := starlark.AsString(item[0])
		if !ok {
			return fmt.Errorf("key %s: got %s, want string", Brief(item[0]), item[0].Type())
		}
		val, ok := starlark.AsString(item[1])
		if !ok {
			return fmt.Errorf("value of %q: got %s, want string", k, item[1].Type())
		}
		(*d)[k] = val
	}
	return nil
}

// ParseDuration reads a duration given as "2s", "1m30s" or a time.duration
// value. Builtins and the sequence ctx share it, so both speak the same way.
func ParseDuration(v starlark.Value) (gotime.Duration, error) {
	switch v := v.(type) {
	case starlark.String:
		parsed, err := gotime.ParseDuration(string(v))
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (examples: \"500ms\", \"2s\", \"1m30s\")", string(v))
		}
		return parsed, nil
	case time.Duration:
		return gotime.Duration(v), nil
	}
	return 0, fmt.Errorf("got %s, want duration string such as \"2s\"", v.Type())
}

// atMostPositional makes a builtin keyword-only past its first n
// parameters, so declarations read the same everywhere.
func atMostPositional(b *starlark.Builtin, args starlark.Tuple, n int, names string) error {
	if len(args) <= n {
		return nil
	}
	if n == 0 {
		return fmt.Errorf("%s: takes keyword arguments only (got %d positional)", b.Name(), len(args))
	}
	return fmt.Errorf("%s: takes at most %d positional argument (%s); pass the others by keyword", b.Name(), n, names)
}

// Percent accepts an int or float from 0 to 100.
type Percent float64

func (p *Percent) Unpack(v starlark.Value) error {
	f, ok := starlark.AsFloat(v)
	if !ok {
		return fmt.Errorf("got %s, want a number from 0 to 100", v.Type())
	}
	if f < 0 || f > 100 {
		return fmt.Errorf("percent must be from 0 to 100, got %v", f)
	}
	*p = Percent(f)
	return nil
}

// Size accepts an amount of bytes: "64MiB", "1GiB", docker's "512m", or
// an int; None keeps the value it had.
type Size uint64

func (s *Size) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil
	case starlark.Int:
		n, ok := v.Uint64()
		if !ok {
			return fmt.Errorf("size %s is out of range", v)
		}
		*s = Size(n)
		return nil
	case starlark.String:
		b, err := ParseByteSize(string(v))
		if err != nil {
			return err
		}
		*s = Size(b)
		return nil
	}
	return fmt.Errorf("got %s, want a size such as \"64MiB\" or a number of bytes", v.Type())
}

// OptionalNames is Names, or None for none.
type OptionalNames []string

func (n *OptionalNames) Unpack(v starlark.Value) error {
	if v == starlark.None {
		return nil
	}
	var names Names
	if err := names.Unpack(v); err != nil {
		return err
	}
	*n = OptionalNames(names)
	return nil
}
