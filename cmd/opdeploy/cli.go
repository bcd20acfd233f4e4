package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kong"
	"github.com/opdeploy/opdeploy/engine"
)

// Exit codes. Scripts may rely on them; docs/cli.md lists them.
const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitUnready = 3 // status: not all healthy; check: a check failed
)

// cli is the command line. One file per verb holds each command's struct.
type cli struct {
	Up         upCmd         `cmd:"" help:"Create and start the subject's deployment, and wait until it is ready."`
	Down       downCmd       `cmd:"" help:"Stop and remove the subject's containers and networks (volumes with -v)."`
	Status     statusCmd     `cmd:"" help:"Show the state and health of every container; exit 3 unless all are healthy."`
	Logs       logsCmd       `cmd:"" help:"Show (or follow) the containers' logs, prefixed by service."`
	Restart    restartCmd    `cmd:"" help:"Restart services and wait until they are ready again."`
	Check      checkCmd      `cmd:"" help:"Run the subject's checks; exit 3 unless all pass."`
	Run        runCmd        `cmd:"" help:"Run an operational sequence of the subject (without one, list them)."`
	Fault      faultCmd      `cmd:"" help:"Apply a fault (delay, loss, partition, block, fill_disk, limit) until healed."`
	Heal       healCmd       `cmd:"" help:"Remove the faults on services (all faults without services)."`
	Validate   validateCmd   `cmd:"" help:"Evaluate a subject file and load its deployment; print one line if all is well."`
	Config     configCmd     `cmd:"" help:"Print the resolved subject: services, checks and sequences."`
	Test       testCmd       `cmd:"" help:"Run txtar test scripts: each in a project of its own, torn down at its end."`
	Version    versionCmd    `cmd:"" help:"Print the opdeploy version."`
	Completion completionCmd `cmd:"" help:"Print a shell completion script (bash, zsh or fish)."`

	FaultHelper faultHelperCmd `cmd:"" name:"fault-helper" hidden:"" help:"Hold a network fault in a container's network namespace (run by opdeploy in a helper container)."`
}

// exitError carries an exit code other than exitError up to Main.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

// kongExit is raised (as a panic) by kong's Exit hook so that --help and
// usage errors return from Main instead of ending the process.
type kongExit int

// Main runs opdeploy with os.Args and returns the process exit code.
func Main() int {
	return run(os.Args[1:], os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			exit, ok := r.(kongExit)
			if !ok {
				panic(r)
			}
			code = int(exit)
		}
	}()

	ctx, stop := watchSignals(stderr)
	defer stop()
	tgts, err := newTargets()
	if err != nil {
		fmt.Fprintf(stderr, "opdeploy: %v\n", err)
		return exitUsage
	}
	out := &output{stdout: stdout, stderr: stderr, activity: &activity{}}

	var c cli
	parser, err := kong.New(&c,
		kong.Name("opdeploy"),
		kong.Description("Bring up, observe and operate multi-node systems on Docker, described in Starlark."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(kongExit(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Help(helpPrinter(tgts)),
		kong.BindTo(ctx, (*context.Context)(nil)),
		kong.Bind(out, tgts),
		kong.Vars(defaultVars),
	)
	if err != nil {
		panic(err) // the CLI definition itself is wrong
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "opdeploy: %v\n", err)
		return exitUsage
	}
	// Verbs that read a subject receive it evaluated: the provider runs
	// when a Run method asks for *engine.Subject.
	if sa, ok := kctx.Selected().Target.Addr().Interface().(interface{ subject() *subjectArgs }); ok {
		if err := kctx.BindSingletonProvider(func() (*engine.Subject, error) {
			return sa.subject().load(ctx, tgts, out.activity)
		}); err != nil {
			panic(err)
		}
	}
	err = kctx.Run()
	if e, ok := kctx.Selected().Target.Addr().Interface().(interface{ endsOnInterrupt() bool }); ok && e.endsOnInterrupt() && ctx.Err() != nil {
		return exitOK // logs -f: Ctrl-C is how it is meant to stop
	}
	if cause := context.Cause(ctx); ctx.Err() != nil {
		// Interrupted: whatever the verb returned, say in one line what
		// was in flight.
		var ce *codeError
		if errors.As(err, &ce) && ce.code == exitInterrupted && ce.err == nil {
			err = nil // the verb reported itself (a sequence's failure report)
		}
		fmt.Fprintln(stderr, safeText(relativize(interruptionLine(kctx.Selected().Name, cause, out.activity.list(), tgts.inFlight()))))
		return exitInterrupted
	}
	if err != nil {
		var ce *codeError
		if errors.As(err, &ce) {
			if ce.err != nil && ce.code == exitUsage {
				fmt.Fprintf(stderr, "opdeploy: %v\n", ce.err)
			} else if ce.err != nil {
				reportError(stderr, ce.err)
			}
			return ce.code
		}
		reportError(stderr, err)
		return exitError
	}
	return exitOK
}

// output is where verbs write, and what they are doing; bound into every
// Run method.
type output struct {
	stdout, stderr io.Writer
	activity       *activity
}
