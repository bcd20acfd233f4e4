package starlark

import (
	"fmt"
	gotime "time"

	"go.starlark.net/lib/time"
	"go.starlark.net/starlark"
)

// Unpackers validate builtin arguments. starlark.UnpackArgs prefixes their
// errors with "<builtin>: for parameter <name>: ".

// stringOrList accepts "a" or ["a", "b"].
type stringOrList struct {
	values []string
	set    bool
	single bool // given as a plain string
}

func (s *stringOrList) Unpack(v starlark.Value) error {
	s.set = true
	if str, ok := v.(starlark.String); ok {
		s.values, s.single = []string{string(str)}, true
		return nil
	}
	values, err := StringList(v)
	if err != nil {
		return err
	}
	s.values = values
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

// duration accepts "2s", "1m30s" or a time.duration value; it must be
// positive.
type duration gotime.Duration

func (d *duration) Unpack(v starlark.Value) error {
	out, err := ParseDuration(v)
	if err != nil {
		return err
	}
	if out <= 0 {
		return fmt.Errorf("duration must be positive, got %s", out)
	}
	*d = duration(out)
	return nil
}

// port accepts an int from 1 to 65535.
type port int

func (p *port) Unpack(v starlark.Value) error {
	i, ok := v.(starlark.Int)
	if !ok {
		return fmt.Errorf("got %s, want int", v.Type())
	}
	n, ok := i.Int64()
	if !ok || n < 1 || n > 65535 {
		return fmt.Errorf("port %s is out of range 1-65535", Brief(i))
	}
	*p = port(n)
	return nil
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
