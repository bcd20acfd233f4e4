package local

import (
	"archive/tar"
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// copyFile copies a secret or config into a created container through the
// engine's archive endpoint, as docker compose does on engines without
// Swarm: the engine makes the folders it lacks, and the file gets the
// mode, uid and gid the service asks for (0444, root, by default).
func copyFile(ctx context.Context, cli dockerapi.API, id string, f containerFile) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     strings.TrimPrefix(f.Target, "/"),
		Size:     int64(len(f.Content)),
		Mode:     f.Mode,
		ModTime:  time.Now(),
		Uid:      f.UID,
		Gid:      f.GID,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := tw.Write(f.Content); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	_, err := cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/", Content: &buf, CopyUIDGID: f.OwnerSet})
	return err
}
