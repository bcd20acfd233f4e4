package local

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// purgeEngine holds one project's resources and records what is removed;
// it answers a list only when the filter names that project.
type purgeEngine struct {
	dockerapi.API
	project string
	inUse   map[string]bool // images another container still runs
	calls   []string
}

func (e *purgeEngine) filtered(f client.Filters) bool {
	return f["label"][labelProject+"="+e.project]
}

func (e *purgeEngine) ContainerList(_ context.Context, o client.ContainerListOptions) (client.ContainerListResult, error) {
	if o.Filters["label"][labelFaultProject+"="+e.project] && o.All {
		return client.ContainerListResult{Items: []container.Summary{
			{ID: "f1", Names: []string{"/opdeploy-fault-delay-p-web-1"}, State: "running", Labels: map[string]string{labelFaultProject: e.project, labelFaultKind: "delay"}},
		}}, nil
	}
	if !e.filtered(o.Filters) || !o.All {
		return client.ContainerListResult{}, errors.New("want every container of the project")
	}
	return client.ContainerListResult{Items: []container.Summary{
		{ID: "c1", Names: []string{"/p-web-1"}, Image: "p-web", Labels: map[string]string{labelService: "web"}},
		{ID: "c2", Names: []string{"/p-db-1"}, Image: "postgres:16", Labels: map[string]string{labelService: "db"}},
		{ID: "c3", Names: []string{"/p-job-run-1"}, Image: "p-job", Labels: map[string]string{labelService: "job", labelOneoff: "True"}},
	}}, nil
}

func (e *purgeEngine) ContainerRemove(_ context.Context, id string, o client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	if !o.Force || (!o.RemoveVolumes && id != "f1") {
		return client.ContainerRemoveResult{}, errors.New("want a forced remove with anonymous volumes")
	}
	e.calls = append(e.calls, "rm "+id)
	return client.ContainerRemoveResult{}, nil
}

func (e *purgeEngine) NetworkList(_ context.Context, o client.NetworkListOptions) (client.NetworkListResult, error) {
	if !e.filtered(o.Filters) {
		return client.NetworkListResult{}, errors.New("unfiltered network list")
	}
	return client.NetworkListResult{Items: []network.Summary{{Network: network.Network{ID: "n1", Name: "p_default"}}}}, nil
}

func (e *purgeEngine) NetworkRemove(_ context.Context, id string, _ client.NetworkRemoveOptions) (client.NetworkRemoveResult, error) {
	e.calls = append(e.calls, "rm network "+id)
	return client.NetworkRemoveResult{}, nil
}

func (e *purgeEngine) VolumeList(_ context.Context, o client.VolumeListOptions) (client.VolumeListResult, error) {
	if !e.filtered(o.Filters) {
		return client.VolumeListResult{}, errors.New("unfiltered volume list")
	}
	return client.VolumeListResult{Items: []volume.Volume{{Name: "p_data"}}}, nil
}

func (e *purgeEngine) VolumeRemove(_ context.Context, name string, _ client.VolumeRemoveOptions) (client.VolumeRemoveResult, error) {
	e.calls = append(e.calls, "rm volume "+name)
	return client.VolumeRemoveResult{}, nil
}

func (e *purgeEngine) ImageRemove(_ context.Context, ref string, o client.ImageRemoveOptions) (client.ImageRemoveResult, error) {
	if o.Force {
		return client.ImageRemoveResult{}, errors.New("an image must not be forced out")
	}
	if e.inUse[ref] {
		return client.ImageRemoveResult{}, errdefs.ErrConflict.WithMessage("image is being used by a running container")
	}
	e.calls = append(e.calls, "rm image "+ref)
	return client.ImageRemoveResult{}, nil
}

// Purge removes the project's fault records first, then every container,
// network and volume of the project, and the images built for it; images
// it only runs (pulled, shared) stay, and so does a built image that
// another container still runs.
func TestPurgeRemovesWhatTheProjectMade(t *testing.T) {
	eng := &purgeEngine{project: "p", inUse: map[string]bool{"p-job": true}}
	removed, err := purge(context.Background(), eng, "p")
	if err != nil {
		t.Fatal(err)
	}
	want := []target.Resource{
		target.Container("opdeploy-fault-delay-p-web-1"), target.Container("p-web-1"), target.Container("p-db-1"), target.Container("p-job-run-1"),
		target.Network("p_default"), target.Volume("p_data"), target.Image("p-web"),
	}
	if !reflect.DeepEqual(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	wantCalls := []string{"rm f1", "rm c1", "rm c2", "rm c3", "rm network n1", "rm volume p_data", "rm image p-web"}
	if !reflect.DeepEqual(eng.calls, wantCalls) {
		t.Errorf("calls %v, want %v", eng.calls, wantCalls)
	}
}
