package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/opdeploy/opdeploy/suite"
	"github.com/opdeploy/opdeploy/target"
)

type testCmd struct {
	Paths         []string      `arg:"" optional:"" name:"path" help:"Scripts, or folders of *.txtar scripts (default: ./tests if it exists, else the current folder)."`
	Match         string        `name:"run" placeholder:"REGEX" help:"Only the scripts whose path matches REGEX."`
	Jobs          int           `short:"j" default:"1" placeholder:"N" help:"Run N scripts at once."`
	JUnit         string        `name:"junit" placeholder:"FILE" type:"path" help:"Also write a JUnit XML report to FILE."`
	Update        bool          `help:"Rewrite the golden sections that cmp finds different (the script then passes)."`
	Verbose       bool          `short:"v" help:"Print every script's log, not only the failing ones'."`
	KeepOnFailure bool          `help:"Keep what a failed script brought up, and its $WORK, for inspection; print how to remove them."`
	Timeout       time.Duration `default:"10m" help:"Stop and fail a script that runs longer than this (0: no limit)."`
	Purge         string        `placeholder:"PROJECT" help:"Instead of running scripts, remove everything of project PROJECT (what --keep-on-failure kept)."`
}

// testRun is what every script of one run shares.
type testRun struct {
	tgts   targets
	bin    string // a folder holding opdeploy: the running binary
	prefix string // of every script's project name
}

func (c *testCmd) Run(ctx context.Context, out *output, tgts targets) error {
	if c.Purge != "" {
		return c.purge(ctx, out, tgts)
	}
	if c.Jobs < 1 {
		return usageErrorf("-j %d: want 1 or more", c.Jobs)
	}
	var run *regexp.Regexp
	if c.Match != "" {
		re, err := regexp.Compile(c.Match)
		if err != nil {
			return usageErrorf("--run: %v", err)
		}
		run = re
	}
	paths := c.Paths
	if len(paths) == 0 {
		paths = []string{"."}
		if st, err := os.Stat("tests"); err == nil && st.IsDir() {
			paths = []string{"tests"}
		}
	}
	if c.JUnit != "" {
		// Found out now, not after minutes of scripts.
		if st, err := os.Stat(filepath.Dir(c.JUnit)); err != nil || !st.IsDir() {
			return usageErrorf("--junit %s: no folder %s", c.JUnit, filepath.Dir(c.JUnit))
		}
	}
	scripts, err := suite.Discover(paths, run)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if len(scripts) == 0 {
		return usageErrorf("no script matches --run %q", c.Match)
	}

	bin, err := opdeployBin()
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	r := &testRun{tgts: tgts, bin: bin, prefix: projectPrefix()}
	stop := context.AfterFunc(ctx, interruptChildren)
	defer stop()

	start := time.Now()
	results := suite.Run(ctx, scripts, suite.Options{
		Jobs: c.Jobs, Timeout: c.Timeout, Update: c.Update, Verbose: c.Verbose, KeepOnFailure: c.KeepOnFailure,
		Env:     os.Environ(),
		Prepare: r.harness,
		Done:    func(res suite.Result) { suite.WriteResult(out.stdout, res) },
	})
	elapsed := time.Since(start)
	counts := suite.Count(results)
	summary := counts.Summary(elapsed)
	if n := len(scripts) - len(results); n > 0 {
		summary += fmt.Sprintf(" (%d not run: interrupted)", n)
	}
	fmt.Fprintln(out.stdout, summary)
	if c.JUnit != "" {
		if err := writeJUnit(c.JUnit, results, elapsed); err != nil {
			return err
		}
	}
	if counts.Failed > 0 || len(results) < len(scripts) {
		return &codeError{code: exitError}
	}
	return nil
}

func (c *testCmd) purge(ctx context.Context, out *output, tgts targets) error {
	if err := target.ValidateName("project", c.Purge); err != nil {
		return usageErrorf("--purge: %v", err)
	}
	removed, err := tgts.purge(ctx, c.Purge)
	for _, r := range removed {
		fmt.Fprintf(out.stderr, "removed %s\n", r)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out.stderr, "project %q purged: %d removed\n", c.Purge, len(removed))
	return nil
}

// opdeployBin makes a folder holding `opdeploy`, a link to the running
// binary, for scripts' PATH: `exec opdeploy` (in the background, or from a
// shell) then runs this very opdeploy, never another install.
func opdeployBin() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the opdeploy binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "opdeploy-bin-")
	if err != nil {
		return "", err
	}
	if err := os.Symlink(self, filepath.Join(dir, "opdeploy")); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// projectPrefix begins every script's project name: the caller's
// OPDEPLOY_PROJECT when set (a CI job that names its deployments finds
// its scripts' under the same name), else "test".
func projectPrefix() string {
	if p := os.Getenv("OPDEPLOY_PROJECT"); p != "" && target.ValidateName("project", p) == nil {
		return p
	}
	return "test"
}

func writeJUnit(path string, results []suite.Result, elapsed time.Duration) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := suite.WriteJUnit(f, results, elapsed); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// interruptChildren passes an interruption on to the programs the scripts
// are running (opdeploy verbs among them), so that they stop as they
// would on Ctrl-C, and the scripts end and are torn down. A terminal's
// Ctrl-C reaches them already; a signal sent to opdeploy test alone (a CI
// job being cancelled) does not. Linux lists a thread's children in
// /proc/self/task/TID/children.
func interruptChildren() {
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range tasks {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, field := range strings.Fields(string(data)) {
			var pid int
			if _, err := fmt.Sscan(field, &pid); err == nil && pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGINT)
			}
		}
	}
}
