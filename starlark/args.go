package starlark

import (
	"fmt"
	gotime "time"

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
