package local

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestServiceFiles(t *testing.T) {
	t.Setenv("OPDEPLOY_TEST_TOKEN", "s3cret")
	p := loadCompose(t, `
services:
  app:
    image: x
    secrets:
      - tls
      - {source: token, target: api-token, uid: "100", gid: "101", mode: 0400}
      - {source: tls, target: /etc/ssl/key.pem}
    configs:
      - tikv
      - {source: inline, target: etc/app.conf}
secrets:
  tls: {file: ./key.pem}
  token: {environment: OPDEPLOY_TEST_TOKEN}
configs:
  tikv: {file: ./tikv.toml}
  inline: {content: "level = debug"}
`)
	mounts, copies, err := serviceFiles(p, p.Services["app"])
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range mounts {
		got = append(got, string(m.Type)+" "+filepath.Base(m.Source)+" "+m.Target+" ro="+map[bool]string{true: "yes", false: "no"}[m.ReadOnly])
	}
	for _, c := range copies {
		b, _ := json.Marshal(c)
		got = append(got, string(b))
	}
	want := []string{
		"bind key.pem /run/secrets/tls ro=yes",
		"bind key.pem /etc/ssl/key.pem ro=yes",
		"bind tikv.toml /tikv ro=yes",
		`{"Kind":"secret","Name":"token","Target":"/run/secrets/api-token","Content":"czNjcmV0","UID":100,"GID":101,"OwnerSet":true,"Mode":256}`,
		`{"Kind":"config","Name":"inline","Target":"/etc/app.conf","Content":"bGV2ZWwgPSBkZWJ1Zw==","UID":0,"GID":0,"OwnerSet":false,"Mode":292}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("files\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A copied file's content and a mounted file's source are part of the
// config hash; a mounted file's content is not (the container sees it live).
func TestFilesDigest(t *testing.T) {
	digest := func(content, file string) string {
		p := &types.Project{
			Secrets: types.Secrets{"s": {File: file}},
			Configs: types.Configs{"c": {Content: content}},
		}
		s := types.ServiceConfig{Name: "a"}
		s.Secrets = []types.ServiceSecretConfig{{Source: "s"}}
		s.Configs = []types.ServiceConfigObjConfig{{Source: "c"}}
		return filesDigest(p, s)
	}
	base := digest("one", "/a.pem")
	if base == digest("two", "/a.pem") || base == digest("one", "/b.pem") || base != digest("one", "/a.pem") {
		t.Errorf("digest does not follow the content and the source: %q", base)
	}
	if filesDigest(&types.Project{}, types.ServiceConfig{}) != "" {
		t.Error("a service without secrets or configs must hash as before")
	}
}

func TestMissingFiles(t *testing.T) {
	dir := t.TempDir()
	p := &types.Project{
		Environment: types.Mapping{"SET": ""},
		Secrets: types.Secrets{
			"present": {File: filepath.Join(dir, "present")},
			"absent":  {File: filepath.Join(dir, "absent")},
			"env":     {Environment: "UNSET"},
			"empty":   {Environment: "SET"},
		},
	}
	if err := os.WriteFile(filepath.Join(dir, "present"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := types.ServiceConfig{Name: "a"}
	for _, name := range []string{"present", "absent", "env", "empty"} {
		s.Secrets = append(s.Secrets, types.ServiceSecretConfig{Source: name})
	}
	got := strings.ReplaceAll(strings.Join(missingFiles(p, s), "\n"), dir, "DIR")
	want := `service "a": secret "absent": file DIR/absent: no such file or directory
service "a": secret "env": environment variable UNSET is not set, or empty
service "a": secret "empty": environment variable SET is not set, or empty`
	if got != want {
		t.Errorf("missing\n%s\nwant\n%s", got, want)
	}
}
