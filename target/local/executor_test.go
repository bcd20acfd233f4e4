package local

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// startingEngine fails the start of container "bad" at once, and holds the
// start of any other until the caller gives up on it; the engine then
// finishes that start anyway, as a real engine does with a request whose
// client went away.
type startingEngine struct {
	dockerapi.API
	mu      sync.Mutex
	running map[string]bool
	stops   int
}

func (e *startingEngine) ClientVersion() string { return "1.41" }

func (e *startingEngine) ContainerStart(ctx context.Context, id string, _ client.ContainerStartOptions) (client.ContainerStartResult, error) {
	if id == "bad" {
		return client.ContainerStartResult{}, errors.New("port is already allocated")
	}
	<-ctx.Done()
	e.mu.Lock()
	e.running[id] = true
	e.mu.Unlock()
	return client.ContainerStartResult{}, ctx.Err()
}

func (e *startingEngine) ContainerStop(_ context.Context, id string, _ client.ContainerStopOptions) (client.ContainerStopResult, error) {
	e.mu.Lock()
	e.running[id] = false
	e.stops++
	e.mu.Unlock()
	return client.ContainerStopResult{}, nil
}

func (e *startingEngine) ContainerInspect(_ context.Context, id string, _ client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return client.ContainerInspectResult{Container: container.InspectResponse{State: &container.State{Running: e.running[id]}}}, nil
}

// A start cancelled because a sibling's start failed leaves its container
// stopped, and the progress says so: nothing reported "cancelled" runs.
func TestCancelledStartLeavesNothingRunning(t *testing.T) {
	eng := &startingEngine{running: map[string]bool{}}
	var mu sync.Mutex
	var events []string
	progress := target.ProgressFunc(func(e target.ProgressEvent) {
		mu.Lock()
		events = append(events, e.Resource.Name+" "+string(e.Action)+" "+e.Detail)
		mu.Unlock()
	})
	mon := &monitor{containers: map[string]*containerState{}, changedCh: make(chan struct{}), hc: map[string]bool{}}
	x := newExecutor(&Deployment{project: &types.Project{Name: "p"}}, eng, mon, progress)
	err := x.startContainers(context.Background(), types.ServiceConfig{Name: "web"}, []string{"bad", "good"})
	if err == nil || !strings.Contains(err.Error(), "port is already allocated") {
		t.Fatalf("err = %v", err)
	}
	if eng.running["good"] {
		t.Error("the container whose start was cancelled is running")
	}
	joined := strings.Join(events, "\n")
	if !strings.Contains(joined, "good cancelled start cancelled; not running") {
		t.Errorf("events:\n%s", joined)
	}
}
