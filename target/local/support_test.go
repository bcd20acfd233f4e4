package local

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/schema"
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
		raw := doc.Defs[name]
		if name == "build" { // not a definition: the object form of a service's build
			var w struct {
				Properties struct {
					Build struct {
						OneOf []json.RawMessage `json:"oneOf"`
					} `json:"build"`
				} `json:"properties"`
			}
			if err := json.Unmarshal(doc.Defs["workload_spec"], &w); err != nil {
				t.Fatal(err)
			}
			for _, alt := range w.Properties.Build.OneOf {
				if strings.Contains(string(alt), `"properties"`) {
					raw = alt
				}
			}
		}
		if err := json.Unmarshal(raw, &d); err != nil {
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

// docSection returns the part of docs/compose.md under a heading, up to
// the next heading of the same level or above.
func docSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/compose.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("docs/compose.md has no %q heading", heading)
	}
	rest := doc[i+len(heading)+2:]
	level := heading[:strings.Index(heading, " ")+1]
	if j := regexp.MustCompile(`(?m)^#{1,` + string(rune('0'+len(level)-1)) + `} `).FindStringIndex(rest); j != nil {
		rest = rest[:j[0]]
	}
	return rest
}

// TestKeyPoliciesCoverTheSpec keeps the key tables and docs/compose.md
// complete: every key compose-spec defines for a service, deploy, build, a
// network, a volume, a secret and a config has a policy and a table row,
// and no policy names a key the spec does not define.
func TestKeyPoliciesCoverTheSpec(t *testing.T) {
	for _, c := range []struct {
		def, heading string
		table        map[string]keyRule // nil: every key is honoured or checked in validation
	}{
		{"service", "## Service keys", serviceKeys},
		{"deployment", "### deploy", deployKeys},
		{"build", "### build", buildKeys},
		{"network", "## Network keys", nil},
		{"volume", "## Volume keys", nil},
		{"secret", "## Secrets and configs", nil},
		{"config", "## Secrets and configs", nil},
	} {
		keys := specKeys(t, c.def)
		section := docSection(t, c.heading)
		for _, k := range keys {
			if c.table != nil {
				if _, ok := c.table[k]; !ok {
					t.Errorf("%s key %q has no policy in support.go", c.def, k)
				}
			}
			if !regexp.MustCompile("(?m)^\\|[^|\\n]*`" + regexp.QuoteMeta(k) + "`").MatchString(section) {
				t.Errorf("%s key %q has no row in docs/compose.md under %q", c.def, k, c.heading)
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

func TestCheckSupported(t *testing.T) {
	p := loadCompose(t, `
services:
  ok:
    image: x
    deploy: {replicas: 2, resources: {limits: {memory: 64m}}, placement: {constraints: ["node.role==manager"]}}
    develop: {watch: [{action: sync, path: ./src, target: /src}]}
    secrets: [s]
    network_mode: "service:hooks"
  hooks:
    image: x
    post_start: [{command: ["true"]}]
  gpus:
    image: x
    gpus: all
secrets:
  s: {environment: HOME}
`)
	warnings, err := checkSupported(p.Services["ok"])
	want := []string{
		`service "ok": develop is ignored: only docker compose watch uses it`,
		`service "ok": deploy.placement is ignored: it is a Swarm setting; docker compose ignores it too`,
	}
	if err != nil || strings.Join(warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("ok: %q, %v; want %q", warnings, err, want)
	}
	for name, want := range map[string]string{
		"hooks": `service "hooks": post_start is not supported by opdeploy yet (docs/compose.md lists what is)`,
		"gpus":  `service "gpus": gpus is not supported by opdeploy yet (docs/compose.md lists what is)`,
	} {
		if _, err := checkSupported(p.Services[name]); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", name, err, want)
		}
	}
}
