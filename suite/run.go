package suite

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// Options control a run.
type Options struct {
	Jobs          int           // scripts run at once; less than 1 means 1
	Timeout       time.Duration // bound on each script; 0 means none
	Update        bool          // rewrite golden sections that cmp finds different
	Verbose       bool          // keep every script's full log, not only failing ones'
	KeepOnFailure bool          // skip a failed script's teardown and keep its $WORK
	// Env is the environment scripts start from (the caller's), before
	// the harness adds its own variables.
	Env []string
	// Prepare gives a script what it runs with, as it starts. ctx ends
	// when the script's timeout passes or the run is interrupted.
	Prepare func(ctx context.Context, s Script) (*Harness, error)
	// Done receives each result as its script ends, one at a time.
	Done func(Result)
}

// Harness is what one script runs with, beyond testscript's own commands
// and conditions.
type Harness struct {
	// Setup completes the script's environment.
	Setup func(env *testscript.Env) error
	// Cmds and Condition extend testscript's commands and conditions. A
	// condition that Condition does not know must be an error.
	Cmds      map[string]func(ts *testscript.TestScript, neg bool, args []string)
	Condition func(cond string) (bool, error)
	// Fallible are commands that run something and may fail; `!` and `?`
	// apply to them as to exec (Command).
	Fallible map[string]Command
	// Teardown removes what the script made. It runs once the script has
	// ended, its background commands included, pass or fail (unless a
	// failed script is kept); an error fails the script.
	Teardown func(ctx context.Context) error
	// Keep says what was kept of a failed script with KeepOnFailure and
	// how to remove it.
	Keep func() string
}

// Status is how a script ended.
type Status string

const (
	Passed  Status = "PASS"
	Failed  Status = "FAIL"
	Skipped Status = "SKIP"
)

// Result is what one script did.
type Result struct {
	Script
	Status     Status
	Start      time.Time
	Duration   time.Duration
	Log        string // testscript's log, then the teardown's errors; empty for a passing script unless Verbose
	SkipReason string
	Updated    bool   // Update rewrote its golden sections
	Kept       string // with KeepOnFailure: what was kept, and how to remove it
}

// teardownBound bounds a script's teardown: it waits for the project's
// lock, then removes containers (a stop is not needed: they are removed by
// force), networks and volumes.
const teardownBound = 2 * time.Minute

// abandonAfter is how long after its timeout a script that has not ended
// is given before the run gives up waiting for it: its commands are told
// to stop at the timeout, so only a command that ignores that is still
// running then.
const abandonAfter = time.Minute

var initTesting sync.Once

// Run runs the scripts, Jobs at a time, and returns their results in the
// scripts' order. A script that has not started when ctx ends is not run.
func Run(ctx context.Context, scripts []Script, opts Options) []Result {
	// testscript's [short] condition asks testing.Short, which panics
	// outside a test binary unless the testing flags are registered and
	// parsed. No flag is given them, so [short] is false.
	initTesting.Do(func() {
		testing.Init()
		if !flag.Parsed() {
			_ = flag.CommandLine.Parse(nil)
		}
	})
	jobs := max(opts.Jobs, 1)
	results := make([]Result, len(scripts))
	next := make(chan int)
	var doneMu sync.Mutex
	var wg sync.WaitGroup
	for range min(jobs, len(scripts)) {
		wg.Go(func() {
			for i := range next {
				results[i] = runOne(ctx, scripts[i], opts)
				if opts.Done != nil {
					doneMu.Lock()
					opts.Done(results[i])
					doneMu.Unlock()
				}
			}
		})
	}
	for i := range scripts {
		if ctx.Err() != nil {
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	var ran []Result
	for _, r := range results {
		if r.Status != "" {
			ran = append(ran, r)
		}
	}
	return ran
}

// runOne runs one script with testscript, in a work folder of its own,
// then tears down what it made.
func runOne(parent context.Context, s Script, opts Options) (res Result) {
	res = Result{Script: s, Start: time.Now()}
	defer func() { res.Duration = time.Since(res.Start) }() // teardown included
	fail := func(format string, args ...any) Result {
		res.Status = Failed
		res.Log += fmt.Sprintf(format, args...) + "\n"
		return res
	}

	ctx, cancel := parent, context.CancelFunc(func() {})
	var deadline, stopAt time.Time
	if opts.Timeout > 0 {
		deadline = res.Start.Add(opts.Timeout)
		// testscript stops the programs a script runs two grace periods
		// before the deadline (a grace period is 5% of the time, at least
		// 100ms), keeping the rest to kill them and write the log; the
		// harness's own commands stop at the same moment.
		grace := max(100*time.Millisecond, opts.Timeout/20)
		stopAt = deadline.Add(-2 * grace)
		ctx, cancel = context.WithDeadlineCause(parent, stopAt, fmt.Errorf("script timed out after %s (--timeout)", opts.Timeout))
	}
	defer cancel()
	h, err := opts.Prepare(ctx, s)
	if err != nil {
		return fail("FAIL: %s: %v", s.Name, err)
	}
	root, err := os.MkdirTemp("", "opdeploy-test-")
	if err != nil {
		return fail("FAIL: %s: %v", s.Name, err)
	}
	before, _ := os.ReadFile(s.File)

	t := &scriptT{verbose: opts.Verbose}
	params := testscript.Params{
		Files:              []string{s.Name}, // as failures name it: file:line
		WorkdirRoot:        root,
		RequireUniqueNames: true,
		UpdateScripts:      opts.Update,
		Deadline:           deadline,
		Cmds:               commands(h),
		Condition:          h.Condition,
		Setup: func(env *testscript.Env) error {
			inheritEnv(env, opts.Env)
			env.Setenv("SUITE", s.Dir())
			if h.Setup != nil {
				return h.Setup(env)
			}
			return nil
		},
	}
	if !finished(ctx, deadline, func() { t.guard(func() { testscript.RunT(t, params) }) }) {
		t.Log(fmt.Sprintf("FAIL: %s: still running %s after its timeout; abandoned (its commands ignored the timeout)", s.Name, abandonAfter))
		t.markFailed()
	}
	log, failed, skipped, reason := t.outcome()
	log, work := cleanLog(log)
	switch {
	case failed:
		res.Status = Failed
		switch {
		case parent.Err() != nil:
			log += fmt.Sprintf("FAIL: %s: interrupted\n", s.Name)
		// testscript's own timer stops the script at stopAt too, and may
		// return a moment before ctx's fires: the clock decides.
		case errors.Is(ctx.Err(), context.DeadlineExceeded) || (!stopAt.IsZero() && !time.Now().Before(stopAt)):
			log += fmt.Sprintf("FAIL: %s: timed out after %s (--timeout)\n", s.Name, opts.Timeout)
		}
	case skipped:
		res.Status, res.SkipReason = Skipped, reason
	default:
		res.Status = Passed
	}
	if res.Status == Failed || opts.Verbose {
		res.Log = log
	}
	if opts.Update {
		after, _ := os.ReadFile(s.File)
		res.Updated = string(after) != string(before)
	}

	if res.Status == Failed && opts.KeepOnFailure {
		if work == "" {
			work = root
		}
		res.Kept = fmt.Sprintf("$WORK kept: %s", work)
		if h.Keep != nil {
			res.Kept = h.Keep() + "\n" + res.Kept
		}
		return res
	}
	os.RemoveAll(root)
	if h.Teardown != nil {
		// The teardown must run even when the run was interrupted or the
		// script timed out, within a bound of its own.
		tctx, tcancel := context.WithTimeout(context.WithoutCancel(parent), teardownBound)
		defer tcancel()
		if err := h.Teardown(tctx); err != nil {
			res.Status = Failed
			res.Log = log + fmt.Sprintf("FAIL: %s: teardown: %v\n", s.Name, err)
		}
	}
	return res
}

// finished runs f on a goroutine of its own and reports whether it ended
// in time: a script may run until its deadline, plus abandonAfter; after
// an interruption it gets abandonAfter to wind down.
func finished(ctx context.Context, deadline time.Time, f func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	var limit <-chan time.Time
	if !deadline.IsZero() {
		timer := time.NewTimer(time.Until(deadline) + abandonAfter)
		defer timer.Stop()
		limit = timer.C
	}
	select {
	case <-done:
		return true
	case <-limit:
		return false
	case <-ctx.Done():
	}
	timer := time.NewTimer(abandonAfter)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		return false
	}
}

// testscriptOwned are the variables testscript sets that the caller's
// environment must not replace.
var testscriptOwned = map[string]bool{"WORK": true, "devnull": true, "/": true, ":": true, "$": true, "exe": true}

// inheritEnv gives the script the caller's environment: a CI job passes
// paths and endpoints that way. testscript's own variables ($WORK and its
// few helpers) win; the caller's HOME, PATH and TMPDIR replace the ones
// testscript makes up.
func inheritEnv(env *testscript.Env, caller []string) {
	for _, kv := range caller {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" || testscriptOwned[k] {
			continue
		}
		env.Vars = append(env.Vars, kv)
	}
}

// cleanLog takes out of a script's log what has no place in a report:
// the WORK= line testscript begins it with (the folder is gone unless the
// script is kept, and then the report names it) and, in a verbose log, the
// listing of the environment that follows it — the caller's environment is
// in it, and a CI job's may hold secrets. It returns the work folder.
func cleanLog(log string) (string, string) {
	first, rest, ok := strings.Cut(log, "\n")
	if !ok || !strings.HasPrefix(first, "WORK=") {
		return log, ""
	}
	// testscript lists the environment in order, PATH right after WORK,
	// and ends the listing with an empty line.
	if strings.HasPrefix(rest, "PATH=") {
		if _, after, ok := strings.Cut(rest, "\n\n"); ok {
			rest = after
		}
	}
	return rest, strings.TrimPrefix(first, "WORK=")
}
