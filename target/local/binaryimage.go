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

// labelBinaryImageHash records the content hash of a binary image's inputs,
// so the image is rebuilt only when they change.
const labelBinaryImageHash = "dev.opdeploy.binary-image.hash"

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
	return files, hash, res.ID, res.Config != nil && res.Config.Labels[labelBinaryImageHash] == hash, nil
}

// buildBinaryImages builds the images whose inputs changed. It returns the
// IDs of the images the builds took the tags from: up removes them once no
// container uses them, so rebuilding leaves no dangling image behind.
func (d *Deployment) buildBinaryImages(ctx context.Context, cli dockerapi.API, progress target.Progress, dryRun bool) (replaced []string, err error) {
	for _, img := range d.spec.Images {
		// A first look without the lock: the image is usually current.
		files, _, _, current, err := binaryImageState(ctx, cli, img)
		if err != nil {
			return replaced, err
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
		built, id, err := buildBinaryImage(ctx, cli, img, progress, event)
		if err != nil {
			return replaced, err
		}
		if built && id != "" {
			replaced = append(replaced, id)
		}
	}
	return replaced, nil
}

// buildBinaryImage builds an image whose inputs changed, unless another
// opdeploy (another project's up) built it while this one waited for the
// image's lock. It returns whether it built, and the ID of the image the
// build took the tag from.
func buildBinaryImage(ctx context.Context, cli dockerapi.API, img target.BinaryImage, progress target.Progress, event func(target.Action, string, bool, error)) (bool, string, error) {
	unlock, err := lockImage(ctx, img.Tag, progress)
	if err != nil {
		return false, "", err
	}
	defer unlock()
	files, hash, oldID, current, err := binaryImageState(ctx, cli, img)
	if err != nil || current {
		return false, "", err
	}
	event(target.ActionBuilding, fmt.Sprintf("%d files from the host", len(files)), false, nil)
	if err := importRootfs(ctx, cli, img, files, hash); err != nil {
		err = fmt.Errorf("binary_image %s: %w", img.Tag, err)
		event(target.ActionBuildFailed, "", true, err)
		return false, "", err
	}
	event(target.ActionBuilt, hash[:12], true, nil)
	return true, oldID, nil
}

// removeReplacedImages removes images a rebuild took the tag from, unless
// a container still uses them (one this up could not recreate): those are
// left for the next up. It is bounded even after ctx ends.
func removeReplacedImages(ctx context.Context, cli dockerapi.API, ids []string, progress target.Progress) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), diagnoseBound)
	defer cancel()
	for _, id := range ids {
		_, err := cli.ImageRemove(ctx, id, client.ImageRemoveOptions{PruneChildren: true})
		if err == nil {
			progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.Image(dockerapi.ShortID(strings.TrimPrefix(id, "sha256:"))), Action: target.ActionRemoved, Detail: "replaced by a rebuild", Done: true})
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
	changes := []string{"ENTRYPOINT " + string(ep), "LABEL " + labelBinaryImageHash + "=" + hash}
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
