package starlark

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"

	"go.starlark.net/starlark"

	"github.com/opdeploy/opdeploy/target"
)

const builtinBinaryImage = "binary_image"

// imageValue is what binary_image returns. Where a compose value is
// expected (a service's "image") it stands for its tag.
type imageValue struct {
	spec target.BinaryImage
}

var _ starlark.HasAttrs = (*imageValue)(nil)

func (v *imageValue) Type() string          { return "binary_image" }
func (v *imageValue) Freeze()               {}
func (v *imageValue) Truth() starlark.Bool  { return true }
func (v *imageValue) Hash() (uint32, error) { return starlark.String(v.spec.Tag).Hash() }
func (v *imageValue) String() string        { return v.spec.Tag }
func (v *imageValue) AttrNames() []string   { return []string{"tag"} }
func (v *imageValue) Attr(name string) (starlark.Value, error) {
	if name == "tag" {
		return starlark.String(v.spec.Tag), nil
	}
	return nil, nil
}

// binaryImageBuiltin implements
// binary_image(tag, binaries, files = {}, entrypoint = None).
// Nothing is read or built here: `up` builds the image, and only when its
// inputs changed.
func binaryImageBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := atMostPositional(b, args, 1, "tag"); err != nil {
		return nil, err
	}
	var (
		tag        string
		binaries   StringOrList
		files      stringDict
		entrypoint StringOrList
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"tag", &tag, "binaries", &binaries, "files?", &files, "entrypoint?", &entrypoint); err != nil {
		return nil, err
	}
	if tag == "" {
		return nil, fmt.Errorf("%s: for parameter tag: must not be empty", b.Name())
	}
	if len(binaries.Values) == 0 {
		return nil, fmt.Errorf("%s: for parameter binaries: name at least one executable", b.Name())
	}
	st := stateOf(thread)
	for _, img := range st.images {
		if img.Tag == tag {
			return nil, fmt.Errorf("%s: tag %q is already declared at %s", b.Name(), tag, img.Pos)
		}
	}
	dir := filepath.Dir(callerFile(thread))
	spec := target.BinaryImage{Tag: tag, Files: map[string]string{}, Entrypoint: entrypoint.Values, Pos: callerPos(thread)}
	for _, bin := range binaries.Values {
		if filepath.IsAbs(bin) || filepath.Base(bin) == bin {
			spec.Binaries = append(spec.Binaries, bin)
		} else {
			spec.Binaries = append(spec.Binaries, resolvePath(dir, bin))
		}
	}
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, dest := range keys {
		if !path.IsAbs(dest) {
			return nil, fmt.Errorf("%s: for parameter files: %q must be an absolute path in the image", b.Name(), dest)
		}
		spec.Files[path.Clean(dest)] = resolvePath(dir, files[dest])
	}
	st.images = append(st.images, spec)
	return &imageValue{spec: spec}, nil
}
