package local

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opdeploy/opdeploy/target/dockerapi"
)

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
		// The engine makes an exec's process a session leader; what it
		// starts keeps the session even when it double-forks away from
		// the tree, as daemons do.
		for _, p := range inSession(pid) {
			tree[p] = true
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
	fields := procStat(pid)
	return len(fields) == 0 || fields[0] == "Z" || fields[0] == "X" // gone, or waiting to be reaped
}

// inContainer reports whether a host process belongs to the container:
// its cgroup path names the container's ID (cgroupfs and systemd drivers
// both do).
func inContainer(pid int, containerID string) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return err == nil && containerID != "" && strings.Contains(string(data), containerID)
}

// inSession lists the processes of session sid, read from /proc.
func inSession(sid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if fields := procStat(p); len(fields) > 3 && fields[3] == strconv.Itoa(sid) {
			out = append(out, p)
		}
	}
	return out
}

// procStat returns the fields of /proc/pid/stat after the command name
// (which may hold spaces): state, parent, process group, session, …
func procStat(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	return strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
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
		fields := procStat(p)
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
