package local

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// Exec runs a command in the first running replica and collects its output.
func (d *Deployment) Exec(ctx context.Context, service string, command []string) (target.ExecResult, error) {
	cli, cs, err := d.serviceContainers(ctx, service)
	if err != nil {
		return target.ExecResult{}, err
	}
	c, ok := firstRunning(cs)
	if !ok {
		return target.ExecResult{}, fmt.Errorf("service %q has no running container to exec in", service)
	}
	return ExecIn(ctx, cli, c.ID, c.Name, command)
}

// ExecIn runs a command in a running container and collects its output,
// bounded in memory; a command abandoned when ctx ends is killed. A swarm
// deployment runs it against a task's node engine.
func ExecIn(ctx context.Context, cli dockerapi.API, id, name string, command []string) (target.ExecResult, error) {
	c := struct{ ID, Name string }{id, name}
	created, err := cli.ExecCreate(ctx, c.ID, client.ExecCreateOptions{Cmd: command, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return target.ExecResult{}, fmt.Errorf("exec in %s: %w", c.Name, err)
	}
	att, err := cli.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return target.ExecResult{}, fmt.Errorf("exec in %s: %w", c.Name, err)
	}
	defer att.Close()
	stdout, stderr := &cappedBuffer{max: maxExecOutput}, &cappedBuffer{max: maxExecOutput}
	done := make(chan error, 1)
	go func() { _, err := stdcopy.StdCopy(stdout, stderr, att.Reader); done <- err }()
	select {
	case <-ctx.Done():
		err := context.Cause(ctx)
		if left := stopExec(ctx, cli, created.ID, c.ID); left != "" {
			err = fmt.Errorf("%w; %s", err, left)
		}
		return target.ExecResult{}, err
	case err := <-done:
		if err != nil {
			return target.ExecResult{}, fmt.Errorf("exec in %s: %w", c.Name, err)
		}
	}
	res, err := cli.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
	if err != nil {
		return target.ExecResult{}, fmt.Errorf("exec in %s: %w", c.Name, err)
	}
	return target.ExecResult{ExitCode: res.ExitCode, Stdout: stdout.String(), Stderr: stderr.String()}, nil
}

// execStartGrace is how long an abandoned exec may take to start.
const execStartGrace = 2 * time.Second

// maxExecOutput bounds what an exec's output may hold in memory, per stream.
const maxExecOutput = 16 << 20

// stopExec kills a command whose exec was abandoned (its step or check
// timed out): the Engine API has no call for that, and the command would
// otherwise keep running in the container. It kills the exec's process and
// every process it started, by their host PIDs, after checking that they
// are in the container. It returns what it could not do, for the error
// ("" when nothing is left running).
func stopExec(ctx context.Context, cli dockerapi.API, execID, containerID string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), diagnoseBound)
	defer cancel()
	res, err := cli.ExecInspect(ctx, execID, client.ExecInspectOptions{})
	// An exec whose start request was cut short may still be started by
	// the engine: until it has a PID, look again (no event says when), up
	// to execStartGrace.
	for deadline := time.Now().Add(execStartGrace); err == nil && res.PID == 0 && !res.Running && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		res, err = cli.ExecInspect(ctx, execID, client.ExecInspectOptions{})
	}
	switch {
	case err != nil:
		return fmt.Sprintf("the command may still be running: %v", err)
	case res.PID == 0:
		return "the command never started"
	case !res.Running:
		return ""
	}
	if err := killProcessTree(res.PID, containerID); err != nil {
		return fmt.Sprintf("the command may still be running (pid %d): %v", res.PID, err)
	}
	return "the command was killed"
}

// cappedBuffer keeps the first max bytes written to it and counts the rest.
type cappedBuffer struct {
	bytes.Buffer
	max     int
	dropped int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.Len()
	if room >= len(p) {
		return b.Buffer.Write(p)
	}
	if room > 0 {
		b.Buffer.Write(p[:room])
	}
	b.dropped += len(p) - max(room, 0)
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	if b.dropped == 0 {
		return b.Buffer.String()
	}
	return b.Buffer.String() + fmt.Sprintf("\n[opdeploy: %d more bytes of output dropped]", b.dropped)
}
