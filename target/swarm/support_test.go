package swarm

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/schema"

	"github.com/opdeploy/opdeploy/target/compose"
)

// specKeys returns the properties compose-go's schema defines for a
// definition, following allOf references (a service is a container_spec
// and a workload_spec).
func specKeys(t *testing.T, def string) []string {
	t.Helper()
	var doc struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal([]byte(schema.Schema), &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func(name string)
	walk = func(name string) {
		var d struct {
			Properties map[string]json.RawMessage `json:"properties"`
			AllOf      []struct {
				Ref string `json:"$ref"`
			} `json:"allOf"`
		}
		if err := json.Unmarshal(doc.Defs[name], &d); err != nil {
			t.Fatalf("schema %s: %v", name, err)
		}
		for k := range d.Properties {
			seen[k] = true
		}
		for _, ref := range d.AllOf {
			walk(ref.Ref[strings.LastIndex(ref.Ref, "/")+1:])
		}
	}
	walk(def)
	keys := sortedKeys(seen)
	if len(keys) == 0 {
		t.Fatalf("schema defines no keys for %s", def)
	}
	return keys
}

// swarmDocSection returns the part of docs/swarm.md under a heading, up
// to the next heading of the same level or above.
func swarmDocSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/swarm.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("docs/swarm.md has no %q heading", heading)
	}
	rest := doc[i+len(heading)+2:]
	level := len(heading[:strings.Index(heading, " ")])
	if j := regexp.MustCompile(`(?m)^#{1,` + string(rune('0'+level)) + `} `).FindStringIndex(rest); j != nil {
		rest = rest[:j[0]]
	}
	return rest
}

// TestKeyPoliciesCoverTheSpec keeps the key tables and docs/swarm.md
// complete: every key compose-spec defines for a service, deploy, a
// network, a volume, a secret and a config has a policy and a table row,
// and no policy names a key the spec does not define.
func TestKeyPoliciesCoverTheSpec(t *testing.T) {
	for _, c := range []struct {
		def, heading string
		table        map[string]keyRule // nil: rejected whenever a service uses one
	}{
		{"service", "### Service keys", serviceKeys},
		{"deployment", "### deploy", deployKeys},
		{"network", "### Network keys", networkKeys},
		{"volume", "### Volume keys", volumeKeys},
		{"secret", "### Secrets and configs", nil},
		{"config", "### Secrets and configs", nil},
	} {
		keys := specKeys(t, c.def)
		section := swarmDocSection(t, c.heading)
		for _, k := range keys {
			if c.table != nil {
				if _, ok := c.table[k]; !ok {
					t.Errorf("%s key %q has no policy in support.go", c.def, k)
				}
			}
			if !regexp.MustCompile("(?m)^\\|[^|\\n]*`" + regexp.QuoteMeta(k) + "`").MatchString(section) {
				t.Errorf("%s key %q has no row in docs/swarm.md under %q", c.def, k, c.heading)
			}
		}
		if c.table != nil {
			inSpec := map[string]bool{}
			for _, k := range keys {
				inSpec[k] = true
			}
			var stale []string
			for k := range c.table {
				if !inSpec[k] {
					stale = append(stale, k)
				}
			}
			sort.Strings(stale)
			if len(stale) > 0 {
				t.Errorf("support.go has policies for %s keys the spec does not define: %v", c.def, stale)
			}
		}
	}
}

// TestRejectedKeysSayWhy: a key a swarm cannot honour is never rejected
// without a reason, and the docs say the same.
func TestRejectedKeysSayWhy(t *testing.T) {
	for _, table := range []map[string]keyRule{serviceKeys, deployKeys, networkKeys, volumeKeys} {
		for k, r := range table {
			if r.Support != compose.Honoured && r.Why == "" {
				t.Errorf("%s: not honoured, and no reason", k)
			}
		}
	}
}

func TestCheckSupported(t *testing.T) {
	p := loadProject(t, `
services:
  ok:
    image: x
    develop: {watch: [{action: sync, path: ./src, target: /src}]}
    expose: ["80"]
    depends_on: {db: {condition: service_healthy, restart: true}}
    deploy: {replicas: 2, placement: {constraints: ["node.role==manager"]}}
  db: {image: x, healthcheck: {test: ["CMD", "true"]}}
  priv: {image: x, privileged: true}
  shm: {image: x, shm_size: 64m}
`)
	warnings, err := checkSupported(p.Services["ok"])
	want := []string{
		`service "ok": develop is ignored by swarm_deployment: only docker compose watch uses it`,
		`service "ok": expose is ignored by swarm_deployment: tasks on a shared overlay network reach each other's ports whether exposed or not`,
	}
	if err != nil || strings.Join(warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("ok: %q, %v; want %q", warnings, err, want)
	}
	for name, want := range map[string]string{
		"priv": `service "priv": privileged is not supported by swarm_deployment: swarm services cannot run privileged`,
		"shm":  `service "shm": shm_size is not supported by swarm_deployment: a swarm service spec has no such field`,
	} {
		if _, err := checkSupported(p.Services[name]); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", name, err, want)
		}
	}
}
