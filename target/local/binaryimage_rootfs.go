package local

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/opdeploy/opdeploy/target"
)

// rootfsFile is one regular file of a binary image.
type rootfsFile struct {
	Path string // in the image, absolute
	Src  string // on the host, symlinks resolved
	Mode os.FileMode
}

// assembleRootfs lists the files of a binary image: each binary at its
// host path, the ELF interpreter and every shared library they need
// (found as the dynamic loader would), and the listed files.
func assembleRootfs(img target.BinaryImage) ([]rootfsFile, error) {
	files := map[string]rootfsFile{}
	add := func(imagePath, hostPath string) error {
		real, err := filepath.EvalSymlinks(hostPath)
		if err != nil {
			return err
		}
		st, err := os.Stat(real)
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", hostPath)
		}
		files[imagePath] = rootfsFile{Path: imagePath, Src: real, Mode: st.Mode().Perm()}
		return nil
	}
	searchDirs := librarySearchDirs()
	// visit resolves hostPath's needs. inherited are the RPATH folders of
	// the objects that loaded it: glibc searches a loader's DT_RPATH for its
	// dependencies' dependencies too.
	var visit func(hostPath string, inherited []string) error
	seen := map[string]bool{}
	visit = func(hostPath string, inherited []string) error {
		if seen[hostPath] {
			return nil
		}
		seen[hostPath] = true
		f, err := elf.Open(hostPath)
		if err != nil {
			return nil // not ELF (a script, a data file): nothing to resolve
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				b, err := io.ReadAll(p.Open())
				if err != nil {
					return err
				}
				interp := strings.TrimRight(string(b), "\x00")
				if err := add(interp, interp); err != nil {
					return fmt.Errorf("%s: interpreter %s: %w", hostPath, interp, err)
				}
			}
		}
		needed, _ := f.ImportedLibraries()
		// $ORIGIN is the folder of the object itself, symbolic links resolved.
		origin := filepath.Dir(hostPath)
		if real, err := filepath.EvalSymlinks(hostPath); err == nil {
			origin = filepath.Dir(real)
		}
		expand := func(paths []string) []string {
			var out []string
			for _, p := range strings.Split(strings.Join(paths, ":"), ":") {
				if p != "" {
					out = append(out, strings.NewReplacer("${ORIGIN}", origin, "$ORIGIN", origin).Replace(p))
				}
			}
			return out
		}
		runpath, _ := f.DynString(elf.DT_RUNPATH)
		rpath, _ := f.DynString(elf.DT_RPATH)
		var own []string
		if len(runpath) > 0 { // RUNPATH replaces RPATH, and is not inherited
			own = expand(runpath)
		} else {
			own = append(expand(rpath), inherited...)
		}
		passOn := inherited
		if len(runpath) == 0 {
			passOn = own
		}
		for _, soname := range needed {
			found := ""
			for _, dir := range append(own, searchDirs...) {
				candidate := filepath.Join(dir, soname)
				if _, err := os.Stat(candidate); err == nil {
					found = candidate
					break
				}
			}
			if found == "" {
				return fmt.Errorf("%s needs %s, which is in none of %s", hostPath, soname, strings.Join(searchDirs, ", "))
			}
			if err := add(found, found); err != nil {
				return err
			}
			if err := visit(found, passOn); err != nil {
				return err
			}
		}
		return nil
	}
	for _, bin := range img.Binaries {
		hostPath := bin
		if !filepath.IsAbs(bin) {
			p, err := exec.LookPath(bin)
			if err != nil {
				return nil, fmt.Errorf("binary %q is not on PATH", bin)
			}
			if hostPath, err = filepath.Abs(p); err != nil {
				return nil, err
			}
		}
		if err := add(hostPath, hostPath); err != nil {
			return nil, fmt.Errorf("binary %s: %w", bin, err)
		}
		if err := checkExecutableELF(hostPath); err != nil {
			return nil, fmt.Errorf("binary %s: %w", bin, err)
		}
		if err := visit(hostPath, nil); err != nil {
			return nil, err
		}
	}
	for dest, src := range img.Files {
		if err := add(dest, src); err != nil {
			return nil, fmt.Errorf("file %s: %w", dest, err)
		}
	}
	out := make([]rootfsFile, 0, len(files))
	for _, f := range files {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// librarySearchDirs are the folders the dynamic loader searches, from
// /etc/ld.so.conf (and its includes) and the built-in defaults.
func librarySearchDirs() []string {
	var dirs []string
	var read func(file string, depth int)
	read = func(file string, depth int) {
		f, err := os.Open(file)
		if err != nil || depth > 4 {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = strings.TrimSpace(line[:i])
			}
			switch {
			case line == "":
			case strings.HasPrefix(line, "include "):
				matches, _ := filepath.Glob(strings.TrimSpace(strings.TrimPrefix(line, "include ")))
				sort.Strings(matches)
				for _, m := range matches {
					read(m, depth+1)
				}
			default:
				dirs = append(dirs, line)
			}
		}
	}
	read("/etc/ld.so.conf", 0)
	return append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib")
}

// libraryDirs lists, for LD_LIBRARY_PATH, the folders of the image's
// shared libraries. The image has no /etc/ld.so.cache, which is how the
// loader learns /etc/ld.so.conf's folders, so libraries found through it
// (or an RPATH) would otherwise not be found in the container.
func libraryDirs(files []rootfsFile) string {
	seen := map[string]bool{}
	var dirs []string
	for _, f := range files {
		base := path.Base(f.Path)
		if !strings.Contains(base, ".so") || strings.HasPrefix(base, "ld-linux") {
			continue
		}
		if dir := path.Dir(f.Path); !seen[dir] {
			seen[dir] = true
			dirs = append(dirs, dir)
		}
	}
	return strings.Join(dirs, ":")
}

// rootfsHash is the content hash of everything that makes the image.
func rootfsHash(img target.BinaryImage, files []rootfsFile) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "tag %s\nentrypoint %q\nlibrary path %s\n", img.Tag, entrypointOf(img, files), libraryDirs(files))
	for _, f := range files {
		data, err := os.ReadFile(f.Src)
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(h, "%s %o %x\n", f.Path, f.Mode, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func entrypointOf(img target.BinaryImage, files []rootfsFile) []string {
	if len(img.Entrypoint) > 0 {
		return img.Entrypoint
	}
	bin := img.Binaries[0]
	if !filepath.IsAbs(bin) {
		if p, err := exec.LookPath(bin); err == nil {
			bin, _ = filepath.Abs(p)
		}
	}
	return []string{bin}
}

func writeRootfs(w io.Writer, files []rootfsFile) error {
	tw := tar.NewWriter(w)
	dirs := map[string]bool{"/": true}
	mkdir := func(dir string, mode int64) error {
		var parents []string
		for d := dir; !dirs[d]; d = path.Dir(d) {
			parents = append([]string{d}, parents...)
			dirs[d] = true
		}
		for _, p := range parents {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(p, "/") + "/", Mode: mode}); err != nil {
				return err
			}
		}
		return nil
	}
	// Programs commonly need a writable /tmp.
	if err := mkdir("/tmp", 0o1777); err != nil {
		return err
	}
	for _, f := range files {
		if err := mkdir(path.Dir(f.Path), 0o755); err != nil {
			return err
		}
		data, err := os.ReadFile(f.Src)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(f.Path, "/"), Mode: int64(f.Mode), Size: int64(len(data))}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// checkExecutableELF rejects a binary that could not run in the image: not
// an ELF file (a script would need its interpreter, a data file nothing
// runs), or not executable. Found at build time, not as "permission
// denied" when the container starts.
func checkExecutableELF(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not an ELF executable (binary_image packs programs; put other files in files = {...})", path)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("%s is an ELF %s, not an executable", path, f.Type)
	}
	if st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not executable (mode %s)", path, st.Mode().Perm())
	}
	return nil
}
