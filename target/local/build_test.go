package local

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestBuildOptions(t *testing.T) {
	p := loadCompose(t, `
services:
  app:
    build:
      context: .
      dockerfile_inline: "FROM scratch"
      tags: [app:extra]
      no_cache: true
      pull: true
      network: host
      shm_size: 64m
      cache_from: [app:cache]
      platforms: [linux/arm64]
      labels: {team: storage}
`)
	opts, err := buildOptions("p-app", p.Services["app"])
	if err != nil {
		t.Fatal(err)
	}
	if opts.Dockerfile != inlineDockerfile || strings.Join(opts.Tags, ",") != "p-app,app:extra" || !opts.NoCache || !opts.PullParent ||
		opts.NetworkMode != "host" || opts.ShmSize != 64<<20 || strings.Join(opts.CacheFrom, ",") != "app:cache" ||
		len(opts.Platforms) != 1 || opts.Platforms[0].Architecture != "arm64" ||
		opts.Labels[labelImageBuilder] != "classic" || opts.Labels["team"] != "storage" {
		t.Errorf("options %+v", opts)
	}

	var buf bytes.Buffer
	if err := tarContext(t.TempDir(), "FROM scratch", &buf); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != inlineDockerfile {
		t.Fatalf("context: %v %v", hdr, err)
	}
	if b, _ := io.ReadAll(tr); string(b) != "FROM scratch" {
		t.Errorf("inline Dockerfile %q", b)
	}
	if _, err := tr.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("context holds more: %v", err)
	}
}

func TestBuildKeysNeedingBuildKitAreRejected(t *testing.T) {
	p := loadCompose(t, `
services:
  ssh: {build: {context: ., ssh: [default]}}
  multi: {build: {context: ., platforms: [linux/amd64, linux/arm64]}}
`)
	if _, err := checkSupported(p.Services["ssh"]); err == nil || err.Error() != `service "ssh": build.ssh is not supported by opdeploy yet: it needs BuildKit; opdeploy uses the engine's classic builder (docs/compose.md lists what is)` {
		t.Errorf("ssh: %v", err)
	}
	if err := validateBuild(p.Services["multi"]); err == nil || !strings.Contains(err.Error(), "the classic builder makes one platform's image; 2 are listed") {
		t.Errorf("multi: %v", err)
	}
}
