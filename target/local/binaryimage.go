package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// A binary image carries the content hash of its inputs, so it is rebuilt
// only when they change, and its tag, so the images a rebuild took the tag
// from are found and removed later, even by another up.
const (
	labelBinaryImageHash = "dev.opdeploy.binary-image.hash"
	labelBinaryImageTag  = "dev.opdeploy.binary-image.tag"
)

// binaryImageState says whether an image must be built: it returns the
// inputs' hash and whether the image with that hash exists.
// It also returns the ID of the image the tag names now ("" if none).
func binaryImageState(ctx context.Context, cli dockerapi.API, img target.BinaryImage) (files []rootfsFile, hash, id string, current bool, err error) {
	files, err = assembleRootfs(img)
	if err != nil {
		return nil, "", "", false, fmt.Errorf("binary_image %s (%s): %w", img.Tag, img.Pos, err)
	}
	if hash, err = rootfsHash(img, files); err != nil {
		return nil, "", "", false, fmt.Errorf("binary_image %s: %w", img.Tag, err)
	}
	res, err := cli.ImageInspect(ctx, img.Tag)
	if err != nil {
		if isNotFound(err) {
			return files, hash, "", false, nil
		}
		return nil, "", "", false, err
	}
	built := res.Config != nil && res.Config.Labels[labelBinaryImageHash] != ""
	if !built {
		// Never take the tag from an image opdeploy did not build (a pulled
		// postgres:16, one built by hand): it would be replaced, then
		// removed as left over.
		return nil, "", "", false, fmt.Errorf("binary_image %s (%s): the tag names an image opdeploy did not build (it has no %s label); choose another tag, or remove that image", img.Tag, img.Pos, labelBinaryImageHash)
	}
	return files, hash, res.ID, res.Config.Labels[labelBinaryImageHash] == hash, nil
}

// buildBinaryImages builds the images whose inputs changed.
func (d *Deployment) buildBinaryImages(ctx context.Context, cli dockerapi.API, progress target.Progress, dryRun bool) error {
	return BuildBinaryImages(ctx, cli, d.spec.Images, progress, dryRun)
}

// BuildBinaryImages builds, on the local engine, the binary images whose
// inputs changed: what a local deployment does before it creates
// containers, and a swarm deployment before it loads images into nodes.
func BuildBinaryImages(ctx context.Context, cli dockerapi.API, images []target.BinaryImage, progress target.Progress, dryRun bool) error {
	progress = target.OrNoProgress(progress)
	for _, img := range images {
		// A first look without the lock: the image is usually current.
		files, _, _, current, err := binaryImageState(ctx, cli, img)
		if err != nil {
			return err
		}
		event := func(action target.Action, detail string, done bool, err error) {
			progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.Image(img.Tag), Action: action, Detail: detail, Done: done, Err: err})
		}
		if current {
			continue
		}
		if dryRun {
			progress.Event(target.ProgressEvent{Time: time.Now(), Action: target.ActionPlan, Detail: fmt.Sprintf("build binary image %s (%d files)", img.Tag, len(files))})
			continue
		}
		if err := buildBinaryImage(ctx, cli, img, progress, event); err != nil {
			return err
		}
	}
	return nil
}

// buildBinaryImage builds an image whose inputs changed, unless another
// opdeploy (another project's up) built it while this one waited for the
// image's lock.
func buildBinaryImage(ctx context.Context, cli dockerapi.API, img target.BinaryImage, progress target.Progress, event func(target.Action, string, bool, error)) error {
	unlock, err := lockImage(ctx, img.Tag, progress)
	if err != nil {
		return err
	}
	defer unlock()
	files, hash, _, current, err := binaryImageState(ctx, cli, img)
	if err != nil || current {
		return err
	}
	event(target.ActionBuilding, fmt.Sprintf("%d files from the host", len(files)), false, nil)
	if err := importRootfs(ctx, cli, img, files, hash); err != nil {
		err = fmt.Errorf("binary_image %s: %w", img.Tag, err)
		event(target.ActionBuildFailed, "", true, err)
		return err
	}
	event(target.ActionBuilt, "inputs "+hash[:12], true, nil)
	return nil
}

// removeStaleBinaryImages removes the images rebuilds of the subject's
// binary images took the tags from — found by their tag label, whatever
// up rebuilt them — unless a container still uses them: those are left
// for a later up. It is bounded even after ctx ends.
func removeStaleBinaryImages(ctx context.Context, cli dockerapi.API, images []target.BinaryImage, progress target.Progress) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), diagnoseBound)
	defer cancel()
	for _, img := range images {
		current, err := cli.ImageInspect(ctx, img.Tag)
		if err != nil {
			continue
		}
		f := client.Filters{}
		f.Add("label", labelBinaryImageTag+"="+img.Tag)
		list, err := cli.ImageList(ctx, client.ImageListOptions{All: true, Filters: f})
		if err != nil {
			continue
		}
		for _, old := range list.Items {
			if old.ID == current.ID {
				continue
			}
			if _, err := cli.ImageRemove(ctx, old.ID, client.ImageRemoveOptions{PruneChildren: true}); err == nil {
				progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.Image(dockerapi.ShortID(strings.TrimPrefix(old.ID, "sha256:"))),
					Action: target.ActionRemoved, Detail: "replaced by a rebuild of " + img.Tag, Done: true})
			}
		}
	}
}

// importRootfs streams the files as a root filesystem tar to the engine's
// image import endpoint, with the entrypoint and the hash label.
func importRootfs(ctx context.Context, cli dockerapi.API, img target.BinaryImage, files []rootfsFile, hash string) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeRootfs(pw, files)) }()
	defer pr.Close()
	ep, _ := json.Marshal(entrypointOf(img, files))
	changes := []string{"ENTRYPOINT " + string(ep), "LABEL " + labelBinaryImageHash + "=" + hash, "LABEL " + labelBinaryImageTag + "=" + img.Tag}
	if dirs := libraryDirs(files); dirs != "" {
		changes = append(changes, "ENV LD_LIBRARY_PATH="+dirs)
	}
	res, err := cli.ImageImport(ctx, client.ImageImportSource{Source: pr, SourceName: "-"}, img.Tag, client.ImageImportOptions{Changes: changes})
	if err != nil {
		return err
	}
	defer res.Close()
	return readBuildStream(res, func(string) {})
}
