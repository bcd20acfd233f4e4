package local

import (
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// inlineDockerfile is the name a build section's dockerfile_inline gets in
// the context opdeploy sends, as docker compose adds it for its classic
// builder.
const inlineDockerfile = ".opdeploy.dockerfile"

// buildOptions translates a service's build section for the engine's
// classic builder (no BuildKit: the keys that need it are rejected when
// the project loads). The image carries docker compose's builder label.
func buildOptions(ref string, s types.ServiceConfig) (client.ImageBuildOptions, error) {
	b := s.Build
	opts := client.ImageBuildOptions{
		Tags:        append([]string{ref}, b.Tags...),
		Dockerfile:  b.Dockerfile,
		Target:      b.Target,
		Remove:      true,
		ForceRemove: true,
		NoCache:     b.NoCache,
		PullParent:  b.Pull,
		NetworkMode: b.Network,
		ExtraHosts:  b.ExtraHosts.AsList(":"),
		ShmSize:     int64(b.ShmSize),
		CacheFrom:   b.CacheFrom,
		BuildArgs:   map[string]*string{},
		Labels:      map[string]string{labelImageBuilder: "classic"},
		Version:     build.BuilderV1,
	}
	if b.DockerfileInline != "" {
		opts.Dockerfile = inlineDockerfile
	}
	for k, v := range b.Labels {
		opts.Labels[k] = v
	}
	for k, v := range b.Args {
		opts.BuildArgs[k] = v
	}
	for _, name := range sortedKeys(b.Ulimits) {
		u := b.Ulimits[name]
		soft, hard := int64(u.Soft), int64(u.Hard)
		if u.Single != 0 {
			soft, hard = int64(u.Single), int64(u.Single)
		}
		opts.Ulimits = append(opts.Ulimits, &container.Ulimit{Name: name, Soft: soft, Hard: hard})
	}
	platform := s.Platform
	if platform == "" && len(b.Platforms) == 1 {
		platform = b.Platforms[0]
	}
	if platform != "" {
		p, err := parsePlatform(platform)
		if err != nil {
			return opts, fmt.Errorf("service %q: platform: %w", s.Name, err)
		}
		opts.Platforms = []ocispec.Platform{p}
	}
	return opts, nil
}

// validateBuild checks a build section's values the key table lets
// through.
func validateBuild(s types.ServiceConfig) error {
	if s.Build == nil {
		return nil
	}
	if len(s.Build.Platforms) > 1 {
		return fmt.Errorf("service %q: build.platforms: the classic builder makes one platform's image; %d are listed", s.Name, len(s.Build.Platforms))
	}
	return nil
}
