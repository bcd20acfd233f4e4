package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/opdeploy/opdeploy/starlark"
)

// reportError prints errorReport. Errors quote container output (last log
// lines, healthcheck output), so control characters are made visible,
// wherever w goes: the report is for a person.
func reportError(w io.Writer, err error) {
	io.WriteString(w, safeText(errorReport(err)))
}

// errorReport is an error for a person: positions first, paths relative
// to the working directory (so messages and golden files are portable),
// and the Starlark backtrace when calls or loads led to the error.
func errorReport(err error) string {
	var se *starlark.Error
	if errors.As(err, &se) {
		report := relativize(se.Error()) + "\n"
		if bt := se.Backtrace(); bt != "" {
			report += relativize(bt)
		}
		return report
	}
	return "opdeploy: " + relativize(err.Error()) + "\n"
}

// relativize rewrites absolute paths under the working directory as
// relative ones. Only paths that start a word are rewritten, so URLs such
// as unix:///work/x.sock keep their full path.
func relativize(text string) string {
	wd, err := os.Getwd()
	if err != nil {
		return text
	}
	dirs := []string{wd}
	if real, err := filepath.EvalSymlinks(wd); err == nil && real != wd {
		dirs = append(dirs, real)
	}
	for _, dir := range dirs {
		re := regexp.MustCompile(`(^|[\s"'(=,\[])` + regexp.QuoteMeta(dir+string(filepath.Separator)))
		text = re.ReplaceAllString(text, "$1")
	}
	return text
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
