package dockerapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// DefaultCallTimeout bounds one Engine API call (docs/cli.md, "Deadlines").
// A healthy engine answers in milliseconds; a minute is for a machine that
// is thrashing. Stops and restarts get their grace period on top.
const DefaultCallTimeout = time.Minute

// defaultStopGrace is the engine's own grace period when a container sets
// none.
const defaultStopGrace = 10 * time.Second

// boundedAPI bounds every Engine API call, so that an engine that stops
// answering cannot hang a verb: a call fails with a StalledError once its
// bound passes. Streams (events, logs, pulls, builds, imports, exec
// attach) are bounded until the engine starts answering; then they last as
// long as their caller's context. Every call in flight is recorded, so that
// an interrupted verb can say what it was waiting for.
type boundedAPI struct {
	API
	timeout  time.Duration
	inflight *inflight
}

// StalledError says the engine did not answer a call in time.
type StalledError struct {
	Call  string
	After time.Duration
}

func (e *StalledError) Error() string {
	return fmt.Sprintf("the Docker engine did not answer %q within %s (each call is bounded; OPDEPLOY_API_TIMEOUT sets the bound)", e.Call, e.After)
}

// cutError is a call the caller's context ended: it says which call, and
// the caller's reason, in place of the client's raw HTTP error.
type cutError struct {
	call  string
	cause error
}

func (e *cutError) Error() string { return e.call + ": " + e.cause.Error() }
func (e *cutError) Unwrap() error { return e.cause }

// call bounds one call. done must be called with the call's error; it
// returns the error to report.
func (b *boundedAPI) call(ctx context.Context, what string, extra time.Duration) (context.Context, func(error) error) {
	limit := b.timeout + extra
	cctx, cancel := context.WithTimeoutCause(ctx, limit, &StalledError{Call: what, After: limit})
	token := b.inflight.add(what)
	return cctx, func(err error) error {
		b.inflight.remove(token, ctx.Err() != nil)
		stalled := ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded)
		cause := context.Cause(cctx)
		cancel()
		switch {
		case err == nil:
			return nil
		case stalled:
			return cause
		case ctx.Err() != nil:
			// The caller gave up (Ctrl-C, its own deadline): say so in its
			// words, not with the HTTP request the client failed.
			return &cutError{call: what, cause: context.Cause(ctx)}
		}
		return err
	}
}

// stream bounds a call until the engine answers; what it returns (a
// body, a connection) is then bounded only by ctx.
func (b *boundedAPI) stream(ctx context.Context, what string) (context.Context, func(error) error) {
	sctx, cancel := context.WithCancelCause(ctx)
	stalled := &StalledError{Call: what, After: b.timeout}
	timer := time.AfterFunc(b.timeout, func() { cancel(stalled) })
	token := b.inflight.add(what)
	return sctx, func(err error) error {
		answered := timer.Stop()
		b.inflight.remove(token, err != nil && ctx.Err() != nil)
		if err != nil {
			cancel(nil)
			switch {
			case !answered && ctx.Err() == nil:
				return stalled
			case ctx.Err() != nil:
				return &cutError{call: what, cause: context.Cause(ctx)}
			}
		}
		return err
	}
}

func (b *boundedAPI) ContainerList(ctx context.Context, o client.ContainerListOptions) (client.ContainerListResult, error) {
	ctx, done := b.call(ctx, "list containers", 0)
	res, err := b.API.ContainerList(ctx, o)
	return res, done(err)
}

func (b *boundedAPI) ContainerInspect(ctx context.Context, id string, o client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	ctx, done := b.call(ctx, "inspect container "+ShortID(id), 0)
	res, err := b.API.ContainerInspect(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ContainerCreate(ctx context.Context, o client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	ctx, done := b.call(ctx, "create container "+o.Name, 0)
	res, err := b.API.ContainerCreate(ctx, o)
	return res, done(err)
}

func (b *boundedAPI) ContainerStart(ctx context.Context, id string, o client.ContainerStartOptions) (client.ContainerStartResult, error) {
	ctx, done := b.call(ctx, "start container "+ShortID(id), 0)
	res, err := b.API.ContainerStart(ctx, id, o)
	return res, done(err)
}

// ContainerStop waits for the grace period, plus the bound. Without an
// explicit grace period, the container's own is read first.
func (b *boundedAPI) ContainerStop(ctx context.Context, id string, o client.ContainerStopOptions) (client.ContainerStopResult, error) {
	grace, err := b.grace(ctx, id, o.Timeout)
	if err != nil {
		return client.ContainerStopResult{}, err
	}
	ctx, done := b.call(ctx, "stop container "+ShortID(id), grace)
	res, err := b.API.ContainerStop(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ContainerRestart(ctx context.Context, id string, o client.ContainerRestartOptions) (client.ContainerRestartResult, error) {
	grace, err := b.grace(ctx, id, o.Timeout)
	if err != nil {
		return client.ContainerRestartResult{}, err
	}
	ctx, done := b.call(ctx, "restart container "+ShortID(id), grace)
	res, err := b.API.ContainerRestart(ctx, id, o)
	return res, done(err)
}

// grace is how long a stop may wait for the container to exit.
func (b *boundedAPI) grace(ctx context.Context, id string, explicit *int) (time.Duration, error) {
	if explicit != nil {
		return time.Duration(max(*explicit, 0)) * time.Second, nil
	}
	res, err := b.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		if errdefs.IsNotFound(err) {
			return 0, nil // the stop reports it
		}
		return 0, err
	}
	if cfg := res.Container.Config; cfg != nil && cfg.StopTimeout != nil {
		return time.Duration(max(*cfg.StopTimeout, 0)) * time.Second, nil
	}
	return defaultStopGrace, nil
}

func (b *boundedAPI) ContainerKill(ctx context.Context, id string, o client.ContainerKillOptions) (client.ContainerKillResult, error) {
	ctx, done := b.call(ctx, "kill container "+ShortID(id), 0)
	res, err := b.API.ContainerKill(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ContainerPause(ctx context.Context, id string, o client.ContainerPauseOptions) (client.ContainerPauseResult, error) {
	ctx, done := b.call(ctx, "pause container "+ShortID(id), 0)
	res, err := b.API.ContainerPause(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ContainerUnpause(ctx context.Context, id string, o client.ContainerUnpauseOptions) (client.ContainerUnpauseResult, error) {
	ctx, done := b.call(ctx, "unpause container "+ShortID(id), 0)
	res, err := b.API.ContainerUnpause(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ContainerRename(ctx context.Context, id string, o client.ContainerRenameOptions) (client.ContainerRenameResult, error) {
	ctx, done := b.call(ctx, "rename container "+ShortID(id), 0)
	res, err := b.API.ContainerRename(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ContainerRemove(ctx context.Context, id string, o client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	ctx, done := b.call(ctx, "remove container "+ShortID(id), 0)
	res, err := b.API.ContainerRemove(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ContainerUpdate(ctx context.Context, id string, o client.ContainerUpdateOptions) (client.ContainerUpdateResult, error) {
	ctx, done := b.call(ctx, "update container "+ShortID(id), 0)
	res, err := b.API.ContainerUpdate(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ContainerTop(ctx context.Context, id string, o client.ContainerTopOptions) (client.ContainerTopResult, error) {
	ctx, done := b.call(ctx, "list processes of container "+ShortID(id), 0)
	res, err := b.API.ContainerTop(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) CopyToContainer(ctx context.Context, id string, o client.CopyToContainerOptions) (client.CopyToContainerResult, error) {
	ctx, done := b.call(ctx, "copy into container "+ShortID(id), 0)
	res, err := b.API.CopyToContainer(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ContainerLogs(ctx context.Context, id string, o client.ContainerLogsOptions) (client.ContainerLogsResult, error) {
	ctx, done := b.stream(ctx, "logs of container "+ShortID(id))
	res, err := b.API.ContainerLogs(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ExecCreate(ctx context.Context, id string, o client.ExecCreateOptions) (client.ExecCreateResult, error) {
	ctx, done := b.call(ctx, "exec in container "+ShortID(id), 0)
	res, err := b.API.ExecCreate(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ExecAttach(ctx context.Context, execID string, o client.ExecAttachOptions) (client.ExecAttachResult, error) {
	ctx, done := b.stream(ctx, "attach to exec "+ShortID(execID))
	res, err := b.API.ExecAttach(ctx, execID, o)
	return res, done(err)
}

func (b *boundedAPI) ExecInspect(ctx context.Context, execID string, o client.ExecInspectOptions) (client.ExecInspectResult, error) {
	ctx, done := b.call(ctx, "inspect exec "+ShortID(execID), 0)
	res, err := b.API.ExecInspect(ctx, execID, o)
	return res, done(err)
}

func (b *boundedAPI) NetworkList(ctx context.Context, o client.NetworkListOptions) (client.NetworkListResult, error) {
	ctx, done := b.call(ctx, "list networks", 0)
	res, err := b.API.NetworkList(ctx, o)
	return res, done(err)
}

func (b *boundedAPI) NetworkInspect(ctx context.Context, id string, o client.NetworkInspectOptions) (client.NetworkInspectResult, error) {
	ctx, done := b.call(ctx, "inspect network "+ShortID(id), 0)
	res, err := b.API.NetworkInspect(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) NetworkCreate(ctx context.Context, name string, o client.NetworkCreateOptions) (client.NetworkCreateResult, error) {
	ctx, done := b.call(ctx, "create network "+name, 0)
	res, err := b.API.NetworkCreate(ctx, name, o)
	return res, done(err)
}

func (b *boundedAPI) NetworkRemove(ctx context.Context, id string, o client.NetworkRemoveOptions) (client.NetworkRemoveResult, error) {
	ctx, done := b.call(ctx, "remove network "+ShortID(id), 0)
	res, err := b.API.NetworkRemove(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) NetworkConnect(ctx context.Context, id string, o client.NetworkConnectOptions) (client.NetworkConnectResult, error) {
	ctx, done := b.call(ctx, "connect container "+ShortID(o.Container)+" to network "+ShortID(id), 0)
	res, err := b.API.NetworkConnect(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) NetworkDisconnect(ctx context.Context, id string, o client.NetworkDisconnectOptions) (client.NetworkDisconnectResult, error) {
	ctx, done := b.call(ctx, "disconnect container "+ShortID(o.Container)+" from network "+ShortID(id), 0)
	res, err := b.API.NetworkDisconnect(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) VolumeList(ctx context.Context, o client.VolumeListOptions) (client.VolumeListResult, error) {
	ctx, done := b.call(ctx, "list volumes", 0)
	res, err := b.API.VolumeList(ctx, o)
	return res, done(err)
}

func (b *boundedAPI) VolumeCreate(ctx context.Context, o client.VolumeCreateOptions) (client.VolumeCreateResult, error) {
	ctx, done := b.call(ctx, "create volume "+o.Name, 0)
	res, err := b.API.VolumeCreate(ctx, o)
	return res, done(err)
}

func (b *boundedAPI) VolumeRemove(ctx context.Context, id string, o client.VolumeRemoveOptions) (client.VolumeRemoveResult, error) {
	ctx, done := b.call(ctx, "remove volume "+id, 0)
	res, err := b.API.VolumeRemove(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ImageInspect(ctx context.Context, id string, o ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	ctx, done := b.call(ctx, "inspect image "+id, 0)
	res, err := b.API.ImageInspect(ctx, id, o...)
	return res, done(err)
}

func (b *boundedAPI) ImageList(ctx context.Context, o client.ImageListOptions) (client.ImageListResult, error) {
	ctx, done := b.call(ctx, "list images", 0)
	res, err := b.API.ImageList(ctx, o)
	return res, done(err)
}

func (b *boundedAPI) ImageRemove(ctx context.Context, id string, o client.ImageRemoveOptions) (client.ImageRemoveResult, error) {
	ctx, done := b.call(ctx, "remove image "+ShortID(id), 0)
	res, err := b.API.ImageRemove(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ImagePull(ctx context.Context, ref string, o client.ImagePullOptions) (client.ImagePullResponse, error) {
	ctx, done := b.stream(ctx, "pull image "+ref)
	res, err := b.API.ImagePull(ctx, ref, o)
	return res, done(err)
}

func (b *boundedAPI) ImageBuild(ctx context.Context, buildContext io.Reader, o client.ImageBuildOptions) (client.ImageBuildResult, error) {
	ctx, done := b.stream(ctx, "build image "+strings.Join(o.Tags, ", "))
	res, err := b.API.ImageBuild(ctx, buildContext, o)
	return res, done(err)
}

func (b *boundedAPI) ImageImport(ctx context.Context, source client.ImageImportSource, ref string, o client.ImageImportOptions) (client.ImageImportResult, error) {
	ctx, done := b.stream(ctx, "import image "+ref)
	res, err := b.API.ImageImport(ctx, source, ref, o)
	return res, done(err)
}

// Events subscribes; the moby client blocks until the engine answers, so
// the subscription is bounded like a call, and a subscription the engine
// never answers comes back with its StalledError already on Err.
func (b *boundedAPI) Events(ctx context.Context, o client.EventsListOptions) client.EventsResult {
	sctx, done := b.stream(ctx, "subscribe to events")
	res := b.API.Events(sctx, o)
	select {
	case err := <-res.Err:
		errs := make(chan error, 1)
		errs <- done(err)
		return client.EventsResult{Messages: res.Messages, Err: errs}
	default:
		done(nil)
		return res
	}
}

// short is an ID as people read it.
func ShortID(id string) string {
	if len(id) == 64 {
		return id[:12]
	}
	return id
}

// inflight records the Engine API calls under way, and those the caller's
// context cut short: an interrupted verb names them.
type inflight struct {
	mu    sync.Mutex
	next  int
	calls map[int]inflightCall
	cut   []string
}

type inflightCall struct {
	what  string
	since time.Time
}

func (f *inflight) add(what string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[int]inflightCall{}
	}
	f.next++
	f.calls[f.next] = inflightCall{what: what, since: time.Now()}
	return f.next
}

// remove ends a call; cut says the caller's context ended it.
func (f *inflight) remove(token int, cut bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.calls[token]; ok && cut {
		f.cut = append(f.cut, c.describe())
	}
	delete(f.calls, token)
}

func (c inflightCall) describe() string {
	return fmt.Sprintf("%s (for %.1fs)", c.what, time.Since(c.since).Seconds())
}

// list describes the calls cut short, then those still under way, oldest
// first: "stop container 3f2a9c1b4e5d (for 12.3s)".
func (f *inflight) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	calls := make([]inflightCall, 0, len(f.calls))
	for _, c := range f.calls {
		calls = append(calls, c)
	}
	sort.Slice(calls, func(i, j int) bool { return calls[i].since.Before(calls[j].since) })
	out := append([]string(nil), f.cut...)
	for _, c := range calls {
		out = append(out, c.describe())
	}
	return out
}
