package local

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
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
	switch {
	case err != nil:
		return fmt.Sprintf("the command may still be running: %v", err)
	case !res.Running:
		return ""
	}
	if err := killProcessTree(res.PID, containerID); err != nil {
		return fmt.Sprintf("the command may still be running (pid %d): %v", res.PID, err)
	}
	return "the command was killed"
}

// killProcessTree SIGKILLs pid and its descendants, which must be processes
// of the container (the engine runs on this machine, which opdeploy's
// local target assumes everywhere: bind mounts, checks). A process may
// start another while the tree is being killed, so the tree is read again
// until nothing of it is alive.
func killProcessTree(pid int, containerID string) error {
	if !inContainer(pid, containerID) {
		return fmt.Errorf("process %d is not in container %s on this machine", pid, dockerapi.ShortID(containerID))
	}
	tree := map[int]bool{pid: true} // every process seen: a killed parent's children are re-parented
	for range 10 {
		for p := range tree {
			for _, child := range descendants(p) {
				tree[child] = true
			}
		}
		var alive []int
		for p := range tree {
			if inContainer(p, containerID) && !zombie(p) {
				alive = append(alive, p)
			}
		}
		if len(alive) == 0 {
			return nil
		}
		for _, p := range alive {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond) // let the kernel deliver the kills; no event tells us
	}
	return fmt.Errorf("processes of the command are still alive after SIGKILL")
}

// zombie reports whether a process has exited and waits to be reaped.
func zombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // gone
	}
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	return len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X")
}

// inContainer reports whether a host process belongs to the container:
// its cgroup path names the container's ID (cgroupfs and systemd drivers
// both do).
func inContainer(pid int, containerID string) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return err == nil && containerID != "" && strings.Contains(string(data), containerID)
}

// descendants lists the processes descended from pid, read from /proc.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the command name (which may hold spaces) start
		// after the last ')': state, then the parent's pid.
		fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		if len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	queue := children[pid]
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, p)
		queue = append(queue, children[p]...)
	}
	return out
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
