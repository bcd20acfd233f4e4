package swarm

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
	"github.com/opdeploy/opdeploy/target/local"
)

// localImageIDs builds the subject's binary images on the local engine
// and returns the local ID of every image the services run, when images
// are loaded from there (images = "load"): the IDs go into each service's
// spec, so that a rebuilt image rolls its service.
func (d *Deployment) localImageIDs(ctx context.Context, services []string, progress target.Progress, dryRun bool) (map[string]string, error) {
	if len(d.spec.BinaryImages) == 0 && d.spec.Images != target.ImagesLoad {
		return nil, nil
	}
	api, err := d.engines.Local.Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("the local engine, which builds and holds the images to load: %w", err)
	}
	if err := local.BuildBinaryImages(ctx, api, d.spec.BinaryImages, progress, dryRun); err != nil {
		return nil, err
	}
	if d.spec.Images != target.ImagesLoad {
		return nil, nil
	}
	ids := map[string]string{}
	for _, name := range services {
		ref := d.project.Services[name].Image
		if _, done := ids[ref]; done {
			continue
		}
		res, err := api.ImageInspect(ctx, ref)
		if err != nil {
			if dryRun {
				continue // a binary image a dry run did not build
			}
			return nil, fmt.Errorf("service %q: image %s is not on the local engine, and images = \"load\" loads images from there: %w", name, ref, err)
		}
		ids[ref] = res.ID
	}
	return ids, nil
}

// imageNeed is one node's images to load: those it lacks, or holds in
// another version under the same tag.
type imageNeed struct {
	node swarm.Node
	refs []string
}

// imageNeeds compares, on every node that can run tasks, the image each
// tag names with the local one. up plans with the answer (a task still
// running an older image is rolled) and loads what differs.
func (d *Deployment) imageNeeds(ctx context.Context, obs observed, ids map[string]string) ([]imageNeed, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	refs := make([]string, 0, len(ids))
	for ref := range ids {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	var needs []imageNeed
	for _, n := range loadableNodes(obs) {
		api, err := d.nodeAPI(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("load images into node %s: %w", n.Description.Hostname, err)
		}
		var missing []string
		for _, ref := range refs {
			res, err := api.ImageInspect(ctx, ref)
			if err == nil && res.ID == ids[ref] {
				continue
			}
			missing = append(missing, ref)
		}
		if len(missing) > 0 {
			needs = append(needs, imageNeed{n, missing})
		}
	}
	return needs, nil
}

// loadImages copies into the nodes the images they lack (or hold in
// another version), from the local engine: what `kind load docker-image`
// does. An image is saved once, then loaded into the nodes in parallel.
func (d *Deployment) loadImages(ctx context.Context, needs []imageNeed, progress target.Progress) error {
	if len(needs) == 0 {
		return nil
	}
	archives := map[string]string{} // ref -> saved archive
	defer func() {
		for _, f := range archives {
			os.Remove(f)
		}
	}()
	local, err := d.engines.Local.Client(ctx)
	if err != nil {
		return err
	}
	for _, nd := range needs {
		for _, ref := range nd.refs {
			if _, ok := archives[ref]; ok {
				continue
			}
			f, err := saveImage(ctx, local, ref)
			if err != nil {
				return err
			}
			archives[ref] = f
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(needs))
	for i, nd := range needs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.loadInto(ctx, nd.node, nd.refs, archives, progress)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// loadableNodes are the nodes tasks may be scheduled on: Ready, and not
// drained.
func loadableNodes(obs observed) []swarm.Node {
	var out []swarm.Node
	for _, n := range obs.nodes {
		if n.Status.State == swarm.NodeStateReady && n.Spec.Availability != swarm.NodeAvailabilityDrain {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Description.Hostname < out[j].Description.Hostname })
	return out
}

// loadableNodesAll are the Ready nodes, drained or not.
func loadableNodesAll(obs observed) []swarm.Node {
	var out []swarm.Node
	for _, n := range obs.nodes {
		if n.Status.State == swarm.NodeStateReady {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Description.Hostname < out[j].Description.Hostname })
	return out
}

func (d *Deployment) loadInto(ctx context.Context, n swarm.Node, refs []string, archives map[string]string, progress target.Progress) error {
	api, err := d.nodeAPI(ctx, n)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		res := target.Image(ref + " on " + n.Description.Hostname)
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: res, Action: target.ActionLoading})
		err := loadArchive(ctx, api, archives[ref])
		if err != nil {
			err = fmt.Errorf("load image %s into node %s: %w", ref, n.Description.Hostname, err)
			progress.Event(target.ProgressEvent{Time: time.Now(), Resource: res, Action: target.ActionLoading, Done: true, Err: err})
			return err
		}
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: res, Action: target.ActionLoaded, Done: true})
	}
	return nil
}

// saveImage writes an image from the local engine to a temporary file.
func saveImage(ctx context.Context, api dockerapi.API, ref string) (string, error) {
	f, err := os.CreateTemp("", "opdeploy-image-*.tar")
	if err != nil {
		return "", err
	}
	defer f.Close()
	rc, err := api.ImageSave(ctx, []string{ref})
	if err == nil {
		_, err = io.Copy(f, rc)
		rc.Close()
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("save image %s from the local engine: %w", ref, err)
	}
	return f.Name(), nil
}

// loadArchive loads a saved image into an engine and reads the engine's
// answer to the end: a load fails in the stream, not in the call.
func loadArchive(ctx context.Context, api dockerapi.API, archive string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	rc, err := api.ImageLoad(ctx, f, client.ImageLoadWithQuiet(true))
	if err != nil {
		return err
	}
	defer rc.Close()
	out, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	if i := strings.Index(string(out), `"errorDetail"`); i >= 0 {
		return fmt.Errorf("%s", strings.TrimSpace(string(out[i:])))
	}
	return nil
}
