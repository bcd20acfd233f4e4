package local

import (
	"strings"
	"testing"

	"github.com/opdeploy/opdeploy/target/dockerapi"
)

func deploymentOf(t *testing.T, yaml string) *Deployment {
	t.Helper()
	p := loadCompose(t, yaml)
	w, err := validateProject(p)
	if err != nil {
		t.Fatal(err)
	}
	return &Deployment{project: p, engine: dockerapi.NewEngine(0), warnings: w, oneShot: oneShotServices(p)}
}

const selectionProject = `
services:
  web: {image: x, depends_on: {api: {condition: service_healthy}}, networks: [front]}
  api: {image: x, depends_on: {db: {condition: service_started}}, volumes: [data:/data]}
  db: {image: x, volumes: [data:/data, logs:/logs]}
  tool: {image: x, profiles: [tools]}
  extvol: {image: x, volumes: [ext:/ext]}
networks:
  front: {}
volumes:
  data: {}
  logs: {}
  ext: {external: true}
`

func TestSelectServices(t *testing.T) {
	d := deploymentOf(t, selectionProject)
	for _, c := range []struct {
		names []string
		want  string
		err   string
	}{
		{nil, "api db extvol web", ""},
		{[]string{"web"}, "api db web", ""}, // with its dependencies
		{[]string{"db"}, "db", ""},
		{[]string{"tool"}, "", `service "tool" is not active in project "p" (enable its profile with --profile tools)`},
		{[]string{"nope"}, "", `no service "nope" in project "p" (services: api, db, extvol, web)`},
	} {
		got, err := d.selectServices(c.names)
		var names []string
		for _, s := range got {
			names = append(names, s.Name)
		}
		if strings.Join(names, " ") != c.want || (err == nil) != (c.err == "") || (err != nil && err.Error() != c.err) {
			t.Errorf("selectServices(%v) = %v, %v; want %q, %q", c.names, names, err, c.want, c.err)
		}
	}
}

func TestResourcesNeededBySelectedServices(t *testing.T) {
	d := deploymentOf(t, selectionProject)
	services, _ := d.selectServices([]string{"web"})
	networks, volumes, err := d.resources(services)
	if err != nil {
		t.Fatal(err)
	}
	if got := resourceList(networks); got != "default=p_default front=p_front" {
		t.Errorf("networks %s", got)
	}
	if got := resourceList(volumes); got != "data=p_data logs=p_logs" {
		t.Errorf("volumes %s (external volumes are not managed)", got)
	}
}

func resourceList(rs []desiredResource) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Key+"="+r.Name)
	}
	return strings.Join(out, " ")
}
