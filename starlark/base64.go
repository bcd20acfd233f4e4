package starlark

import (
	"encoding/base64"
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// base64Module offers base64.encode(s) and base64.decode(s): etcd's v3
// JSON API, and others like it, carry keys and values base64-encoded.
var base64Module = &starlarkstruct.Module{
	Name: "base64",
	Members: starlark.StringDict{
		"encode": starlark.NewBuiltin("base64.encode", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var s string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
				return nil, err
			}
			return starlark.String(base64.StdEncoding.EncodeToString([]byte(s))), nil
		}),
		"decode": starlark.NewBuiltin("base64.decode", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var s string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
				return nil, err
			}
			out, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", b.Name(), err)
			}
			return starlark.String(out), nil
		}),
	},
}
