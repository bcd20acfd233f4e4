package swarm

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/types/swarm"

	"github.com/opdeploy/opdeploy/target"
)

// rows are the status rows of the declared services: one per task that
// should run — per replica slot of a replicated service, per node of a
// global one — plus a "missing" row for each slot without a task. The
// counts are opdeploy's own: `docker service ls` counts a task on a Down
// node as running; here it is not ready.
func (d *Deployment) rows(obs observed, services []string, now time.Time) []target.ServiceStatus {
	var out []target.ServiceStatus
	for _, name := range services {
		s := d.project.Services[name]
		svc, ok := obs.services[name]
		if !ok {
			n := s.GetScale()
			if s.Deploy != nil && (s.Deploy.Mode == "global" || s.Deploy.Mode == "global-job") {
				n = 1
			}
			for i := 1; i <= n; i++ {
				out = append(out, target.ServiceStatus{Service: name, Number: i, State: target.StateMissing, Health: target.HealthNone, Counted: true,
					Reason: fmt.Sprintf("missing: no swarm service %s", scoped(d.project.Name, name))})
			}
			continue
		}
		out = append(out, serviceRows(name, s.GetScale(), svc, obs, now)...)
	}
	return out
}

// serviceRows picks, for each slot (or node), the task that stands for it
// now: the newest task the swarm wants running, else the newest task. The
// slots counted are those the compose file declares (declared), not what
// the swarm holds now: a service scaled down behind opdeploy's back has
// missing rows.
func serviceRows(name string, declared int, svc swarm.Service, obs observed, now time.Time) []target.ServiceStatus {
	hasHealth := svc.Spec.TaskTemplate.ContainerSpec != nil && svc.Spec.TaskTemplate.ContainerSpec.Healthcheck != nil &&
		!(len(svc.Spec.TaskTemplate.ContainerSpec.Healthcheck.Test) > 0 && svc.Spec.TaskTemplate.ContainerSpec.Healthcheck.Test[0] == "NONE")
	mode := svc.Spec.Mode
	job := mode.ReplicatedJob != nil || mode.GlobalJob != nil
	perNode := mode.Global != nil || mode.GlobalJob != nil
	tasks := append([]swarm.Task(nil), obs.tasks[name]...)
	// Newest first: the first task seen for a slot stands for it.
	sort.SliceStable(tasks, func(i, j int) bool { return tasks[i].Meta.CreatedAt.After(tasks[j].Meta.CreatedAt) })

	// A replicated service's slots count from 1, a replicated job's from
	// 0; global services have one task per node.
	key := func(t swarm.Task) string {
		if perNode {
			return t.NodeID
		}
		return fmt.Sprint(t.Slot)
	}
	chosen := map[string]swarm.Task{}
	wanted := map[string]bool{}
	for _, t := range tasks {
		k := key(t)
		w := wantedUp(t) || (job && t.DesiredState == swarm.TaskStateComplete)
		if _, seen := chosen[k]; !seen || (w && !wanted[k]) {
			chosen[k], wanted[k] = t, w
		}
	}

	var out []target.ServiceStatus
	missing := func(number int, why string) target.ServiceStatus {
		return target.ServiceStatus{Service: name, Number: number, State: target.StateMissing, Health: target.HealthNone, Counted: true, Reason: why}
	}
	switch {
	case !perNode:
		first := 1
		if mode.ReplicatedJob != nil {
			first = 0
		}
		for slot := first; slot < first+declared; slot++ {
			t, ok := chosen[fmt.Sprint(slot)]
			if !ok {
				out = append(out, missing(slot-first+1, "missing: the swarm has no task for it"))
				continue
			}
			r := taskRow(name, svc, t, obs, hasHealth, job, now)
			r.Number = slot - first + 1
			out = append(out, r)
		}
		// Slots beyond the declared count (a scale-down in progress, or a
		// scale-up behind opdeploy's back).
		for k, t := range chosen {
			if t.Slot >= first+declared && wanted[k] {
				r := taskRow(name, svc, t, obs, hasHealth, job, now)
				r.Number = t.Slot - first + 1
				r.Counted, r.Ready, r.Reason = false, false, "beyond the declared replicas"
				out = append(out, r)
			}
		}
	default: // global: the tasks the swarm wants, one per eligible node
		for k, t := range chosen {
			if wanted[k] || job {
				out = append(out, taskRow(name, svc, t, obs, hasHealth, job, now))
			}
		}
		if len(out) == 0 {
			out = append(out, missing(1, "missing: no task on any node"))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Number != out[j].Number {
			return out[i].Number < out[j].Number
		}
		return out[i].Node < out[j].Node
	})
	if perNode {
		for i := range out {
			out[i].Number = i + 1
		}
	}
	return out
}

// taskRow is one task as a status row, with the verdict: ready when the
// task runs on a Ready node and has passed its healthcheck — run by
// opdeploy (health.go), or by the swarm, which reports a task with a
// healthcheck as running only once it is healthy — or, without one, has
// kept running for target.SettleWindow.
func taskRow(name string, svc swarm.Service, t swarm.Task, obs observed, hasHealth, job bool, now time.Time) target.ServiceStatus {
	r := target.ServiceStatus{
		Service:   name,
		Container: taskName(svc, t, obs),
		Number:    t.Slot,
		Node:      obs.nodeName(t.NodeID),
		State:     stateOf(t.Status.State),
		Health:    target.HealthNone,
		Counted:   true,
	}
	if cs := t.Status.ContainerStatus; cs != nil {
		r.ExitCode = cs.ExitCode
	}
	if t.Spec.ContainerSpec != nil {
		r.Image = t.Spec.ContainerSpec.Image
	}
	if t.Status.State == swarm.TaskStateRunning {
		r.StartedAt = t.Status.Timestamp
	}
	for _, p := range t.Status.PortStatus.Ports {
		r.Ports = append(r.Ports, target.PortBinding{HostPort: uint16(p.PublishedPort), ContainerPort: uint16(p.TargetPort), Protocol: string(p.Protocol)})
	}
	th, probed := obs.health[t.ID]
	if probed && t.Status.State == swarm.TaskStateRunning {
		r.Health = th.health
	}
	if hasHealth {
		switch t.Status.State {
		case swarm.TaskStateRunning:
			r.Health = target.HealthHealthy
		case swarm.TaskStateStarting:
			r.Health = target.HealthStarting
		}
	}
	running := t.Status.State == swarm.TaskStateRunning
	switch {
	case job && t.Status.State == swarm.TaskStateComplete:
		r.Ready, r.Reason = true, "completed"
	case !wantedUp(t):
		r.Reason = fmt.Sprintf("task %s (the swarm wants it %s)", t.Status.State, t.DesiredState)
	case t.NodeID != "" && !obs.nodeReady(t.NodeID):
		r.Reason = fmt.Sprintf("node %s is %s", r.Node, nodeState(obs, t.NodeID))
	case !running:
		r.Reason = "task " + string(t.Status.State) + taskDetail(t)
	case probed && th.health != target.HealthHealthy:
		r.Reason = th.reason
	case !hasHealth && !probed && now.Sub(t.Status.Timestamp) < target.SettleWindow:
		r.Reason = fmt.Sprintf("running for less than %s", target.SettleWindow)
	default:
		r.Ready = true
	}
	return r
}

// taskName is the name `docker service ps` gives a task: service.slot, or
// service.node for a global service.
func taskName(svc swarm.Service, t swarm.Task, obs observed) string {
	if svc.Spec.Mode.Global != nil || svc.Spec.Mode.GlobalJob != nil {
		return svc.Spec.Name + "." + obs.nodeName(t.NodeID)
	}
	return fmt.Sprintf("%s.%d", svc.Spec.Name, t.Slot)
}

func taskDetail(t swarm.Task) string {
	var parts []string
	if t.Status.Err != "" {
		parts = append(parts, t.Status.Err)
	} else if t.Status.Message != "" && t.Status.Message != string(t.Status.State) {
		parts = append(parts, t.Status.Message)
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

func nodeState(obs observed, id string) string {
	n, ok := obs.nodes[id]
	if !ok {
		return "gone from the swarm"
	}
	return string(n.Status.State)
}

// stateOf maps a task state onto a container state as the status table
// shows it.
func stateOf(s swarm.TaskState) target.State {
	switch s {
	case swarm.TaskStateRunning:
		return target.StateRunning
	case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed, swarm.TaskStateRejected, swarm.TaskStateOrphaned, swarm.TaskStateRemove:
		return target.StateExited
	}
	return target.StateCreated
}

// allReady is the verdict over rows: every counted row ready. A service
// that declares no replicas has no rows, and is ready as declared.
func allReady(rows []target.ServiceStatus) bool {
	for _, r := range rows {
		if r.Counted && !r.Ready {
			return false
		}
	}
	return true
}

// wantedUp says whether the swarm means the task to run: desired state
// running, or ready (a new task on its way to running).
func wantedUp(t swarm.Task) bool {
	return t.DesiredState == swarm.TaskStateRunning || t.DesiredState == swarm.TaskStateReady
}
