package swarm

import (
	"fmt"

	"github.com/moby/moby/api/types/swarm"

	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// checkEngineSupport checks a service spec against the manager's API
// version (as negotiated), before up sends it. An older engine decodes a
// spec field it does not know as nothing, so the service would run
// without the setting and no one would say: that is an error here, except
// for a healthcheck's start_interval, whose loss is harmless (the check
// runs at its interval from the start) and so only a warning. up calls it
// for each spec; validate cannot, as it knows no engine.
func checkEngineSupport(spec swarm.ServiceSpec, apiVersion string) (warnings []string, err error) {
	service := spec.Labels[labelService]
	if service == "" {
		service = spec.Name
	}
	cs := spec.TaskTemplate.ContainerSpec
	if cs == nil {
		return nil, nil
	}
	if h := cs.Healthcheck; h != nil && h.StartInterval != 0 && apiBefore(apiVersion, "1.44") {
		warnings = append(warnings, fmt.Sprintf("service %q: healthcheck.start_interval is ignored: it needs engine API 1.44; this engine speaks %s", service, apiVersion))
	}
	needs := []struct {
		set     bool
		key     string
		version string
	}{
		{len(cs.Sysctls) > 0, "sysctls", "1.40"},
		{spec.TaskTemplate.Placement != nil && spec.TaskTemplate.Placement.MaxReplicas > 0, "deploy.placement.max_replicas_per_node", "1.40"},
		{len(cs.CapabilityAdd) > 0 || len(cs.CapabilityDrop) > 0, "cap_add and cap_drop", "1.41"},
		{len(cs.Ulimits) > 0, "ulimits", "1.41"},
		{spec.TaskTemplate.Resources != nil && spec.TaskTemplate.Resources.Limits != nil && spec.TaskTemplate.Resources.Limits.Pids > 0, "pids limits", "1.41"},
		{spec.Mode.ReplicatedJob != nil || spec.Mode.GlobalJob != nil, "deploy.mode " + jobMode(spec.Mode), "1.41"},
		{mountsSubpath(cs), "volumes' subpath", "1.45"},
		{cs.OomScoreAdj != 0, "oom_score_adj", "1.46"},
	}
	for _, n := range needs {
		if n.set && apiBefore(apiVersion, n.version) {
			return warnings, fmt.Errorf("service %q: %s need(s) engine API %s; this engine speaks %s", service, n.key, n.version, apiVersion)
		}
	}
	return warnings, nil
}

func jobMode(m swarm.ServiceMode) string {
	if m.GlobalJob != nil {
		return "global-job"
	}
	return "replicated-job"
}

func mountsSubpath(cs *swarm.ContainerSpec) bool {
	for _, m := range cs.Mounts {
		if m.VolumeOptions != nil && m.VolumeOptions.Subpath != "" {
			return true
		}
	}
	return false
}

// apiBefore reports whether API version v is older than want.
func apiBefore(v, want string) bool { return dockerapi.APIBefore(v, want) }
