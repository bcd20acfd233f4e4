package local

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opdeploy/opdeploy/target"
)

func TestAssembleRootfsResolvesSharedLibraries(t *testing.T) {
	sh, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Skip("no /bin/sh")
	}
	extra := filepath.Join(t.TempDir(), "motd")
	if err := os.WriteFile(extra, []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	img := target.BinaryImage{Tag: "t", Binaries: []string{"sh"}, Files: map[string]string{"/etc/motd": extra}}
	files, err := assembleRootfs(img)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	joined := strings.Join(paths, " ")
	shPath, _ := filepath.Abs(mustLookPath(t, "sh"))
	for _, want := range []string{shPath, "/etc/motd", "libc.so.6", "ld-linux"} {
		if !strings.Contains(joined, want) {
			t.Errorf("rootfs %s lacks %s (sh is %s)", joined, want, sh)
		}
	}
	h1, _ := rootfsHash(img, files)
	if err := os.WriteFile(extra, []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	h2, _ := rootfsHash(img, files)
	if h1 == h2 {
		t.Error("changing a file did not change the hash")
	}
}

func TestAssembleRootfsErrors(t *testing.T) {
	if _, err := assembleRootfs(target.BinaryImage{Tag: "t", Binaries: []string{"no-such-binary-anywhere"}}); err == nil ||
		err.Error() != `binary "no-such-binary-anywhere" is not on PATH` {
		t.Errorf("err = %v", err)
	}
	if _, err := assembleRootfs(target.BinaryImage{Tag: "t", Binaries: []string{"/nonexistent/bin"}}); err == nil ||
		!strings.Contains(err.Error(), "binary /nonexistent/bin: ") {
		t.Errorf("err = %v", err)
	}
}

func mustLookPath(t *testing.T, name string) string {
	t.Helper()
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	t.Skipf("%s not on PATH", name)
	return ""
}

// A binary that is not an executable ELF file fails the build, naming it,
// instead of failing at container start with "permission denied".
func TestAssembleRootfsRejectsWhatCannotRun(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "run.sh")
	data := filepath.Join(dir, "data")
	noexec := filepath.Join(dir, "sh-copy")
	sh, err := os.ReadFile(mustLookPath(t, "sh"))
	if err != nil {
		t.Fatal(err)
	}
	for path, c := range map[string]struct {
		content []byte
		mode    os.FileMode
	}{script: {[]byte("#!/bin/sh\necho hi\n"), 0o755}, data: {[]byte("hello"), 0o644}, noexec: {sh, 0o644}} {
		if err := os.WriteFile(path, c.content, c.mode); err != nil {
			t.Fatal(err)
		}
	}
	for path, want := range map[string]string{
		script: "is not an ELF executable",
		data:   "is not an ELF executable",
		noexec: "is not executable (mode -rw-r--r--)",
	} {
		_, err := assembleRootfs(target.BinaryImage{Tag: "t", Binaries: []string{path}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", filepath.Base(path), err, want)
		}
	}
}
