package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/opdeploy/opdeploy/starlark"
)

// reportError prints an error for a person: positions first, paths relative
// to the working directory (so messages and golden files are portable),
// and the Starlark backtrace when calls or loads led to the error.
func reportError(w io.Writer, err error) {
	var se *starlark.Error
	if errors.As(err, &se) {
		fmt.Fprintln(w, relativize(se.Error()))
		if bt := se.Backtrace(); bt != "" {
			fmt.Fprint(w, relativize(bt))
		}
		return
	}
	fmt.Fprintf(w, "opdeploy: %s\n", relativize(err.Error()))
}

// relativize rewrites absolute paths under the working directory as
// relative ones.
func relativize(text string) string {
	wd, err := os.Getwd()
	if err != nil {
		return text
	}
	if real, err := filepath.EvalSymlinks(wd); err == nil && real != wd {
		text = strings.ReplaceAll(text, real+string(filepath.Separator), "")
	}
	return strings.ReplaceAll(text, wd+string(filepath.Separator), "")
}

// relPath is a path relative to the working directory when it lies below
// it, else the path as it is.
func relPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}
