package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
	"github.com/opdeploy/opdeploy/target/local"
)

// targets maps each kind of deployment a subject can declare to the
// package that implements it. It is the one place that knows them
// (DESIGN.md: cmd is the composition root); the engine and the language
// see only target.Resolver. A new kind plugs in here.
type targets struct {
	docker *dockerapi.Engine
}

var _ target.Resolver = targets{}

// Local loads a local_deployment's compose project, to run on the local
// Docker engine.
func (t targets) Local(ctx context.Context, spec target.LocalSpec) (target.DeploymentTarget, error) {
	return local.Load(ctx, spec, t.docker)
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
	return targets{docker: dockerapi.NewEngine(timeout)}, nil
}

// purge removes everything the engine holds for a project, whatever
// kind of target made it: what a test script left behind (test.go).
func (t targets) purge(ctx context.Context, project string) ([]target.Resource, error) {
	return local.Purge(ctx, t.docker, project)
}

// inFlight describes the engine calls under way.
func (t targets) inFlight() []string { return t.docker.InFlight() }
