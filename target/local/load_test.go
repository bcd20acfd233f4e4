package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func loadErr(t *testing.T, dir string, spec target.LocalSpec) string {
	t.Helper()
	spec.Dir = dir
	_, err := Load(context.Background(), spec, dockerapi.NewEngine(0))
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	return strings.ReplaceAll(err.Error(), dir+"/", "")
}

func TestLoadMergesStarlarkOverFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{"compose.yaml": `
services:
  web:
    image: nginx:${TAG:-1}
    ports: ["8080:80"]
  db:
    image: postgres
    profiles: [full]
`})
	d, err := Load(context.Background(), target.LocalSpec{ComposeSpec: target.ComposeSpec{
		Project:      "demo",
		ComposeFiles: []string{filepath.Join(dir, "compose.yaml")},
		Services: map[string]any{
			"web":    map[string]any{"depends_on": map[string]any{"worker": map[string]any{"condition": "service_healthy"}}},
			"worker": map[string]any{"image": "worker", "healthcheck": map[string]any{"test": []any{"CMD", "true"}, "interval": "1s"}},
		},
		ServicesFile: filepath.Join(dir, "main.star"),
		Env:          map[string]string{"TAG": "2"},
		Dir:          dir,
	}}, dockerapi.NewEngine(0))
	if err != nil {
		t.Fatal(err)
	}
	desc := d.Describe()
	if got := strings.Join(desc.ServiceNames(), ","); got != "web,worker" {
		t.Errorf("services %s, want web,worker", got)
	}
	web, _ := desc.Service("web")
	if web.Image != "nginx:2" || len(web.Ports) != 1 || web.Ports[0].Published != "8080" {
		t.Errorf("web = %+v", web)
	}
	if len(web.DependsOn) != 1 || web.DependsOn[0].Condition != "service_healthy" {
		t.Errorf("web depends_on = %+v", web.DependsOn)
	}
	worker, _ := desc.Service("worker")
	if worker.Healthcheck == nil || worker.Healthcheck.Interval.String() != "1s" {
		t.Errorf("worker healthcheck = %+v", worker.Healthcheck)
	}
	if got := desc.Inactive["db"]; len(got) != 1 || got[0] != "full" {
		t.Errorf("inactive = %v", desc.Inactive)
	}
}

func TestLoadProfiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{"compose.yaml": "services:\n  a: {image: x}\n  b: {image: y, profiles: [extra]}\n"})
	d, err := Load(context.Background(), target.LocalSpec{ComposeSpec: target.ComposeSpec{
		Project: "p", ComposeFiles: []string{filepath.Join(dir, "compose.yaml")}, Profiles: []string{"extra"}, Dir: dir,
	}}, dockerapi.NewEngine(0))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(d.Describe().ServiceNames(), ","); got != "a,b" {
		t.Errorf("services %s, want a,b", got)
	}
}

func TestDotEnvBesideProject(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"compose.yaml": "services:\n  a: {image: \"x:${V}\"}\n",
		".env":         "V=from-dotenv\n",
	})
	d, err := Load(context.Background(), target.LocalSpec{ComposeSpec: target.ComposeSpec{Project: "p", ComposeFiles: []string{filepath.Join(dir, "compose.yaml")}, Dir: dir}}, dockerapi.NewEngine(0))
	if err != nil {
		t.Fatal(err)
	}
	if img := d.Describe().Services[0].Image; img != "x:from-dotenv" {
		t.Errorf("image %s", img)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"syntax.yaml":  "services:\n  web:\n    image: nginx\n   foo: [\n",
		"unknown.yaml": "services:\n  web:\n    image: nginx\n    bogus: 1\n",
		"port.yaml":    "services:\n  db:\n    image: x\n  web:\n    image: nginx\n    ports: [\"abc\"]\n",
		"deps.yaml":    "services:\n  web:\n    image: nginx\n    depends_on: [db]\n",
		"empty.yaml":   "services: {}\n",
	})
	cases := []struct {
		spec target.LocalSpec
		want string
	}{
		{target.LocalSpec{ComposeSpec: target.ComposeSpec{ComposeFiles: []string{filepath.Join(dir, "missing.yaml")}}},
			"compose file missing.yaml does not exist"},
		{target.LocalSpec{ComposeSpec: target.ComposeSpec{ComposeFiles: []string{filepath.Join(dir, "syntax.yaml")}}},
			"failed to parse syntax.yaml: yaml: while parsing a block mapping at line 1, column 3: line 3, column 4: did not find expected key"},
		{target.LocalSpec{ComposeSpec: target.ComposeSpec{ComposeFiles: []string{filepath.Join(dir, "unknown.yaml")}}},
			`validating unknown.yaml: service "web": unknown key "bogus"`},
		{target.LocalSpec{ComposeSpec: target.ComposeSpec{ComposeFiles: []string{filepath.Join(dir, "port.yaml")}}},
			`port.yaml: service "web": invalid containerPort: abc`},
		{target.LocalSpec{ComposeSpec: target.ComposeSpec{ComposeFiles: []string{filepath.Join(dir, "deps.yaml")}}},
			`deps.yaml: service "web" depends on undefined service "db": invalid compose project`},
		{target.LocalSpec{ComposeSpec: target.ComposeSpec{ComposeFiles: []string{filepath.Join(dir, "empty.yaml")}}},
			`empty.yaml: the project defines no services`},
		{target.LocalSpec{ComposeSpec: target.ComposeSpec{Services: map[string]any{"web": map[string]any{"image": "x", "ports": []any{"nope"}}}, ServicesFile: filepath.Join(dir, "main.star")}},
			`main.star: service "web": invalid containerPort: nope`},
		{target.LocalSpec{ComposeSpec: target.ComposeSpec{Services: map[string]any{"web": map[string]any{"image": "x", "restart": 3}}, ServicesFile: filepath.Join(dir, "main.star")}},
			`validating main.star: services.web.restart must be a string`},
		{target.LocalSpec{ComposeSpec: target.ComposeSpec{Project: "Bad", Services: map[string]any{}}},
			`invalid project name "Bad": use lowercase letters, digits, '-' and '_', starting with a letter or digit`},
		{target.LocalSpec{ComposeSpec: target.ComposeSpec{EnvFiles: []string{filepath.Join(dir, "nope.env")}, ComposeFiles: []string{filepath.Join(dir, "unknown.yaml")}}},
			"env_files: couldn't find env file: nope.env"},
	}
	for _, c := range cases {
		if got := loadErr(t, dir, c.spec); got != c.want {
			t.Errorf("error:\n got: %s\nwant: %s", got, c.want)
		}
	}
}
