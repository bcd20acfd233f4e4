package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// processCommands are script commands that synchronize with a running
// program on what it prints or does, never on a sleep.
var processCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"interrupt": interruptCmd,
	"waitfile":  waitFileCmd,
}

// scriptEnvNames are the variables a program started by a harness command
// receives from the script (testscript keeps the script's environment to
// itself): the process environment's, and those scripts set.
var scriptEnvNames = []string{
	"PATH", "HOME", "WORK", "TMPDIR", "NO_COLOR", "CI", "PROJECT", "TESTIMAGE",
	"OPDEPLOY_PROJECT", "OPDEPLOY_PROFILES", "OPDEPLOY_API_TIMEOUT", "DOCKER_HOST", "XDG_RUNTIME_DIR",
	"SHARED", // a folder the scripts of an `opdeploy test` run share with the script running it
}

func scriptEnv(ts *testscript.TestScript) []string {
	seen := map[string]bool{}
	var env []string
	add := func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		if v := ts.Getenv(name); v != "" {
			env = append(env, name+"="+v)
		}
	}
	for _, name := range scriptEnvNames {
		add(name)
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		add(name)
	}
	return env
}

// interrupt [-signal INT|TERM] (-line REGEX [-file FILE] | -cpu D) [-code N] PROG ARGS...
//
// runs PROG, sends it the signal once a line it writes (stdout or stderr),
// or with -file a line added to FILE since the command began, matches REGEX, or once it has used D of CPU
// time (for a program that prints nothing, such as an evaluation that
// loops), then waits for it and requires exit code N (default 130). Its
// stdout and stderr become the script's, for stdout/stderr checks. It
// gives up after a minute.
func interruptCmd(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("interrupt", flag.ContinueOnError)
	sigName := fs.String("signal", "INT", "INT or TERM")
	line := fs.String("line", "", "regexp a line must match")
	cpu := fs.Duration("cpu", 0, "CPU time to wait for")
	file := fs.String("file", "", "file whose lines -line is matched against")
	code := fs.Int("code", exitInterrupted, "expected exit code")
	if neg || fs.Parse(args) != nil || fs.NArg() < 1 || (*line == "") == (*cpu == 0) {
		ts.Fatalf("usage: interrupt [-signal INT|TERM] (-line REGEX [-file FILE] | -cpu D) [-code N] PROG ARGS...")
	}
	sig := map[string]syscall.Signal{"INT": syscall.SIGINT, "TERM": syscall.SIGTERM}[*sigName]
	if sig == 0 {
		ts.Fatalf("interrupt: unknown signal %q", *sigName)
	}
	var re, fileRE *regexp.Regexp
	if *line != "" {
		re = regexp.MustCompile(*line)
	}
	if *file != "" {
		re, fileRE = nil, re
	}
	path, err := exec.LookPath(fs.Arg(0))
	if err != nil {
		// testscript's PATH, not the process's.
		for _, dir := range strings.Split(ts.Getenv("PATH"), string(os.PathListSeparator)) {
			if p, err2 := exec.LookPath(dir + "/" + fs.Arg(0)); err2 == nil {
				path, err = p, nil
				break
			}
		}
	}
	ts.Check(err)
	cmd := exec.Command(path, fs.Args()[1:]...)
	cmd.Dir = ts.Getenv("WORK")
	cmd.Env = scriptEnv(ts)
	var stdout, stderr bytes.Buffer
	matched := make(chan struct{})
	var once sync.Once
	watch := func(buf *bytes.Buffer) io.Writer {
		pr, pw := io.Pipe()
		go func() {
			sc := bufio.NewScanner(pr)
			for sc.Scan() {
				buf.WriteString(sc.Text() + "\n")
				if re != nil && re.MatchString(sc.Text()) {
					once.Do(func() { close(matched) })
				}
			}
			_, _ = io.Copy(io.Discard, pr)
		}()
		return pw
	}
	outW, errW := watch(&stdout), watch(&stderr)
	cmd.Stdout, cmd.Stderr = outW, errW
	ts.Check(cmd.Start())
	exited := make(chan error, 1)
	gone := make(chan struct{})
	go func() { err := cmd.Wait(); close(gone); exited <- err }()
	if fileRE != nil {
		before := fileCount(ts.MkAbs(*file), fileRE) // lines from earlier commands do not count
		go func() {
			for !fileHas(ts.MkAbs(*file), fileRE, before+1) {
				select {
				case <-gone:
					return
				case <-time.After(10 * time.Millisecond): // the file has no event to wait on
				}
			}
			once.Do(func() { close(matched) })
		}()
	} else if re == nil {
		go func() {
			for cpuTime(cmd.Process.Pid) < *cpu {
				select {
				case <-gone:
					return
				case <-time.After(5 * time.Millisecond): // CPU time sends no event
				}
			}
			once.Do(func() { close(matched) })
		}()
	}
	deadline := time.After(time.Minute)
	var waitErr error
	select {
	case <-matched:
		ts.Check(cmd.Process.Signal(sig))
		select {
		case waitErr = <-exited:
		case <-deadline:
			_ = cmd.Process.Kill()
			<-exited
			ts.Fatalf("interrupt: %s did not exit within a minute of SIG%s", fs.Arg(0), *sigName)
		}
	case waitErr = <-exited:
		ts.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		ts.Fatalf("interrupt: %s exited (%v) before it was signalled", fs.Arg(0), waitErr)
	case <-deadline:
		_ = cmd.Process.Kill()
		<-exited
		ts.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		ts.Fatalf("interrupt: no line matched %q within a minute", *line)
	}
	outW.(*io.PipeWriter).Close()
	errW.(*io.PipeWriter).Close()
	got := 0
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		got = ee.ExitCode()
	} else if waitErr != nil {
		ts.Fatalf("interrupt: %v", waitErr)
	}
	fmt.Fprint(ts.Stdout(), stdout.String())
	fmt.Fprint(ts.Stderr(), stderr.String())
	if got != *code {
		ts.Fatalf("interrupt: exit code %d, want %d\nstderr:\n%s", got, *code, stderr.String())
	}
}

// cpuTime is the user and system CPU time a process has used so far.
func cpuTime(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start after ')'.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

// waitfile [-count N] FILE REGEX waits until FILE holds N lines (default
// 1) that match REGEX: a program started in the background writes it. It
// gives up after a minute.
func waitFileCmd(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("waitfile", flag.ContinueOnError)
	count := fs.Int("count", 1, "lines that must match")
	if neg || fs.Parse(args) != nil || fs.NArg() != 2 {
		ts.Fatalf("usage: waitfile [-count N] FILE REGEX")
	}
	re := regexp.MustCompile(fs.Arg(1))
	path := ts.MkAbs(fs.Arg(0))
	deadline := time.Now().Add(time.Minute)
	for !fileHas(path, re, *count) {
		if time.Now().After(deadline) {
			data, _ := os.ReadFile(path)
			ts.Fatalf("waitfile: fewer than %d lines matching %q in %s after a minute:\n%s", *count, fs.Arg(1), fs.Arg(0), data)
		}
		time.Sleep(10 * time.Millisecond) // the file has no event to wait on
	}
}

// fileHas reports whether the file holds at least count lines matching re.
func fileHas(path string, re *regexp.Regexp, count int) bool {
	return fileCount(path, re) >= count
}

func fileCount(path string, re *regexp.Regexp) int {
	data, _ := os.ReadFile(path)
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}
