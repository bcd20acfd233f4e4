package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// swarmEndpoint is a swarm manager to measure against (-swarm); empty
// skips the swarm scenarios. The lab (examples/subjects/swarm-lab.star)
// gives one on this machine.
var swarmEndpoint string

// The swarm scenarios compare opdeploy with the docker CLI's own swarm
// commands on the same compose file and the same swarm: a stack of one
// service with 3 health-checked replicas spread over the nodes, plus one
// without a healthcheck. Both tools find the image already on every node
// (loaded once before the first run), so neither pays for images.
const swarmStack = `services:
  web:
    image: ` + image + `
    healthcheck:
      test: ["CMD", "/testsvc", "probe"]
      interval: 500ms
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      update_config: {parallelism: 1, monitor: 1s, order: stop-first}
      restart_policy: {delay: 0s}
  side:
    image: ` + image + `
    deploy:
      endpoint_mode: dnsrr
`

func (b *bench) swarmScenarios() {
	if swarmEndpoint == "" {
		return
	}
	dir := filepath.Join(b.dir, "swarm")
	star := fmt.Sprintf("subject(name = \"benchswarm\", target = swarm_deployment(endpoint = %q, compose = \"stack.yaml\", images = \"load\"))\n", swarmEndpoint)
	if err := os.MkdirAll(dir, 0o755); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "stack.yaml"), []byte(swarmStack), 0o644)
		_ = os.WriteFile(filepath.Join(dir, "subject.star"), []byte(star), 0o644)
	}
	up := b.opdeploy("swarm", "up", "subject.star")
	down := b.opdeploy("swarm", "down", "subject.star")
	// The first up loads the image into the nodes; later runs find it.
	if err := up(); err != nil {
		fmt.Fprintln(os.Stderr, "swarm: first up:", err)
		return
	}
	_ = down()

	const stack = "benchstack"
	docker := func(args ...string) func() error {
		return func() error {
			cmd := exec.Command("docker", append([]string{"-H", swarmEndpoint}, args...)...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, lastLine(out))
			}
			return nil
		}
	}
	// --resolve-image never: opdeploy does not ask a registry either (there
	// is none here), and asking one that does not answer only adds waiting.
	sDeploy := docker("stack", "deploy", "--detach=false", "--resolve-image", "never", "-c", "stack.yaml", stack)
	// As an untimed setup, a deploy right after a removal may meet the
	// same race (the manager still lists the old network): try again.
	sUpRetry := func() error {
		err := sDeploy()
		for i := 0; err != nil && strings.Contains(err.Error(), "not found") && i < 10; i++ {
			time.Sleep(time.Second)
			err = sDeploy()
		}
		return err
	}
	sUp := sDeploy
	// stack rm returns before the stack's network is gone, and a deploy
	// right after it fails ("network benchstack_default not found"): the
	// untimed teardown waits for the network too.
	sRm := docker("stack", "rm", "--detach=false", stack)
	sDown := func() error {
		if err := sRm(); err != nil {
			return err
		}
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if docker("network", "inspect", stack+"_default")() != nil {
				return nil
			}
		}
		return fmt.Errorf("network %s_default still there a minute after stack rm", stack)
	}
	sRoll := docker("service", "update", "--force", "--detach=false", stack+"_web")

	cold := "(s) swarm: cold deploy to healthy"
	noop := "(t) swarm: no-op redeploy"
	roll := "(u) swarm: rolling restart, 3 tasks"
	rm := "(v) swarm: down"

	b.measure(cold, "opdeploy up", nil, up, down)
	b.measure(cold, "docker stack deploy", nil, sUp, sDown)
	_ = up()
	b.measure(noop, "opdeploy up", nil, up, nil)
	b.measure(roll, "opdeploy restart web", nil, b.opdeploy("swarm", "restart", "subject.star", "web"), nil)
	_ = down()
	_ = sUp()
	b.measure(noop, "docker stack deploy", nil, sUp, nil)
	b.measure(roll, "docker service update --force", nil, sRoll, nil)
	_ = sDown()
	b.measure(rm, "opdeploy down", up, down, nil)
	b.measure(rm, "docker stack rm", sUpRetry, sRm, func() error { return sDown() })
}
