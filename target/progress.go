package target

import "time"

// Progress receives what a lifecycle operation is doing, one event at a
// time, from any goroutine. The CLI renders events (TTY, plain, JSON); no
// target prints.
type Progress interface {
	Event(ProgressEvent)
}

// ProgressEvent says that a resource changed or is about to.
type ProgressEvent struct {
	Time     time.Time
	Resource string // "container proj-web-1", "network proj_default", "image nginx"
	Service  string // the service it belongs to, if any
	Action   string // "creating", "created", "starting", "started", "healthy", "waiting", "removed", "warning", ...
	Detail   string // free text: an image being pulled, a health status, a warning
	Done     bool   // the action finished (successfully or not)
	Err      error  // set when the action failed
}

// ProgressFunc adapts a function to Progress.
type ProgressFunc func(ProgressEvent)

func (f ProgressFunc) Event(e ProgressEvent) { f(e) }

// NoProgress discards events.
var NoProgress Progress = ProgressFunc(func(ProgressEvent) {})

// LogLine is one line a container wrote.
type LogLine struct {
	Service   string
	Container string
	Number    int
	Stream    string // "stdout" or "stderr"
	Time      time.Time
	Text      string // without the trailing newline
}

// LogSink receives log lines from any goroutine, in order per container.
type LogSink interface {
	Line(LogLine)
}
