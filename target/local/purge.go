package local

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// Purge removes everything the engine holds for a project, whatever made
// it and whatever subject it came from: every container labelled with the
// project (one-off ones too, with their anonymous volumes), its networks,
// its named volumes, and the images built for it under compose's name
// <project>-<service>. It needs only the project's name, so it can clean
// up after a test script however that script ended; `down` instead works
// from the subject and keeps volumes unless asked.
//
// It first takes the project's lock, so an opdeploy still changing the
// project (a script's interrupted `up &`) finishes before anything is
// removed and nothing it makes afterwards survives. Images shared between
// projects (pulled ones, binary_image tags) are kept, as `docker compose
// down` keeps them.
//
// Purge is the one place that knows what a project can leave behind: what
// a new kind of resource adds is removed here too (fault records are).
func Purge(ctx context.Context, engine *dockerapi.Engine, project string) ([]target.Resource, error) {
	if err := target.ValidateName("project", project); err != nil {
		return nil, err
	}
	cli, err := engine.Client(ctx)
	if err != nil {
		return nil, err
	}
	unlock, err := lockProject(ctx, project, target.NoProgress)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return purge(ctx, cli, project)
}

func purge(ctx context.Context, cli dockerapi.API, project string) ([]target.Resource, error) {
	var removed []target.Resource
	var errs []error
	f := client.Filters{}
	f.Add("label", projectFilterLabel(project))

	// Fault records first (helpers holding network rules, fill_disk
	// holders, limit records): they are containers with opdeploy's own
	// fault labels, not the project's, and hold the project's containers
	// and volumes while they exist.
	records, err := listFaultRecords(ctx, cli, project)
	if err != nil {
		return nil, err
	}
	for _, r := range records {
		if _, err := cli.ContainerRemove(ctx, r.RecordID, client.ContainerRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove fault record %s: %w", r.RecordName, err))
			continue
		}
		removed = append(removed, target.Container(r.RecordName))
	}

	containers, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers of project %s: %w", project, err)
	}
	built := map[string]bool{} // images named as compose names the ones it builds
	for _, c := range containers.Items {
		if c.Image == project+"-"+c.Labels[labelService] {
			built[c.Image] = true
		}
		name := containerDisplayName(c)
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove container %s: %w", name, err))
			continue
		}
		removed = append(removed, target.Container(name))
	}

	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		errs = append(errs, fmt.Errorf("list networks of project %s: %w", project, err))
	} else {
		for _, n := range nets.Items {
			if err := removeNetwork(ctx, cli, n.ID); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
				continue
			}
			removed = append(removed, target.Network(n.Name))
		}
	}

	vols, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		errs = append(errs, fmt.Errorf("list volumes of project %s: %w", project, err))
	} else {
		for _, v := range vols.Items {
			if _, err := cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
				continue
			}
			removed = append(removed, target.Volume(v.Name))
		}
	}

	refs := make([]string, 0, len(built))
	for ref := range built {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	for _, ref := range refs {
		// Not forced: an image some other container still runs stays.
		switch _, err := cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{PruneChildren: true}); {
		case err == nil:
			removed = append(removed, target.Image(ref))
		case isNotFound(err) || isConflict(err): // gone already, or still in use
		default:
			errs = append(errs, fmt.Errorf("remove image %s: %w", ref, err))
		}
	}
	return removed, errors.Join(errs...)
}
