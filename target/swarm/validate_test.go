package swarm

import (
	"strings"
	"testing"

	"github.com/moby/moby/api/types/swarm"
)

// TestValidateRejects: what a swarm cannot honour, or would refuse half-way
// through up, is an error when the project loads, naming the service (or
// network) and the key.
func TestValidateRejects(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{`services: {a: {image: x, container_name: cc}}`,
			`service "a": container_name is not supported by swarm_deployment: a swarm names its tasks' containers itself`},
		{`services: {a: {image: x, network_mode: host}}`,
			`service "a": network_mode is not supported by swarm_deployment: swarm tasks join overlay networks (networks:); for the host's network attach the external network "host"`},
		{`services: {a: {image: x, secrets: [s]}}
secrets: {s: {file: ./s.txt}}`,
			`service "a": secrets is not supported by swarm_deployment: swarm secret objects are not supported yet`},
		{`services: {a: {image: x, networks: {n: {ipv4_address: 10.9.0.5}}}}
networks: {n: {ipam: {config: [{subnet: 10.9.0.0/24}]}}}`,
			`service "a": networks.n.ipv4_address is not supported by swarm_deployment: a swarm assigns each task its address; it cannot pin one`},
		{`services: {a: {image: x, ports: ["127.0.0.1:80:80"]}}`,
			`service "a": ports.host_ip is not supported by swarm_deployment: a swarm publishes 80 on every address of a node, not on 127.0.0.1`},
		{`services: {a: {image: x, ports: ["9000-9010:90"]}}`,
			`service "a": ports: published "9000-9010" for 90: a swarm publishes one port, not a range`},
		{`services: {a: {image: x, deploy: {endpoint_mode: dnsrr}, ports: ["80:80"]}}`,
			`service "a": ports: 80 is published in ingress mode, which needs endpoint_mode vip: publish it with mode host`},
		{`services: {a: {image: x, deploy: {mode: global, replicas: 2}}}`,
			`service "a": deploy.mode: global runs one task on each node: replicas (or scale) cannot be set`},
		{`services: {a: {image: x, restart: always, deploy: {mode: replicated-job}}}`,
			`service "a": deploy.mode: replicated-job tasks run to completion: the restart policy must be on-failure or none, not any (restart: always, or deploy.restart_policy.condition: any)`},
		{`services: {a: {image: x, deploy: {restart_policy: {condition: sometimes}}}}`,
			`service "a": deploy.restart_policy.condition: "sometimes": want none, on-failure or any`},
		{`services: {a: {image: x, deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}}}`,
			`service "a": deploy.resources.reservations.devices is not supported by swarm_deployment: a swarm reserves devices only as generic_resources`},
		{`services: {a: {image: x, volumes: [{type: bind, source: /x, target: /x, bind: {selinux: z}}]}}`,
			`service "a": volumes /x: bind.selinux is not supported by swarm_deployment: swarm mounts cannot relabel a bind source`},
		{`services: {a: {image: x, tmpfs: ["/run:noexec"]}}`,
			`service "a": tmpfs /run: option noexec is not supported by swarm_deployment: a swarm sets a tmpfs's size and mode only`},
		{`services: {a: {image: x, dns: [resolver.example.com]}}`, `service "a": dns: "resolver.example.com" is not an IP address`},
		{`services: {a: {image: x, platform: amd64}}`, `service "a": platform: "amd64": want os/arch[/variant], such as linux/amd64`},
		{`services: {a: {image: x, logging: {options: {max-size: 1m}}}}`, `service "a": logging: options need a driver`},
		{`services: {a: {image: x, ports: ["80:80"]}, b: {image: x, ports: ["80:8080"]}}`,
			`services "a" and "b" both publish port 80/tcp on the swarm's routing mesh`},
		{`services: {a: {image: x}, b: {image: x, depends_on: {a: {condition: service_completed_successfully}}}}`,
			`service "b": depends on a completing successfully, but the swarm restarts a's tasks when they exit: give a deploy.mode replicated-job (or restart_policy condition on-failure or none)`},
		{`services: {a: {image: x, healthcheck: {disable: true}}, b: {image: x, depends_on: {a: {condition: service_healthy}}}}`,
			`service "b": depends on a being healthy, but a's healthcheck is disabled`},
		{`services: {a: {image: x, networks: [n]}}
networks: {n: {driver: bridge}}`,
			`network "n": driver bridge is not supported by swarm_deployment: a swarm's services need a swarm-scoped network (overlay, the default)`},
		{`services: {a: {image: x, networks: [n]}}
networks: {n: {ipam: {config: [{subnet: 10.9.0.0/24, gateway: 10.8.0.1}]}}}`,
			`network "n": ipam.config[0].gateway 10.8.0.1 is not within subnet 10.9.0.0/24`},
		{`services: {a: {image: x, networks: [n]}}
networks: {n: {enable_ipv4: false}}`,
			`network "n": enable_ipv4: false is not supported by swarm_deployment: it needs engine API 1.47`},
		{`services: {a: {image: x, networks: [h, n]}}
networks: {h: {external: true, name: host}, n: {}}`,
			`service "a": networks: a task on the host network cannot join other networks`},
	} {
		p := loadProject(t, c.yaml+"\n")
		_, err := validateProject(p)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s\n got %v\nwant %s", strings.SplitN(c.yaml, "\n", 2)[0], err, c.want)
		}
	}
}

// Warnings: what a swarm ignores, said once per service.
func TestValidateWarnings(t *testing.T) {
	p := loadProject(t, `
services:
  a:
    image: x
    attach: false
    restart: always
    deploy: {restart_policy: {condition: on-failure}}
    networks: {default: {priority: 10}}
  b: {image: x, pull_policy: always}
  c: {image: x}
`)
	w, err := validateProject(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"a": {
			`service "a": attach is ignored by swarm_deployment: it only chooses whose logs docker compose up prints`,
			`service "a": restart is ignored by swarm_deployment: deploy.restart_policy wins`,
			`service "a": networks.default.priority and gw_priority are ignored by swarm_deployment: a swarm attaches a task's networks in its own order`,
		},
		"b": {`service "b": pull_policy is ignored by swarm_deployment: how nodes get images is the deployment's images setting (pull or load)`},
	}
	if len(w) != len(want) {
		t.Errorf("warnings for %d services, want %d: %q", len(w), len(want), w)
	}
	for name, lines := range want {
		if strings.Join(w[name], "\n") != strings.Join(lines, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", name, w[name], lines)
		}
	}
}

// depends_on is honoured by up's ordering, with every condition and restart
// (a replicated service that is not restarted on success may be waited on).
func TestDependsOnAccepted(t *testing.T) {
	p := loadProject(t, `
services:
  db: {image: x, healthcheck: {test: ["CMD", "true"]}}
  init: {image: x, deploy: {mode: replicated-job}}
  once: {image: x, restart: "no"}
  app:
    image: x
    depends_on:
      db: {condition: service_healthy, restart: true}
      init: {condition: service_completed_successfully}
      once: {condition: service_completed_successfully}
`)
	if w, err := validateProject(p); err != nil || len(w) > 0 {
		t.Errorf("%q %v", w, err)
	}
}

func TestSpecHash(t *testing.T) {
	p := loadProject(t, `services: {a: {image: x, environment: {A: "1", B: "2"}, labels: {l1: a, l2: b}}}`+"\n")
	spec := serviceSpec(p, p.Services["a"])
	h := specHash(spec)
	for i := 0; i < 20; i++ { // map order never shows
		if got := specHash(serviceSpec(p, p.Services["a"])); got != h {
			t.Fatalf("hash changed between builds: %s, %s", h, got)
		}
	}
	spec.Labels[labelConfigHash] = h
	if got := specHash(spec); got != h {
		t.Errorf("setting the hash label changed the hash: %s, %s", h, got)
	}
	if spec.Labels[labelConfigHash] != h {
		t.Error("specHash changed its argument's labels")
	}
	p2 := loadProject(t, `services: {a: {image: x, environment: {A: "1", B: "3"}, labels: {l1: a, l2: b}}}`+"\n")
	if specHash(serviceSpec(p2, p2.Services["a"])) == h {
		t.Error("a changed environment kept the hash")
	}
}

func TestCheckEngineSupport(t *testing.T) {
	p := loadProject(t, `
services:
  hc: {image: x, healthcheck: {test: ["CMD", "true"], start_interval: 1s}, x-opdeploy-healthcheck: swarm}
  oom: {image: x, oom_score_adj: 100}
  caps: {image: x, cap_add: [NET_ADMIN]}
`)
	spec := func(name string) swarm.ServiceSpec { return serviceSpec(p, p.Services[name]) }
	if w, err := checkEngineSupport(spec("hc"), "1.41"); err != nil || len(w) != 1 ||
		w[0] != `service "hc": healthcheck.start_interval is ignored: it needs engine API 1.44; this engine speaks 1.41` {
		t.Errorf("hc: %q %v", w, err)
	}
	if _, err := checkEngineSupport(spec("oom"), "1.41"); err == nil || err.Error() != `service "oom": oom_score_adj need(s) engine API 1.46; this engine speaks 1.41` {
		t.Errorf("oom: %v", err)
	}
	for _, name := range []string{"hc", "oom", "caps"} {
		if w, err := checkEngineSupport(spec(name), "1.46"); err != nil || len(w) > 0 {
			t.Errorf("%s on 1.46: %q %v", name, w, err)
		}
	}
	if _, err := checkEngineSupport(spec("caps"), "1.40"); err == nil {
		t.Error("caps on 1.40: no error")
	}
}
