package local

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// importEngine holds one image tag, empty at first. An import is held
// until release is closed, so a test can decide what happens meanwhile.
type importEngine struct {
	dockerapi.API
	mu      sync.Mutex
	hash    string // the binary-image hash of the image the tag names; "" for none
	imports int
	entered chan struct{} // an import began
	release chan struct{}
}

func (e *importEngine) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.hash == "" {
		return client.ImageInspectResult{}, errdefs.ErrNotFound.WithMessage("no such image: " + ref)
	}
	var res client.ImageInspectResult
	res.ID = "sha256:" + e.hash
	res.Config = &dockerspec.DockerOCIImageConfig{}
	res.Config.Labels = map[string]string{labelBinaryImageHash: e.hash}
	return res, nil
}

func (e *importEngine) ImageImport(_ context.Context, src client.ImageImportSource, _ string, opts client.ImageImportOptions) (client.ImageImportResult, error) {
	_, _ = io.Copy(io.Discard, src.Source)
	e.mu.Lock()
	e.imports++
	e.mu.Unlock()
	e.entered <- struct{}{}
	<-e.release
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range opts.Changes {
		if h, ok := strings.CutPrefix(c, "LABEL "+labelBinaryImageHash+"="); ok {
			e.hash = h
		}
	}
	return io.NopCloser(strings.NewReader(`{"status":"imported"}`)), nil
}

// Two ups of different projects that need the same binary image at the
// same moment build it once: the second waits for the first, then finds
// the image current. Without that, both imported it and the tag's first
// image was left behind, dangling (opdeploy test -j 2 on the etcd subject,
// on a machine without its image yet).
func TestBinaryImageBuiltOnceByConcurrentUps(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("TMPDIR", t.TempDir()) // a lock folder of the test's own
	img := target.BinaryImage{Tag: "opdeploy-test/race:" + strings.ToLower(t.Name()), Binaries: []string{mustLookPath(t, "sh")}}
	eng := &importEngine{entered: make(chan struct{}, 2), release: make(chan struct{})}
	d := &Deployment{spec: target.LocalSpec{Images: []target.BinaryImage{img}}}

	var wg sync.WaitGroup
	errs := make([]error, 2)
	first := make(chan struct{})
	wg.Go(func() {
		errs[0] = d.buildBinaryImages(context.Background(), eng, target.ProgressFunc(func(target.ProgressEvent) {}), false)
	})
	go func() { <-eng.entered; close(first) }()
	select {
	case <-first:
	case <-time.After(30 * time.Second):
		t.Fatal("the first build never began its import")
	}
	// The second build starts while the first imports. It must either
	// wait for the first (it says so) or import as well; either releases
	// the first import.
	waiting := make(chan struct{})
	var once sync.Once
	wg.Go(func() {
		errs[1] = d.buildBinaryImages(context.Background(), eng, target.ProgressFunc(func(e target.ProgressEvent) {
			if e.Action == target.ActionWaiting {
				once.Do(func() { close(waiting) })
			}
		}), false)
	})
	go func() {
		select {
		case <-waiting:
		case <-eng.entered:
		}
		close(eng.release)
	}()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if eng.imports != 1 {
		t.Errorf("the image was imported %d times, want once", eng.imports)
	}
}
