package local

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
	"github.com/opdeploy/opdeploy/target/local/faulthelper"
)

// faultHelperRepo names the helper images: opdeploy itself (its hidden
// fault-helper command) and the host's iptables programs, packed the way
// binary_image packs host binaries. The tag is the content hash, so
// opdeploy builds of different versions never use each other's helper.
const faultHelperRepo = "opdeploy/fault-helper"

// xtablesExtensions are the iptables extensions the helper's rules use.
// iptables loads them with dlopen, so binary_image's search for the
// libraries a binary needs does not find them.
var xtablesExtensions = []string{"libxt_standard.so", "libxt_statistic.so", "libxt_NFQUEUE.so"}

// helperImage is computed once per process: hashing opdeploy's own binary
// takes tens of milliseconds.
var helperImage struct {
	mu    sync.Mutex
	files []rootfsFile
	img   target.BinaryImage
	hash  string
}

// faultHelperImage makes sure the helper image exists and returns its tag.
func faultHelperImage(ctx context.Context, cli dockerapi.API) (string, error) {
	helperImage.mu.Lock()
	defer helperImage.mu.Unlock()
	if helperImage.hash == "" {
		img, files, hash, err := assembleFaultHelper()
		if err != nil {
			return "", fmt.Errorf("fault helper image: %w", err)
		}
		helperImage.img, helperImage.files, helperImage.hash = img, files, hash
	}
	tag := faultHelperRepo + ":" + helperImage.hash[:12]
	if _, err := cli.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	} else if !isNotFound(err) {
		return "", err
	}
	img := helperImage.img
	img.Tag = tag
	if err := importRootfs(ctx, cli, img, helperImage.files, helperImage.hash); err != nil {
		return "", fmt.Errorf("fault helper image %s: %w", tag, err)
	}
	pruneFaultHelperImages(ctx, cli, tag)
	return tag, nil
}

// assembleFaultHelper lists the helper image's files with binary_image's
// own code; opdeploy's executable lands at /opdeploy, the name its
// commands are dispatched on.
func assembleFaultHelper() (target.BinaryImage, []rootfsFile, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return target.BinaryImage{}, nil, "", err
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return target.BinaryImage{}, nil, "", err
	}
	img := target.BinaryImage{Tag: faultHelperRepo, Binaries: []string{exe}, Files: map[string]string{}, Entrypoint: []string{"/opdeploy", "fault-helper"}}
	for _, bin := range faulthelper.Backends {
		if _, err := os.Stat(bin); err == nil {
			img.Binaries = append(img.Binaries, bin)
		}
	}
	if len(img.Binaries) == 1 {
		return img, nil, "", fmt.Errorf("no iptables on this machine (%s); scripts/setup installs Debian's iptables", faulthelper.Backends[0])
	}
	dirs, _ := filepath.Glob("/usr/lib/*/xtables")
	dirs = append(dirs, "/usr/lib/xtables", "/usr/lib64/xtables")
	search := librarySearchDirs()
	for _, name := range xtablesExtensions {
		for _, dir := range dirs {
			if p := filepath.Join(dir, name); fileExists(p) {
				img.Files[p] = p
				// Libraries an extension needs beyond iptables' own
				// (libxt_statistic needs libm).
				for _, lib := range neededLibraries(p, search) {
					img.Files[lib] = lib
				}
				break
			}
		}
	}
	files, err := assembleRootfs(img)
	if err != nil {
		return img, nil, "", err
	}
	for i := range files {
		if files[i].Path == exe {
			files[i].Path = "/opdeploy"
		}
	}
	hash, err := rootfsHash(img, files)
	return img, files, hash, err
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// pruneFaultHelperImages removes helper images of other opdeploy builds
// that no container uses and that are more than an hour old (another
// opdeploy process may be about to use a newer one). An image in use is
// refused by the engine, which is what keeps it.
func pruneFaultHelperImages(ctx context.Context, cli dockerapi.API, keep string) {
	f := client.Filters{}
	f.Add("reference", faultHelperRepo)
	res, err := cli.ImageList(ctx, client.ImageListOptions{Filters: f})
	if err != nil {
		return
	}
	for _, img := range res.Items {
		if time.Since(time.Unix(img.Created, 0)) < time.Hour {
			continue
		}
		for _, t := range img.RepoTags {
			if t != keep {
				_, _ = cli.ImageRemove(ctx, t, client.ImageRemoveOptions{})
			}
		}
	}
}

// neededLibraries finds the shared libraries an ELF object names, in the
// loader's folders.
func neededLibraries(object string, search []string) []string {
	f, err := elf.Open(object)
	if err != nil {
		return nil
	}
	defer f.Close()
	names, _ := f.ImportedLibraries()
	var out []string
	for _, n := range names {
		for _, dir := range search {
			if p := filepath.Join(dir, n); fileExists(p) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}
