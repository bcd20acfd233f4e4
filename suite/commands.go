package suite

import (
	"flag"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// Command is a script command that runs something and may fail: a program,
// a request. `!` expects the failure and `?` accepts either outcome, so
// the command reports failure as an error and leaves the verdict to its
// prefix. Wrong usage is still reported with ts.Fatalf: no prefix excuses it.
type Command func(ts *testscript.TestScript, args []string) error

// commands builds the script commands: the harness's own, its fallible
// ones wrapped with the `!` rule, json, and `?`. testscript v1.16 has no
// `?` prefix: a command named "?" stands in for it, taking the command to
// run as its arguments (testscript's parser makes the `?` a word of its
// own, as it does `!`).
func commands(h *Harness) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){}
	for name, fn := range h.Cmds {
		cmds[name] = fn
	}
	fallible := map[string]Command{"exec": execCommand}
	for name, fn := range h.Fallible {
		fallible[name] = fn
		cmds[name] = mustCommand(name, fn)
	}
	cmds["json"] = jsonCmd
	cmds["?"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg {
			ts.Fatalf("! and ? cannot be combined: ? already accepts failure")
		}
		if len(args) == 0 {
			ts.Fatalf("? on line by itself")
		}
		fn, ok := fallible[args[0]]
		if !ok {
			names := make([]string, 0, len(fallible))
			for n := range fallible {
				names = append(names, n)
			}
			sort.Strings(names)
			ts.Fatalf("? applies to commands that run something (%s), not to %q", strings.Join(names, ", "), args[0])
		}
		if err := fn(ts, args[1:]); err != nil {
			ts.Logf("[%v] (accepted by ?)", err)
		}
	}
	return cmds
}

// mustCommand applies the `!` rule to a fallible command.
func mustCommand(name string, fn Command) func(ts *testscript.TestScript, neg bool, args []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		err := fn(ts, args)
		switch {
		case err != nil && !neg:
			ts.Fatalf("%s: %v", name, err)
		case err == nil && neg:
			ts.Fatalf("%s: unexpected success", name)
		case err != nil:
			ts.Logf("[%v]", err)
		}
	}
}

var backgroundSuffix = regexp.MustCompile(`^&([a-zA-Z_0-9]+&)?$`)

// execCommand is `? exec`: testscript's exec runs in the foreground, its
// output kept for stdout and stderr.
func execCommand(ts *testscript.TestScript, args []string) error {
	if len(args) == 0 {
		ts.Fatalf("usage: ? exec program [args...]")
	}
	if backgroundSuffix.MatchString(args[len(args)-1]) {
		ts.Fatalf("? does not apply to a background command (&)")
	}
	return ts.Exec(args[0], args[1:]...)
}

// jsonCmd is `json [-stderr] [-any] PATH OP VALUE`: an assertion on the
// JSON the last command printed (jsonpath.go has the path language).
func jsonCmd(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: json [-stderr] [-any] PATH OP VALUE (OP: == != < <= > >= ~)"
	fs := flag.NewFlagSet("json", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stderr := fs.Bool("stderr", false, "")
	anyOf := fs.Bool("any", false, "")
	if err := fs.Parse(args); err != nil || fs.NArg() != 3 {
		ts.Fatalf("%s", usage)
	}
	path, op, want := fs.Arg(0), fs.Arg(1), fs.Arg(2)
	from := "stdout"
	if *stderr {
		from = "stderr"
	}
	holds, why, err := checkJSON(ts.ReadFile(from), path, op, want, *anyOf)
	if err != nil {
		ts.Fatalf("json %s %s %s: %s: %v", path, op, want, from, err)
	}
	switch {
	case !holds && !neg:
		ts.Fatalf("json %s %s %s: %s", path, op, want, why)
	case holds && neg:
		ts.Fatalf("json %s %s %s holds, and ! says it must not", path, op, want)
	}
}
