package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
	"github.com/opdeploy/opdeploy/target/local"
	"github.com/opdeploy/opdeploy/target/swarm"
)

// targets maps each kind of deployment a subject can declare to the
// package that implements it. It is the one place that knows them
// (DESIGN.md: cmd is the composition root); the engine and the language
// see only target.Resolver. A new kind plugs in here.
type targets struct {
	docker *dockerapi.Engine
	// remote holds the engines reached at an explicit endpoint (swarm
	// managers and nodes), one per endpoint, each connected lazily.
	remote *remoteEngines
}

// remoteEngines hands out one Engine per endpoint.
type remoteEngines struct {
	mu      sync.Mutex
	timeout time.Duration
	local   *dockerapi.Engine
	byAddr  map[string]*dockerapi.Engine
}

// dial returns the engine at endpoint; "" is the local engine.
func (r *remoteEngines) dial(endpoint string) *dockerapi.Engine {
	if endpoint == "" {
		return r.local
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.byAddr[endpoint]; ok {
		return e
	}
	e := dockerapi.NewEngineAt(endpoint, r.timeout)
	r.byAddr[endpoint] = e
	return e
}

var _ target.Resolver = targets{}

// Local loads a local_deployment's compose project, to run on the local
// Docker engine.
func (t targets) Local(ctx context.Context, spec target.LocalSpec) (target.DeploymentTarget, error) {
	return local.Load(ctx, spec, t.docker)
}

// Swarm loads a swarm_deployment's compose project, to run on the swarm
// whose manager answers at its endpoint.
func (t targets) Swarm(ctx context.Context, spec target.SwarmSpec) (target.DeploymentTarget, error) {
	return swarm.Load(ctx, spec, swarm.Engines{Local: t.docker, Dial: t.remote.dial})
}

// apiTimeoutEnv overrides the bound on each Engine API call.
const apiTimeoutEnv = "OPDEPLOY_API_TIMEOUT"

// newTargets connects nothing yet: engines connect when a verb first needs
// them.
func newTargets() (targets, error) {
	timeout := dockerapi.DefaultCallTimeout
	if v := os.Getenv(apiTimeoutEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return targets{}, fmt.Errorf("%s=%q: want a positive duration such as 30s", apiTimeoutEnv, v)
		}
		timeout = d
	}
	local := dockerapi.NewEngine(timeout)
	remote := &remoteEngines{timeout: timeout, local: local, byAddr: map[string]*dockerapi.Engine{}}
	return targets{docker: local, remote: remote}, nil
}

// purge removes everything the engine holds for a project, whatever
// kind of target made it: what a test script left behind (test.go).
func (t targets) purge(ctx context.Context, project string) ([]target.Resource, error) {
	return local.Purge(ctx, t.docker, project)
}

// inFlight describes the engine calls under way, on every engine.
func (t targets) inFlight() []string {
	calls := t.docker.InFlight()
	t.remote.mu.Lock()
	defer t.remote.mu.Unlock()
	for addr, e := range t.remote.byAddr {
		for _, c := range e.InFlight() {
			calls = append(calls, c+" (at "+addr+")")
		}
	}
	return calls
}
