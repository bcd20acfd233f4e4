package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
)

// exitInterrupted is the exit code after SIGINT or SIGTERM, as shells use.
const exitInterrupted = 130

// interruptedError is the cause of the context a signal cancels.
type interruptedError struct{ signal os.Signal }

func (e *interruptedError) Error() string { return "interrupted by " + signalName(e.signal) }

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// watchSignals returns a context that SIGINT or SIGTERM cancels. A second
// signal ends the process at once: whatever clean-up was under way is
// abandoned, which the first signal's orderly exit does not need.
func watchSignals(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			cancel(&interruptedError{signal: s})
		case <-done:
			return
		}
		select {
		case s := <-sigs:
			fmt.Fprintf(stderr, "opdeploy: %s again: exiting without waiting\n", signalName(s))
			os.Exit(exitInterrupted)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// activity remembers what a verb is doing, so that an interrupted verb can
// say in one line what was in flight: the subject being evaluated, the
// resources whose action has not finished, the sequence step running.
type activity struct {
	mu      sync.Mutex
	pending map[string]string // key -> description
	order   []string
}

func (a *activity) begin(key, description string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = map[string]string{}
	}
	if _, ok := a.pending[key]; !ok {
		a.order = append(a.order, key)
	}
	a.pending[key] = description
}

func (a *activity) end(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.pending, key)
	for i, k := range a.order {
		if k == key {
			a.order = append(a.order[:i], a.order[i+1:]...)
			break
		}
	}
}

// list is what is under way, first begun first.
func (a *activity) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, k := range a.order {
		if d, ok := a.pending[k]; ok {
			out = append(out, d)
		}
	}
	return out
}

// interruptionLine is the one line an interrupted verb ends with.
func interruptionLine(verb string, cause error, doing, calls []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "opdeploy: %s %s", verb, cause)
	if len(doing) > 3 {
		doing = append(doing[:3:3], fmt.Sprintf("%d more", len(doing)-3))
	}
	if len(doing) > 0 {
		fmt.Fprintf(&b, " while %s", strings.Join(doing, "; "))
	}
	if len(calls) > 0 {
		fmt.Fprintf(&b, " (engine calls in flight: %s)", strings.Join(calls, "; "))
	}
	if note, ok := interruptNotes[verb]; ok {
		b.WriteString("; " + note)
	}
	return b.String()
}

// interruptNotes say, for verbs that change the deployment, what state an
// interruption leaves.
var interruptNotes = map[string]string{
	"up":      "nothing half-made is left that the next up does not converge or down does not remove",
	"restart": "the services restarted so far stay restarted; run restart again to finish",
	"down":    "run down again to remove what remains",
}
