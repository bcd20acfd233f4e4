package local

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestContainerSpecHostSettings covers the keys that map one to one onto
// the engine's HostConfig, as docker compose maps them.
func TestContainerSpecHostSettings(t *testing.T) {
	p := loadCompose(t, `
services:
  web:
    image: x
    dns: [10.0.0.53, "2001:db8::53"]
    dns_search: [example.com]
    dns_opt: [ndots:2]
    devices: ["/dev/fuse", "/dev/null:/dev/testnull:r"]
    device_cgroup_rules: ["c 1:3 mr"]
    ipc: shareable
    pid: host
    uts: host
    cgroup: private
    cgroup_parent: opdeploy
    userns_mode: host
    runtime: runc
    group_add: [audio]
    annotations: {org.example.key: v}
    storage_opt: {size: 1G}
    cpu_shares: 512
    cpu_period: 100000
    cpu_quota: 50000
    cpuset: "0"
    memswap_limit: 128m
    mem_swappiness: 10
    oom_kill_disable: true
    oom_score_adj: 500
    links: ["db:database", "cache"]
    external_links: ["legacy:old"]
    deploy:
      restart_policy: {condition: on-failure, max_attempts: 4}
      resources: {reservations: {memory: 48m}}
  db:
    image: x
    scale: 2
  cache:
    image: x
`)
	spec, err := buildContainerSpec(p, p.Services["web"], specOptions{Number: 1, Image: "x"})
	if err != nil {
		t.Fatal(err)
	}
	h := spec.Host
	got, _ := json.Marshal(map[string]any{
		"Dns": h.DNS, "DnsSearch": h.DNSSearch, "DnsOptions": h.DNSOptions, "Devices": h.Devices, "DeviceCgroupRules": h.DeviceCgroupRules,
		"IpcMode": h.IpcMode, "PidMode": h.PidMode, "UTSMode": h.UTSMode, "CgroupnsMode": h.CgroupnsMode, "CgroupParent": h.CgroupParent,
		"UsernsMode": h.UsernsMode, "Runtime": h.Runtime, "GroupAdd": h.GroupAdd, "Annotations": h.Annotations, "StorageOpt": h.StorageOpt,
		"CpuShares": h.CPUShares, "CpuPeriod": h.CPUPeriod, "CpuQuota": h.CPUQuota, "CpusetCpus": h.CpusetCpus,
		"MemoryReservation": h.MemoryReservation, "MemorySwap": h.MemorySwap, "MemorySwappiness": h.MemorySwappiness,
		"OomKillDisable": h.OomKillDisable, "OomScoreAdj": h.OomScoreAdj, "RestartPolicy": h.RestartPolicy, "Links": h.Links,
	})
	want := `{"Annotations":{"org.example.key":"v"},"CgroupParent":"opdeploy","CgroupnsMode":"private","CpuPeriod":100000,"CpuQuota":50000,"CpuShares":512,"CpusetCpus":"0",` +
		`"DeviceCgroupRules":["c 1:3 mr"],"Devices":[{"PathOnHost":"/dev/fuse","PathInContainer":"/dev/fuse","CgroupPermissions":"rwm"},{"PathOnHost":"/dev/null","PathInContainer":"/dev/testnull","CgroupPermissions":"r"}],` +
		`"Dns":["10.0.0.53","2001:db8::53"],"DnsOptions":["ndots:2"],"DnsSearch":["example.com"],"GroupAdd":["audio"],"IpcMode":"shareable",` +
		`"Links":["p-db-1:database","p-db-2:database","p-cache-1:cache","legacy:old"],"MemoryReservation":50331648,"MemorySwap":134217728,"MemorySwappiness":10,` +
		`"OomKillDisable":true,"OomScoreAdj":500,"PidMode":"host","RestartPolicy":{"Name":"on-failure","MaximumRetryCount":4},"Runtime":"runc","StorageOpt":{"size":"1G"},"UTSMode":"host","UsernsMode":"host"}`
	if string(got) != want {
		t.Errorf("host config\n got %s\nwant %s", got, want)
	}
	if ep := spec.Networks[0].Endpoint; strings.Join(ep.Links, ",") != strings.Join(h.Links, ",") {
		t.Errorf("endpoint links %v, want the container's", ep.Links)
	}
}

func TestRestartOf(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{`restart: unless-stopped`, "unless-stopped"},
		{`deploy: {restart_policy: {condition: any}}`, "always"},
		{`deploy: {restart_policy: {condition: none}}`, "no"},
		{`deploy: {restart_policy: {}}`, "no"}, // docker compose maps a missing condition to none
		{`deploy: {restart_policy: {condition: on-failure}}`, "on-failure"},
		{`deploy: {restart_policy: {condition: on-failure, max_attempts: 2, delay: 5s, window: 1m}}`, "on-failure:2"},
		{`{restart: always, deploy: {restart_policy: {condition: on-failure, max_attempts: 3}}}`, "on-failure:3"}, // deploy wins
	} {
		yaml := c.yaml
		if !strings.HasPrefix(yaml, "{") {
			yaml = "{" + yaml + "}"
		}
		p := loadCompose(t, "services:\n  a: "+strings.TrimSuffix(yaml, "}")+", image: x}\n")
		if got := restartOf(p.Services["a"]); got != c.want {
			t.Errorf("%s: %s, want %s", c.yaml, got, c.want)
		}
		// The readiness rule asks the same policy whether an exit is final.
		d := &Deployment{project: p, oneShot: map[string]bool{}}
		if got := d.role(p.Services["a"]).Restart; got != c.want {
			t.Errorf("%s: verdict's restart policy %s, want %s", c.yaml, got, c.want)
		}
	}
}

// TestContainerSpecSharedNamespaces: references resolved to container IDs
// reach the engine as they are; volumes_from keeps its mode.
func TestContainerSpecSharedNamespaces(t *testing.T) {
	p := loadCompose(t, `
services:
  app: {image: x, ipc: shareable}
  side:
    image: x
    network_mode: "service:app"
    ipc: "service:app"
    pid: "service:app"
    volumes_from: ["app:ro", "container:legacy:rw", "app"]
`)
	s := resolveRefs(p.Services["side"], map[string]string{"app": "abc123"})
	spec, err := buildContainerSpec(p, s, specOptions{Number: 1, Image: "x"})
	if err != nil {
		t.Fatal(err)
	}
	h := spec.Host
	if h.NetworkMode != "container:abc123" || h.IpcMode != "container:abc123" || h.PidMode != "container:abc123" || len(spec.Networks) != 0 {
		t.Errorf("namespaces %s %s %s, networks %v", h.NetworkMode, h.IpcMode, h.PidMode, spec.Networks)
	}
	if got := strings.Join(h.VolumesFrom, " "); got != "abc123:ro legacy:rw abc123" {
		t.Errorf("volumes_from %s", got)
	}
	// Unresolved (the owner has no container), the reference stays as the
	// file wrote it, so that its hash matches no container made with one.
	if u := resolveRefs(p.Services["side"], nil); u.NetworkMode != "service:app" || u.VolumesFrom[0] != "app:ro" {
		t.Errorf("unresolved %s %v", u.NetworkMode, u.VolumesFrom)
	}
}

// TestContainerSpecSystemPaths: security_opt systempaths=unconfined is a
// client-side option (the docker CLI and compose turn it into empty masked
// and read-only path lists); the engine rejects it as a security option.
func TestContainerSpecSystemPaths(t *testing.T) {
	p := loadCompose(t, `
services:
  node:
    image: x
    security_opt: [seccomp=unconfined, systempaths=unconfined]
  plain:
    image: x
    security_opt: [no-new-privileges]
`)
	spec, err := buildContainerSpec(p, p.Services["node"], specOptions{Number: 1, Image: "x"})
	if err != nil {
		t.Fatal(err)
	}
	h := spec.Host
	if strings.Join(h.SecurityOpt, " ") != "seccomp=unconfined" {
		t.Errorf("SecurityOpt = %q, want only seccomp=unconfined", h.SecurityOpt)
	}
	if h.MaskedPaths == nil || len(h.MaskedPaths) != 0 || h.ReadonlyPaths == nil || len(h.ReadonlyPaths) != 0 {
		t.Errorf("MaskedPaths = %#v, ReadonlyPaths = %#v, want both empty and set", h.MaskedPaths, h.ReadonlyPaths)
	}
	spec, err = buildContainerSpec(p, p.Services["plain"], specOptions{Number: 1, Image: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if spec.Host.MaskedPaths != nil || spec.Host.ReadonlyPaths != nil {
		t.Errorf("plain: masked/readonly paths set: %#v %#v", spec.Host.MaskedPaths, spec.Host.ReadonlyPaths)
	}
}
