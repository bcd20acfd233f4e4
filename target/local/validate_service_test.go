package local

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/opdeploy/opdeploy/target"
)

// TestValidateRejects: what the engine would refuse half-way through up,
// and what opdeploy does not apply, is an error when the project loads,
// naming the service (or network) and the key.
func TestValidateRejects(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{`services: {a: {image: x, deploy: {restart_policy: {condition: any, max_attempts: 3}}}}`,
			`service "a": deploy.restart_policy.max_attempts needs condition on-failure: the engine counts attempts only then`},
		{`services: {a: {image: x, deploy: {restart_policy: {condition: sometimes}}}}`,
			`service "a": deploy.restart_policy.condition "sometimes": want none, on-failure or any`},
		{`services: {a: {image: x, deploy: {mode: global-job}}}`,
			`service "a": deploy.mode "global-job" is not supported by opdeploy yet (replicated or global)`},
		{`services: {a: {image: x, deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}}}`,
			`service "a": deploy.resources.reservations.devices (GPUs) is not supported by opdeploy yet`},
		{`services: {a: {image: x}, b: {image: x, network_mode: "service:a", ports: ["8080:80"]}}`,
			`service "b": ports cannot be set with network_mode "service:a": the container uses the network of another`},
		{`services: {a: {image: x, network_mode: "container:legacy", hostname: h}}`,
			`service "a": hostname cannot be set with network_mode "container:legacy": the container uses the network of another`},
		{`services: {a: {image: x}, b: {image: x, ipc: "service:a"}}`,
			`service "b": ipc "service:a": service "a" must declare ipc: shareable for others to join its IPC namespace (the engine's default is private)`},
		{`services: {a: {image: x, uts: private}}`, `service "a": uts "private": want host`},
		{`services: {a: {image: x, pull_policy: daily}}`,
			`service "a": pull_policy "daily" is not supported by opdeploy yet (missing, always, build or never)`},
		{`services: {a: {image: x, dns: [resolver.example.com]}}`, `service "a": dns "resolver.example.com" is not an IP address`},
		{`services: {a: {image: x, devices: ["vendor.com/gpu=all"]}}`, `service "a": device vendor.com/gpu=all: CDI devices are not supported by opdeploy yet`},
		{`services: {a: {image: x, platform: amd64}}`, `service "a": platform: "amd64": want os/arch[/variant], such as linux/amd64`},
		{`services: {a: {image: x, networks: {n: {ipv4_address: 10.9.0.5}}}}
networks: {n: {}}`,
			`service "a": network "n": ipv4_address 10.9.0.5 is in no subnet that network's ipam declares (the engine takes fixed addresses only then)`},
		{`services: {a: {image: x, networks: [n]}}
networks: {n: {ipam: {config: [{subnet: 10.9.0.0/24, gateway: 10.8.0.1}]}}}`,
			`network "n": ipam.config[0].gateway 10.8.0.1 is not within subnet 10.9.0.0/24`},
		{`services: {a: {image: x, secrets: [s]}}
secrets: {s: {external: true}}`,
			`service "a": secret "s" is external: external secrets need Swarm, which opdeploy does not drive`},
		{`services: {a: {image: x, read_only: true, configs: [c]}}
configs: {c: {content: hello}}`,
			`service "a": config "c": its content is copied into the container, which read_only forbids: use a file-sourced config`},
		{`services: {a: {image: x, volumes: ["/run/secrets"], secrets: [{source: s, target: /data}], configs: [{source: c, target: /data}]}}
secrets: {s: {environment: HOME}}
configs: {c: {content: x}}`,
			`service "a": config "c": target /data is also the target of secret "s"`},
		{`services: {a: {image: x, configs: [{source: c, target: /cfg, uid: root}]}}
configs: {c: {content: x}}`,
			`service "a": config "c": uid: "root" is not a numeric id`},
		{`services: {a: {image: x, gpus: all}}`, `service "a": gpus is not supported by opdeploy yet (docs/compose.md lists what is)`},
	} {
		dir := writeFiles(t, map[string]string{"compose.yaml": c.yaml + "\n"})
		got := loadErr(t, dir, target.LocalSpec{ComposeSpec: target.ComposeSpec{Project: "p", ComposeFiles: []string{filepath.Join(dir, "compose.yaml")}}})
		if got != c.want {
			t.Errorf("%s\n got %s\nwant %s", strings.SplitN(c.yaml, "\n", 2)[0], got, c.want)
		}
	}
}

func TestDNSSearchInAnotherNetworkWarns(t *testing.T) {
	p := loadCompose(t, "services:\n  a: {image: x}\n  b: {image: x, network_mode: \"service:a\", dns_search: [x.com]}\n")
	w, err := validateService(p, p.Services["b"])
	if err != nil || len(w) != 1 || w[0] != `service "b": dns_search has no effect with network_mode "service:a": the container uses the resolver of the one whose network it joins` {
		t.Errorf("%q %v", w, err)
	}
}

// Warnings: what up ignores, said once, and what the host lacks for a
// secret, which is not an error until up (down must work without it).
func TestDeploymentWarnings(t *testing.T) {
	dir := writeFiles(t, map[string]string{"compose.yaml": `
services:
  a:
    image: x
    develop: {watch: [{action: rebuild, path: .}]}
    deploy: {restart_policy: {condition: on-failure, delay: 5s}}
    secrets: [{source: tls, mode: 0400}]
secrets:
  tls: {file: ./absent.pem}
`})
	d, err := Load(t.Context(), target.LocalSpec{ComposeSpec: target.ComposeSpec{Project: "p", ComposeFiles: []string{filepath.Join(dir, "compose.yaml")}, Dir: dir}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(strings.Join(d.Warnings(), "\n"), dir, "DIR")
	want := `service "a": develop is ignored: only docker compose watch uses it
service "a": deploy.restart_policy.delay is ignored: the engine's restart policy has no delay; it backs off on its own (docker compose ignores it too)
service "a": secret "tls": uid, gid and mode are ignored for a file-sourced secret: it is bind-mounted as it is on the host (docker compose ignores them too)
service "a": secret "tls": file DIR/absent.pem: no such file or directory (up refuses to start without it)`
	if got != want {
		t.Errorf("warnings\n%s\nwant\n%s", got, want)
	}
}
