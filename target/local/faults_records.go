package local

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// A fault is recorded on the engine as one container per target container
// (docs/faults.md): for a network fault, the helper that holds it, running
// in the target's network namespace; for a full disk or a limit, a
// container that is created and never started. Its labels carry what the
// fault is. They are opdeploy's own, not compose's, so compose, status's
// rows and orphan detection never see these containers.
const (
	labelFaultProject       = "dev.opdeploy.fault.project"
	labelFaultID            = "dev.opdeploy.fault.id"
	labelFaultKind          = "dev.opdeploy.fault.kind"
	labelFaultService       = "dev.opdeploy.fault.service"
	labelFaultContainer     = "dev.opdeploy.fault.container"
	labelFaultContainerID   = "dev.opdeploy.fault.container-id"
	labelFaultArgs          = "dev.opdeploy.fault.args"
	labelFaultSince         = "dev.opdeploy.fault.since"
	labelFaultTargetStarted = "dev.opdeploy.fault.target-started"
	labelFaultChain         = "dev.opdeploy.fault.chain"
	labelFaultPath          = "dev.opdeploy.fault.path"
	labelFaultHostPath      = "dev.opdeploy.fault.host-path"
)

// faultRecord is one record container and what it says.
type faultRecord struct {
	target.Fault
	RecordID, RecordName string
	Running              bool // the helper is running
	NeverStarted         bool // a helper whose start failed or was cut short
	TargetID             string
	TargetStarted        string
	Chain                string
	Path, HostPath       string
}

func (r faultRecord) labels(project string) map[string]string {
	l := map[string]string{
		labelFaultProject:     project,
		labelFaultID:          r.ID,
		labelFaultKind:        string(r.Kind),
		labelFaultService:     r.Service,
		labelFaultContainer:   r.Container,
		labelFaultContainerID: r.TargetID,
		labelFaultArgs:        r.Args,
		labelFaultSince:       r.Since.UTC().Format(time.RFC3339Nano),
	}
	for k, v := range map[string]string{labelFaultTargetStarted: r.TargetStarted, labelFaultChain: r.Chain, labelFaultPath: r.Path, labelFaultHostPath: r.HostPath} {
		if v != "" {
			l[k] = v
		}
	}
	return l
}

// listFaultRecords reads every record of the project, oldest first.
func listFaultRecords(ctx context.Context, cli dockerapi.API, project string) ([]faultRecord, error) {
	f := client.Filters{}
	f.Add("label", labelFaultProject+"="+project)
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list fault records: %w", err)
	}
	var out []faultRecord
	for _, c := range res.Items {
		l := c.Labels
		since, _ := time.Parse(time.RFC3339Nano, l[labelFaultSince])
		out = append(out, faultRecord{
			Fault: target.Fault{
				ID: l[labelFaultID], Kind: target.FaultKind(l[labelFaultKind]), Service: l[labelFaultService],
				Container: l[labelFaultContainer], Args: l[labelFaultArgs], Since: since,
			},
			RecordID: c.ID, RecordName: containerDisplayName(c), Running: c.State == "running", NeverStarted: c.State == "created",
			TargetID: l[labelFaultContainerID], TargetStarted: l[labelFaultTargetStarted], Chain: l[labelFaultChain],
			Path: l[labelFaultPath], HostPath: l[labelFaultHostPath],
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Since.Equal(b.Since) {
			return a.Since.Before(b.Since)
		}
		if a.Service != b.Service {
			return target.NaturalLess(a.Service, b.Service)
		}
		return target.NaturalLess(a.Container, b.Container)
	})
	return out, nil
}

// targetNow is what a fault's target container is now.
type targetNow struct {
	Exists, Running bool
	StartedAt       string
	Pid             int
}

// inspectTargets reads the current state of the records' targets.
func inspectTargets(ctx context.Context, cli dockerapi.API, recs []faultRecord) (map[string]targetNow, error) {
	out := map[string]targetNow{}
	ids := map[string]bool{}
	for _, r := range recs {
		ids[r.TargetID] = true
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for id := range ids {
		g.Go(func() error {
			res, err := cli.ContainerInspect(gctx, id, client.ContainerInspectOptions{})
			now := targetNow{}
			switch {
			case isNotFound(err):
			case err != nil:
				return err
			default:
				st := res.Container.State
				now = targetNow{Exists: true, Running: st.Running || st.Paused, StartedAt: st.StartedAt, Pid: st.Pid}
			}
			mu.Lock()
			out[id] = now
			mu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}

// inForce says whether a record's fault still acts, and if not why.
//
//   - A network fault lives in the target's network namespace, which a
//     restart replaces: it is in force while the target runs with the
//     start it had when the fault was applied. A delay also needs its
//     helper (packets wait in the helper's queue; without it they pass).
//   - A limit is kept by the engine across restarts: in force while the
//     container exists.
//   - A filler file survives restarts: in force while the container exists
//     and (when it runs, so it can be looked at) the file is there.
func inForce(r faultRecord, t targetNow) (bool, string) {
	if !t.Exists {
		return false, "its container was removed"
	}
	switch {
	case isNetworkFault(r.Kind):
		if !t.Running || t.StartedAt != r.TargetStarted {
			return false, "its container stopped or restarted since (a restart replaces the network namespace the rules were in)"
		}
		if r.Kind == target.FaultDelay && !r.Running {
			return false, "its helper is not running (packets are no longer held)"
		}
		if r.NeverStarted {
			return false, "its helper never started"
		}
	case r.Kind == target.FaultFillDisk:
		if t.Running && !fillerExists(t.Pid, r.Path) {
			return false, "its filler file is gone"
		}
	}
	return true, ""
}
