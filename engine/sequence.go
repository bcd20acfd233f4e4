package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	gostarlark "go.starlark.net/starlark"

	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
)

// StepKind says what a StepEvent reports.
type StepKind string

const (
	StepStart StepKind = "start" // a step began
	StepEnd   StepKind = "end"   // a step ended (Err says whether it failed)
	StepLog   StepKind = "log"   // a ctx.log or print message
)

// StepEvent reports a sequence's progress: a step (one ctx action) starting
// or ending, or a ctx.log message.
type StepEvent struct {
	Time     time.Time
	Kind     StepKind
	Step     string // ctx method: "restart", "wait_healthy", …
	Args     string // its arguments, briefly: "etcd0"
	Pos      target.Pos
	Duration time.Duration // for "end"
	Err      error         // for a failed "end"
	Message  string        // for "log"
}

// RunOptions control a sequence run.
type RunOptions struct {
	// Timeout bounds the whole run; zero means no limit.
	Timeout time.Duration
	// Steps receives step events; nil discards them.
	Steps func(StepEvent)
}

// SequenceError says where a sequence failed: the Starlark error with its
// backtrace, the step in flight, and the last log lines of the service that
// step acted on.
type SequenceError struct {
	Sequence string
	Err      error // a *starlark.Error when the failure has a position
	Step     string
	StepArgs string
	StepPos  target.Pos
	Service  string
	LogTail  []string
}

func (e *SequenceError) Error() string { return e.Err.Error() }
func (e *SequenceError) Unwrap() error { return e.Err }

// Run runs the named sequence against the subject's target.
func (s *Subject) Run(ctx context.Context, name string, opts RunOptions) error {
	seq, ok := s.Sequence(name)
	if !ok {
		var names []string
		for _, q := range s.Sequences {
			names = append(names, q.Name)
		}
		return fmt.Errorf("no sequence %q in subject %q%s (sequences: %s)", name, s.Name, starlark.DidYouMean(name, names), orNone(strings.Join(names, ", ")))
	}
	op, ok := s.Target.(target.Operator)
	if !ok {
		return s.notSupported("run")
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, fmt.Errorf("sequence %q did not finish within --timeout %s", name, opts.Timeout))
		defer cancel()
	}
	steps := &stepGate{to: opts.Steps}
	r := &runner{subject: s, op: op, ctx: ctx, emit: steps.emit}
	_, err := r.call(seq.Name, seq.Fn)
	// Whatever happened, the sequence's faults are healed (unless kept).
	if herr := r.healApplied(); herr != nil {
		if err == nil {
			return &SequenceError{Sequence: seq.Name, Err: herr, Step: "heal"}
		}
		err = errors.Join(err, herr)
	}
	var ab *starlark.AbandonedError
	if errors.As(err, &ab) {
		// The sequence's goroutine is still inside one operation and may
		// yet touch r: report from what is known now, and let none of its
		// late step events out.
		steps.close()
		return &SequenceError{Sequence: seq.Name, Err: err}
	}
	if err != nil {
		return r.failure(seq.Name, err)
	}
	return nil
}

// stepGate passes step events on until it is closed.
type stepGate struct {
	mu     sync.Mutex
	to     func(StepEvent)
	closed bool
}

func (g *stepGate) emit(e StepEvent) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed && g.to != nil {
		g.to(e)
	}
}

func (g *stepGate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
}

// runFuncCheck runs a check written in Starlark: True passes, False fails,
// an error fails with its message.
func (s *Subject) runFuncCheck(ctx context.Context, fc *FuncCheck) (string, error) {
	op, ok := s.Target.(target.Operator)
	if !ok {
		op = unsupportedOperator{}
	}
	r := &runner{subject: s, op: op, ctx: ctx, emit: func(StepEvent) {}, quiet: 1}
	v, err := r.call("check "+fc.Name, fc.Fn)
	if herr := r.healApplied(); herr != nil {
		err = errors.Join(err, herr)
	}
	if err != nil {
		return "", starlark.WrapError(err)
	}
	if !v.Truth() {
		return "", fmt.Errorf("returned %s", starlark.Brief(v))
	}
	return "returned " + starlark.Brief(v), nil
}

// runner runs Starlark code that drives the target through ctx.
type runner struct {
	subject *Subject
	op      target.Operator
	ctx     context.Context
	emit    func(StepEvent)
	quiet   int // >0 inside wait_until's function: steps are not reported

	ctxv *ctxValue // built on first use (ctx.go)

	// faults the sequence applied without keep, healed when it ends
	faultMu sync.Mutex
	applied []string

	// the step that failed last, for the failure report
	failedStep, failedArgs, failedService string
	failedPos                             target.Pos
}

// call runs fn(ctx) on a thread of its own, within the subject's memory
// limit (see starlark.Bounded). Sequences have no step limit: their
// timeouts and Ctrl-C bound them.
func (r *runner) call(name string, fn gostarlark.Callable) (gostarlark.Value, error) {
	thread := &gostarlark.Thread{
		Name: name,
		Print: func(t *gostarlark.Thread, msg string) {
			r.emit(StepEvent{Time: time.Now(), Kind: StepLog, Message: msg, Pos: callerPos(t)})
		},
	}
	return starlark.Bounded(r.ctx, thread, starlark.Limits{MaxMemory: r.subject.MaxMemory}, func(ctx context.Context) (gostarlark.Value, error) {
		// Steps run under r.ctx: while fn runs it is Bounded's context, so
		// passing the memory limit also ends a step in flight (a sleep, a
		// wait), not only the Starlark code around it.
		saved := r.ctx
		r.ctx = ctx
		defer func() { r.ctx = saved }()
		return gostarlark.Call(thread, fn, gostarlark.Tuple{r.ctxValue()}, nil)
	})
}

func (r *runner) failure(name string, err error) error {
	se := &SequenceError{Sequence: name, Err: starlark.WrapError(err), Step: r.failedStep, StepArgs: r.failedArgs, StepPos: r.failedPos, Service: r.failedService}
	if r.failedService != "" && r.op != nil {
		tailCtx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 5*time.Second)
		se.LogTail = r.op.LogTail(tailCtx, r.failedService, 10)
		cancel()
	}
	return se
}

func callerPos(t *gostarlark.Thread) target.Pos {
	for i := 0; i < t.CallStackDepth(); i++ {
		fr := t.CallFrame(i)
		if fr.Pos.Filename() != "<builtin>" && fr.Pos.IsValid() {
			return target.Pos{File: fr.Pos.Filename(), Line: int(fr.Pos.Line), Col: int(fr.Pos.Col)}
		}
	}
	return target.Pos{}
}

// sequencePos is the position in the sequence function itself (the
// outermost Starlark frame) that led to the running builtin: the line of the
// sequence an operator reads, even when the step is made by a helper. The
// failure report's backtrace has the inner frames.
func sequencePos(t *gostarlark.Thread) target.Pos {
	for i := t.CallStackDepth() - 1; i >= 0; i-- {
		fr := t.CallFrame(i)
		if fr.Pos.Filename() != "<builtin>" && fr.Pos.IsValid() {
			return target.Pos{File: fr.Pos.Filename(), Line: int(fr.Pos.Line), Col: int(fr.Pos.Col)}
		}
	}
	return target.Pos{}
}

// step runs one ctx action: reported with its start and duration, bounded
// by its own timeout (when positive) and the run's. The action runs on its
// own goroutine, so the bound holds even when a call inside it ignores its
// context: the step ends at its deadline (plus cleanupGrace) and the call
// is left to finish.
func (r *runner) step(t *gostarlark.Thread, name, args, service string, timeout time.Duration, fn func(ctx context.Context) (gostarlark.Value, error)) (gostarlark.Value, error) {
	return r.runStep(t, name, args, service, timeout, func(ctx context.Context) (gostarlark.Value, error) {
		return boundedCall(ctx, fn)
	})
}

// stepOnThread is step for an action that runs Starlark code on the
// sequence's own thread (wait_until's function), which must not leave the
// thread's goroutine; cancelling the thread bounds it instead.
func (r *runner) stepOnThread(t *gostarlark.Thread, name, args string, timeout time.Duration, fn func(ctx context.Context) (gostarlark.Value, error)) (gostarlark.Value, error) {
	return r.runStep(t, name, args, "", timeout, fn)
}

func (r *runner) runStep(t *gostarlark.Thread, name, args, service string, timeout time.Duration, fn func(ctx context.Context) (gostarlark.Value, error)) (gostarlark.Value, error) {
	pos := sequencePos(t)
	start := time.Now()
	if r.quiet == 0 {
		r.emit(StepEvent{Time: start, Kind: StepStart, Step: name, Args: args, Pos: pos})
	}
	ctx := r.ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, &notDoneError{within: timeout})
		defer cancel()
	}
	v, err := fn(ctx)
	if err != nil && ctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		err = context.Cause(ctx) // "not done within 30s" rather than "context deadline exceeded"
	}
	// A target that cannot take the action says so in the one form every
	// such message has, without the step's arguments around it: they are
	// not what went wrong. One already made (by a step inside wait_until's
	// function) keeps its own position.
	notSupported := errors.Is(err, target.ErrNotSupported)
	var ns *NotSupportedError
	if notSupported && !errors.As(err, &ns) {
		err = r.subject.notSupported("ctx." + name)
	}
	if r.quiet == 0 {
		r.emit(StepEvent{Time: time.Now(), Kind: StepEnd, Step: name, Args: args, Pos: pos, Duration: time.Since(start), Err: err})
	}
	if err != nil && r.quiet == 0 {
		// Failures inside wait_until's function are "not yet", not the
		// failure of the sequence; they are not remembered for its report.
		r.failedStep, r.failedArgs, r.failedPos, r.failedService = name, args, pos, service
	}
	if err != nil && notSupported {
		return nil, err
	}
	if err != nil {
		return nil, &StepError{Step: name, Args: args, Err: err}
	}
	if v == nil {
		v = gostarlark.None
	}
	return v, nil
}

// StepError is a failed step: "wait_healthy etcd0: not ready after 60s".
type StepError struct {
	Step, Args string
	Err        error
}

func (e *StepError) Error() string {
	if e.Args == "" {
		return e.Step + ": " + e.Err.Error()
	}
	return e.Step + " " + e.Args + ": " + e.Err.Error()
}

func (e *StepError) Unwrap() error { return e.Err }

// notDoneError is the cause of a step's own timeout.
type notDoneError struct{ within time.Duration }

func (e *notDoneError) Error() string { return fmt.Sprintf("not done within %s", e.within) }

// cleanupGrace is how long a step waits, past its deadline, for its action
// to return: an action that sees its context end cleans up (a timed-out
// exec kills its command) and says so. One that ignores its context is
// abandoned then.
const cleanupGrace = 2 * time.Second

// boundedCall runs fn on its own goroutine and returns when it does, or
// cleanupGrace after ctx ends, whichever is first.
func boundedCall(ctx context.Context, fn func(ctx context.Context) (gostarlark.Value, error)) (gostarlark.Value, error) {
	type result struct {
		v   gostarlark.Value
		err error
	}
	done := make(chan result, 1) // the call may finish after the step has given up on it
	go func() {
		v, err := fn(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
	}
	select {
	case r := <-done:
		return r.v, r.err
	case <-time.After(cleanupGrace):
		return nil, context.Cause(ctx)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
