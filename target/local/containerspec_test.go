package local

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/compose"
)

func loadCompose(t *testing.T, yaml string) *types.Project {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := compose.Load(context.Background(), target.ComposeSpec{Project: "p", ComposeFiles: []string{path}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestContainerSpec(t *testing.T) {
	p := loadCompose(t, `
services:
  web:
    image: nginx:1
    command: ["serve", "--port", "80"]
    environment: {B: "2", A: "1"}
    ports: ["127.0.0.1:8080:80", "9000/udp"]
    expose: ["7000"]
    volumes: ["data:/data", "/anon", "./conf:/conf:ro", {type: tmpfs, target: /scratch}]
    networks:
      front: {aliases: [www]}
      back: {}
    restart: on-failure:3
    healthcheck: {test: ["CMD", "probe"], interval: 2s, timeout: 1s, retries: 4, start_period: 3s}
    stop_grace_period: 1500ms
    stop_signal: SIGINT
    init: true
    user: "1000"
    working_dir: /srv
    hostname: web-host
    extra_hosts: ["db.local:10.0.0.2"]
    cap_add: [NET_ADMIN]
    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 64}
    sysctls: {net.core.somaxconn: "1024"}
    tmpfs: ["/run:size=1m"]
    labels: {team: storage}
volumes:
  data: {}
networks:
  front: {}
  back: {}
`)
	s := p.Services["web"]
	spec, err := buildContainerSpec(p, s, specOptions{Number: 2, Image: "nginx:1", ImageID: "sha:1", Hash: "h", APIVersion: "1.41",
		AnonymousVolumes: map[string]string{"/anon": "oldvolume"}})
	if err != nil {
		t.Fatal(err)
	}
	if spec.Name != "p-web-2" {
		t.Errorf("name %s", spec.Name)
	}
	cfg, host := spec.Config, spec.Host
	if strings.Join(cfg.Env, ",") != "A=1,B=2" {
		t.Errorf("env %v", cfg.Env)
	}
	if strings.Join(cfg.Cmd, " ") != "serve --port 80" || cfg.User != "1000" || cfg.WorkingDir != "/srv" || cfg.Hostname != "web-host" {
		t.Errorf("config %+v", cfg)
	}
	if *cfg.StopTimeout != 2 || cfg.StopSignal != "SIGINT" {
		t.Errorf("stop %d %s", *cfg.StopTimeout, cfg.StopSignal)
	}
	hc := cfg.Healthcheck
	if strings.Join(hc.Test, " ") != "CMD probe" || hc.Interval.String() != "2s" || hc.Retries != 4 || hc.StartPeriod.String() != "3s" {
		t.Errorf("healthcheck %+v", hc)
	}
	for k, want := range map[string]string{labelProject: "p", labelService: "web", labelNumber: "2", labelConfigHash: "h", labelImage: "sha:1", labelOneoff: "False", "team": "storage"} {
		if cfg.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, cfg.Labels[k], want)
		}
	}
	ports, _ := json.Marshal(host.PortBindings)
	if got := string(ports); got != `{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}],"9000/udp":[{"HostIp":"","HostPort":""}]}` {
		t.Errorf("port bindings %s", got)
	}
	if len(cfg.ExposedPorts) != 3 {
		t.Errorf("exposed %v", cfg.ExposedPorts)
	}
	if host.RestartPolicy.Name != container.RestartPolicyOnFailure || host.RestartPolicy.MaximumRetryCount != 3 {
		t.Errorf("restart %+v", host.RestartPolicy)
	}
	if host.Init == nil || !*host.Init || len(host.CapAdd) != 1 || host.Sysctls["net.core.somaxconn"] != "1024" || host.Tmpfs["/run"] != "size=1m" {
		t.Errorf("host %+v", host)
	}
	if strings.Join(host.ExtraHosts, ",") != "db.local:10.0.0.2" {
		t.Errorf("extra hosts %v", host.ExtraHosts)
	}
	if len(host.Ulimits) != 2 || host.Ulimits[0].Name != "nofile" || host.Ulimits[0].Hard != 2048 || host.Ulimits[1].Soft != 64 {
		t.Errorf("ulimits %+v %+v", host.Ulimits[0], host.Ulimits[1])
	}
	if len(host.Binds) != 1 || !strings.HasSuffix(host.Binds[0], "/conf:/conf:ro") {
		t.Errorf("binds %v", host.Binds)
	}
	mounts, _ := json.Marshal(host.Mounts)
	for _, want := range []string{`{"Type":"volume","Source":"p_data","Target":"/data"}`, `{"Type":"volume","Source":"oldvolume","Target":"/anon"}`, `{"Type":"tmpfs","Target":"/scratch"`} {
		if !strings.Contains(string(mounts), want) {
			t.Errorf("mounts %s lack %s", mounts, want)
		}
	}
	if len(spec.Networks) != 2 || spec.Networks[0].Network != "p_back" || spec.Networks[1].Network != "p_front" ||
		strings.Join(spec.Networks[1].Endpoint.Aliases, ",") != "p-web-2,web,www" || string(host.NetworkMode) != "p_back" {
		t.Errorf("networks %+v mode %s", spec.Networks, host.NetworkMode)
	}
}

func TestConfigHashIgnoresWhatDoesNotShapeTheContainer(t *testing.T) {
	base := loadCompose(t, "services:\n  a: {image: x, environment: {K: v}}\n").Services["a"]
	h0, _ := configHash(base, "")
	changed := base
	changed.Environment = types.NewMappingWithEquals([]string{"K=w"})
	scaled := base
	scaled.SetScale(3)
	h1, _ := configHash(changed, "")
	h2, _ := configHash(scaled, "")
	if h0 == h1 {
		t.Error("environment change did not change the hash")
	}
	if h0 != h2 {
		t.Error("replica count changed the hash")
	}
}

func TestStateFromSummary(t *testing.T) {
	for status, want := range map[string]string{
		"Up 3 seconds (healthy)":            "running healthy 0",
		"Up 3 seconds (unhealthy)":          "running unhealthy 0",
		"Up 1 second (health: starting)":    "running starting 0",
		"Up 2 minutes":                      "running none 0",
		"Exited (137) 5 seconds ago":        "exited none 137",
		"Exited (0) Less than a second ago": "exited none 0",
	} {
		state := "running"
		if strings.HasPrefix(status, "Exited") {
			state = "exited"
		}
		st := stateFromSummary(container.Summary{ID: "x", Names: []string{"/p-a-1"}, State: container.ContainerState(state), Status: status,
			Labels: map[string]string{labelService: "a", labelNumber: "1"}}, time.Now())
		got := strings.Join([]string{string(st.State), string(st.Health), strconv.Itoa(st.ExitCode)}, " ")
		if got != want || st.Name != "p-a-1" || st.Service != "a" || st.Number != 1 {
			t.Errorf("%q: %s %+v, want %s", status, got, st, want)
		}
	}
}

func TestDependsOnLabel(t *testing.T) {
	p := loadCompose(t, "services:\n  a: {image: x, depends_on: {c: {condition: service_healthy, restart: true}, b: {condition: service_started}}}\n  b: {image: x}\n  c: {image: x}\n")
	label := dependsOnLabel(p.Services["a"])
	if label != "b:service_started:false,c:service_healthy:true" {
		t.Errorf("label %s", label)
	}
	if got := strings.Join(parseDependsOnLabel(label), ","); got != "b,c" {
		t.Errorf("parsed %s", got)
	}
}
