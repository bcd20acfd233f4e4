// Package suite runs txtar test scripts with testscript's semantics, one
// isolated run per script, and reports on them: a line per script, the
// failing scripts' logs, JUnit XML. It knows nothing about opdeploy's
// subjects or engines: the caller gives each script its commands,
// conditions, environment and teardown (cmd/opdeploy/test.go does).
package suite

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Script is one txtar file to run.
type Script struct {
	// Name is the script's path as the user would type it: relative to
	// the working directory when it is under it. It names the script in
	// every report, and --run matches it.
	Name string
	// File is the absolute path of the script.
	File string
}

// Dir is the folder that holds the script ($SUITE).
func (s Script) Dir() string { return filepath.Dir(s.File) }

// Discover finds the scripts that paths name: a file is a script whatever
// its name; a directory holds every *.txtar under it, at any depth, except
// in directories whose name begins with "." or "_" or is "testdata" (as the
// go tool skips them: the place for scripts kept out of a suite). Scripts
// whose name run does not match are left out. The result is sorted by
// name, without duplicates.
func Discover(paths []string, run *regexp.Regexp) ([]Script, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Script
	add := func(path string) error {
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		if seen[abs] {
			return nil
		}
		seen[abs] = true
		name := abs
		if rel, err := filepath.Rel(cwd, abs); err == nil && !strings.HasPrefix(rel, "..") {
			name = rel
		}
		name = filepath.ToSlash(name)
		if run == nil || run.MatchString(name) {
			out = append(out, Script{Name: name, File: abs})
		}
		return nil
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			if err := add(p); err != nil {
				return nil, err
			}
			continue
		}
		found := false
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && skippedDir(d.Name()) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(d.Name(), ".txtar") {
				found = true
				return add(path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("%s: no *.txtar scripts in it", p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func skippedDir(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata"
}
