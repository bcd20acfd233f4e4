package starlark

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"
)

// loader runs subject files and the modules they load(). Modules are
// cached by resolved absolute path, so two spellings of one file share one
// module; a module that is still executing when it is loaded again is a
// cycle.
type loader struct {
	st      *state
	modules map[string]*module
	active  []string // files being executed, outermost first
}

type module struct {
	globals starlark.StringDict
	err     error
	done    bool
}

func newLoader(st *state) *loader {
	return &loader{st: st, modules: map[string]*module{}}
}

// load implements starlark.Thread.Load. It runs the module on the same
// thread, so the step limit, cancellation and backtraces span every file.
func (l *loader) load(thread *starlark.Thread, spec string) (starlark.StringDict, error) {
	from := thread.CallFrame(0).Pos.Filename()
	path, err := l.resolve(from, spec)
	if err != nil {
		return nil, err
	}
	return l.exec(thread, path)
}

// resolve turns a load() argument into an absolute path inside the root.
func (l *loader) resolve(from, spec string) (string, error) {
	if spec == "" {
		return "", errors.New("empty module path")
	}
	if filepath.IsAbs(spec) {
		return "", fmt.Errorf("module path %q must be relative to the loading file", spec)
	}
	if !strings.HasSuffix(spec, ".star") {
		return "", fmt.Errorf("module path %q must end in .star", spec)
	}
	path := filepath.Join(filepath.Dir(from), filepath.FromSlash(spec))
	if err := within(l.st.cfg.Root, path); err != nil {
		return "", fmt.Errorf("%q is outside the subject root %s (set --root to widen it)", spec, l.st.cfg.Root)
	}
	return path, nil
}

func (l *loader) exec(thread *starlark.Thread, path string) (starlark.StringDict, error) {
	if m, ok := l.modules[path]; ok {
		if !m.done {
			return nil, fmt.Errorf("load cycle: %s", l.cycle(path))
		}
		return m.globals, m.err
	}
	m := &module{}
	l.modules[path] = m
	l.active = append(l.active, path)
	defer func() { l.active = l.active[:len(l.active)-1] }()

	src, err := l.st.cfg.FS.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%s does not exist", path)
		}
		m.err, m.done = err, true
		return nil, err
	}
	m.globals, m.err = starlark.ExecFileOptions(FileOptions, thread, path, src, predeclared(l.st))
	m.done = true
	return m.globals, m.err
}

// cycle describes the chain of loads that leads back to path.
func (l *loader) cycle(path string) string {
	start := 0
	for i, p := range l.active {
		if p == path {
			start = i
			break
		}
	}
	var names []string
	for _, p := range append(l.active[start:], path) {
		names = append(names, l.st.display(p))
	}
	return strings.Join(names, " loads ")
}
