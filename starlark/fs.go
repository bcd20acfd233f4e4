package starlark

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FS reads subject source files by absolute path. Tests use an in-memory
// one; the CLI uses the operating system's.
type FS interface {
	ReadFile(path string) ([]byte, error)
}

// OSFS reads files from the operating system.
type OSFS struct{}

func (OSFS) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

// MapFS is an in-memory FS keyed by absolute, clean path.
type MapFS map[string]string

func (m MapFS) ReadFile(path string) ([]byte, error) {
	src, ok := m[filepath.Clean(path)]
	if !ok {
		return nil, &os.PathError{Op: "open", Path: path, Err: os.ErrNotExist}
	}
	return []byte(src), nil
}

// within reports an error unless path lies inside root (both absolute and
// clean). Symbolic links are followed when both exist on disk, so a link
// cannot smuggle a file from outside the root.
func within(root, path string) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		if realRoot, err := filepath.EvalSymlinks(root); err == nil {
			root, path = realRoot, real
		}
	}
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%s is outside %s", path, root)
	}
	return nil
}
