package local

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Keys opdeploy honours, and keys it ignores with a warning because running
// without them is safe. Any other key set on a service is an error: never
// silently ignored. docs/compose.md lists the same sets.
var (
	supportedKeys = set(
		"build", "cap_add", "cap_drop", "command", "container_name", "cpus", "depends_on",
		"deploy", "domainname", "entrypoint", "env_file", "environment", "expose",
		"extends", "extra_hosts", "healthcheck", "hostname", "image", "init", "label_file",
		"labels", "mem_limit", "network_mode", "networks", "pids_limit", "ports",
		"privileged", "profiles", "pull_policy", "read_only", "restart", "scale",
		"security_opt", "shm_size", "stdin_open", "stop_grace_period", "stop_signal",
		"sysctls", "tmpfs", "tty", "ulimits", "user", "volumes", "working_dir",
	)
	warnedKeys = set("logging", "log_driver", "log_opt", "mem_reservation", "cpu_shares", "oom_score_adj", "attach")
	// supportedDeployKeys are the deploy: sub-keys honoured.
	supportedDeployKeys = set("replicas", "resources")
)

func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// checkSupported returns warnings for keys ignored safely and an error for
// the first key opdeploy cannot honour.
func checkSupported(s types.ServiceConfig) (warnings []string, err error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case supportedKeys[k]:
		case warnedKeys[k]:
			warnings = append(warnings, fmt.Sprintf("service %q: %s is ignored by opdeploy", s.Name, k))
		default:
			return warnings, fmt.Errorf("service %q: %s is not supported by opdeploy yet (docs/compose.md lists what is)", s.Name, k)
		}
	}
	if s.NetworkMode != "" && s.NetworkMode != "host" && s.NetworkMode != "none" {
		return warnings, fmt.Errorf("service %q: network_mode %q is not supported by opdeploy yet (only host and none)", s.Name, s.NetworkMode)
	}
	if d := s.Deploy; d != nil {
		// Some deploy fields are structs that marshal even when empty, so a
		// key counts as set only when it differs from a zero DeployConfig's.
		var set, zero map[string]json.RawMessage
		db, _ := json.Marshal(d)
		zb, _ := json.Marshal(types.DeployConfig{})
		_ = json.Unmarshal(db, &set)
		_ = json.Unmarshal(zb, &zero)
		for _, k := range sortedKeys(set) {
			if !supportedDeployKeys[k] && string(set[k]) != string(zero[k]) {
				return warnings, fmt.Errorf("service %q: deploy.%s is not supported by opdeploy yet", s.Name, k)
			}
		}
		if d.Resources.Reservations != nil {
			warnings = append(warnings, fmt.Sprintf("service %q: deploy.resources.reservations is ignored by opdeploy", s.Name))
		}
	}
	if s.GetScale() > 1 && s.ContainerName != "" {
		return warnings, fmt.Errorf("service %q: %d replicas cannot share container_name %q", s.Name, s.GetScale(), s.ContainerName)
	}
	for _, p := range s.Ports {
		if s.GetScale() > 1 && p.Published != "" && !strings.Contains(p.Published, "-") {
			return warnings, fmt.Errorf("service %q: %d replicas cannot all publish host port %s (use a range, or leave the host port out)", s.Name, s.GetScale(), p.Published)
		}
	}
	for _, v := range s.Volumes {
		switch v.Type {
		case types.VolumeTypeBind, types.VolumeTypeVolume, types.VolumeTypeTmpfs:
		default:
			return warnings, fmt.Errorf("service %q: volume type %q (%s) is not supported by opdeploy yet", s.Name, v.Type, v.Target)
		}
	}
	return warnings, nil
}

// checkNetworkSupported rejects network settings opdeploy does not apply.
func checkNetworkSupported(key string, n types.NetworkConfig) error {
	switch {
	case n.Ipam.Driver != "" || len(n.Ipam.Config) > 0 || len(n.Ipam.Options) > 0:
		return fmt.Errorf("network %q: ipam is not supported by opdeploy yet", key)
	case n.EnableIPv6 != nil && *n.EnableIPv6:
		return fmt.Errorf("network %q: enable_ipv6 is not supported by opdeploy yet", key)
	}
	return nil
}
