package local

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// imageRef is the image a service runs: its own, or for a build-only
// service the name docker compose gives it.
func imageRef(project string, s types.ServiceConfig) string {
	if s.Image != "" {
		return s.Image
	}
	return project + "-" + s.Name
}

// inspectImage returns a local image's ID and platform; a zero
// observedImage when it is not present.
func inspectImage(ctx context.Context, cli dockerapi.API, ref string) (observedImage, error) {
	res, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		if isNotFound(err) {
			return observedImage{}, nil
		}
		return observedImage{}, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	return observedImage{ID: res.ID, OS: res.Os, Architecture: res.Architecture, Variant: res.Variant}, nil
}

// pullImage pulls ref (for platform, when not ""), reporting progress. No
// registry is reachable on our machines, so the error must say which
// services needed which image.
func pullImage(ctx context.Context, cli dockerapi.API, ref, platform string, services []string, progress target.Progress) error {
	event := func(action target.Action, detail string, done bool, err error) {
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.Image(ref), Action: action, Detail: detail, Done: done, Err: err})
	}
	event(target.ActionPulling, "for "+strings.Join(services, ", "), false, nil)
	opts := client.ImagePullOptions{}
	if platform != "" {
		p, err := parsePlatform(platform)
		if err != nil {
			return fmt.Errorf("service %s: platform: %w", services[0], err)
		}
		opts.Platforms = []ocispec.Platform{p}
	}
	resp, err := cli.ImagePull(ctx, ref, opts)
	if err == nil {
		for msg, jerr := range resp.JSONMessages(ctx) {
			if jerr != nil {
				err = jerr
				break
			}
			if msg.Error != nil {
				err = errors.New(msg.Error.Message)
				break
			}
		}
		resp.Close()
	}
	if err != nil {
		who := "service " + services[0]
		if len(services) > 1 {
			who = "services " + strings.Join(services, ", ")
		}
		err = fmt.Errorf("%s: image %s is not present and cannot be pulled: %w", who, ref, err)
		event(target.ActionPullFailed, "", true, err)
		return err
	}
	event(target.ActionPulled, "", true, nil)
	return nil
}

// buildImage builds a service's image with the engine's build endpoint from
// a tar of its context folder.
func buildImage(ctx context.Context, cli dockerapi.API, ref string, s types.ServiceConfig, progress target.Progress) error {
	b := s.Build
	event := func(action target.Action, detail string, done bool, err error) {
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.Image(ref), Service: s.Name, Action: action, Detail: detail, Done: done, Err: err})
	}
	event(target.ActionBuilding, b.Context, false, nil)
	opts, err := buildOptions(ref, s)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarContext(b.Context, b.DockerfileInline, pw)) }()
	defer pr.Close()
	res, err := cli.ImageBuild(ctx, pr, opts)
	if err == nil {
		err = readBuildStream(res.Body, func(line string) { event(target.ActionBuilding, line, false, nil) })
		res.Body.Close()
	}
	if err != nil {
		err = fmt.Errorf("service %q: build %s from %s: %w", s.Name, ref, b.Context, err)
		event(target.ActionBuildFailed, "", true, err)
		return err
	}
	event(target.ActionBuilt, "", true, nil)
	return nil
}

// readBuildStream reads the engine's stream of JSON messages (build,
// import), passing each output line to line and returning the first error
// the stream reports.
func readBuildStream(r io.Reader, line func(string)) error {
	dec := json.NewDecoder(r)
	for {
		var msg jsonstream.Message
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if msg.Error != nil {
			return errors.New(strings.TrimSpace(msg.Error.Message))
		}
		if s := strings.TrimSpace(msg.Stream); s != "" {
			line(s)
		}
	}
}

// tarContext writes the build context folder as a tar stream, with an
// inline Dockerfile (when not "") added as inlineDockerfile. Entries named
// in a .dockerignore at its root are skipped (exact names and simple
// "dir/" prefixes; patterns with wildcards are not interpreted yet).
func tarContext(dir, inline string, w io.Writer) error {
	ignored := map[string]bool{}
	if data, err := os.ReadFile(filepath.Join(dir, ".dockerignore")); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				ignored[strings.TrimSuffix(filepath.Clean(l), "/")] = true
			}
		}
	}
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == "." {
			return nil
		}
		if ignored[rel] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if inline != "" {
		if err := tw.WriteHeader(&tar.Header{Name: inlineDockerfile, Mode: 0o644, Size: int64(len(inline)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := io.WriteString(tw, inline); err != nil {
			return err
		}
	}
	return tw.Close()
}

// joinImageErrors reports every image that could not be had, one per line.
func joinImageErrors(errs []error) error {
	var lines []string
	for _, err := range errs {
		if err != nil {
			lines = append(lines, err.Error())
		}
	}
	sort.Strings(lines)
	switch len(lines) {
	case 0:
		return nil
	case 1:
		return errors.New(lines[0])
	}
	return fmt.Errorf("%d images could not be had:\n  %s", len(lines), strings.Join(lines, "\n  "))
}

// checkImages rejects, before anything changes, images that up cannot use
// as they are: one that is missing with pull_policy never, and one present
// for another platform than the service asks for (the engine would refuse
// to create the container). An image the plan pulls or builds (pending) is
// checked when up plans again, once it is made.
func checkImages(desired []desiredService, obs observedState, pending map[string]bool) error {
	for _, s := range desired {
		if s.Pull == "never" && s.ImageID == "" && !s.Build && !s.Binary {
			return fmt.Errorf("service %q: image %s is not present and pull_policy is never", s.name(), s.Image)
		}
		if s.Config.Platform == "" || s.ImageID == "" || pending[s.Image] {
			continue
		}
		want, err := parsePlatform(s.Config.Platform)
		if err != nil {
			return fmt.Errorf("service %q: platform: %w", s.name(), err)
		}
		img := obs.Images[s.Image]
		if !platformMatches(want, img.OS, img.Architecture, img.Variant) {
			have := img.OS + "/" + img.Architecture
			if img.Variant != "" {
				have += "/" + img.Variant
			}
			return fmt.Errorf("service %q: image %s is for %s, and the service's platform is %s", s.name(), s.Image, have, platformString(want))
		}
	}
	return nil
}
