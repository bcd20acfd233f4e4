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
	Resource Resource // what changed; zero for a plan line
	Service  string   // the service it belongs to, if any
	Action   Action
	Detail   string // free text: what it waits for, why it recreates, a warning, a plan line
	Done     bool   // the action finished (successfully or not)
	Err      error  // set when the action failed
}

// Resource names a thing a progress event is about.
type Resource struct {
	Kind ResourceKind
	Name string
}

// ResourceKind is what kind of thing a Resource is.
type ResourceKind string

const (
	KindContainer ResourceKind = "container"
	KindNetwork   ResourceKind = "network"
	KindVolume    ResourceKind = "volume"
	KindImage     ResourceKind = "image"
	KindService   ResourceKind = "service"
	KindProject   ResourceKind = "project"
	KindCheck     ResourceKind = "check"
)

// String is "container etcd-etcd0-1", or "" for no resource.
func (r Resource) String() string {
	if r.Kind == "" {
		return r.Name
	}
	return string(r.Kind) + " " + r.Name
}

// IsZero reports whether the event names no resource.
func (r Resource) IsZero() bool { return r.Kind == "" && r.Name == "" }

func Container(name string) Resource    { return Resource{KindContainer, name} }
func Network(name string) Resource      { return Resource{KindNetwork, name} }
func Volume(name string) Resource       { return Resource{KindVolume, name} }
func Image(ref string) Resource         { return Resource{KindImage, ref} }
func ServiceOf(name string) Resource    { return Resource{KindService, name} }
func ProjectNamed(name string) Resource { return Resource{KindProject, name} }
func Check(name string) Resource        { return Resource{KindCheck, name} }

// Action is what happened to a resource. docs/cli.md lists them: they are
// part of the --progress json schema.
type Action string

const (
	ActionPlan         Action = "plan" // a line of up --dry-run's plan, in Detail
	ActionWarning      Action = "warning"
	ActionCreating     Action = "creating"
	ActionCreated      Action = "created"
	ActionCreateFailed Action = "create failed"
	ActionStarting     Action = "starting"
	ActionStarted      Action = "started"
	ActionStartFailed  Action = "start failed"
	ActionCancelled    Action = "cancelled"
	ActionRecreating   Action = "recreating"
	ActionUpdating     Action = "updating" // a swarm service's spec is being updated
	ActionUpdated      Action = "updated"
	ActionLoading      Action = "loading" // an image is being copied into a node's engine
	ActionLoaded       Action = "loaded"
	ActionRestarting   Action = "restarting"
	ActionRestarted    Action = "restarted"
	ActionStopping     Action = "stopping"
	ActionRemoving     Action = "removing"
	ActionRemoved      Action = "removed"
	ActionPulling      Action = "pulling"
	ActionPulled       Action = "pulled"
	ActionPullFailed   Action = "pull failed"
	ActionBuilding     Action = "building"
	ActionBuilt        Action = "built"
	ActionBuildFailed  Action = "build failed"
	ActionWaiting      Action = "waiting"
	ActionReady        Action = "ready"
	ActionPassed       Action = "passed"
)

// ProgressFunc adapts a function to Progress.
type ProgressFunc func(ProgressEvent)

func (f ProgressFunc) Event(e ProgressEvent) { f(e) }

// NoProgress discards events.
var NoProgress Progress = ProgressFunc(func(ProgressEvent) {})

// OrNoProgress returns p, or NoProgress when p is nil: what a target does
// with the Progress its caller may leave unset.
func OrNoProgress(p Progress) Progress {
	if p == nil {
		return NoProgress
	}
	return p
}

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
