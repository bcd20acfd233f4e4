package swarm

import (
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target/compose"
)

// keyRule is the policy for one key (target/compose/policy.go).
type keyRule = compose.KeyRule

func yes() keyRule                       { return keyRule{Support: compose.Honoured} }
func ignoredBecause(why string) keyRule  { return keyRule{Support: compose.Ignored, Why: why} }
func rejectedBecause(why string) keyRule { return keyRule{Support: compose.Rejected, Why: why} }

// Reasons shared by several keys.
const (
	whyHostOnly     = "a swarm service has no such setting; it applies to containers on one engine"
	whyCPU          = "a swarm service takes only a CPU limit and reservation: use cpus or deploy.resources"
	whyNamespace    = "swarm tasks cannot share another container's or the host's namespaces"
	whyWindows      = "only Windows engines use it"
	whyHooks        = "swarm services have no lifecycle hooks"
	whyNoSwarmField = "a swarm service spec has no such field"
)

// serviceKeys holds every service key compose-spec defines; docs/swarm.md
// has one row per key, and TestKeyPoliciesCoverTheSpec keeps both complete
// against compose-go's schema. A key missing here is rejected.
var serviceKeys = map[string]keyRule{
	"annotations":         rejectedBecause(whyNoSwarmField),
	"attach":              ignoredBecause("it only chooses whose logs docker compose up prints"),
	"blkio_config":        rejectedBecause(whyHostOnly),
	"build":               rejectedBecause("swarm nodes run images: build it beforehand (or use a binary image) and name it in image"),
	"cap_add":             yes(),
	"cap_drop":            yes(),
	"cgroup":              rejectedBecause(whyNamespace),
	"cgroup_parent":       rejectedBecause(whyHostOnly),
	"command":             yes(),
	"configs":             rejectedBecause("swarm config objects are not supported yet"),
	"container_name":      rejectedBecause("a swarm names its tasks' containers itself"),
	"cpu_count":           rejectedBecause(whyWindows),
	"cpu_percent":         rejectedBecause(whyWindows),
	"cpu_period":          rejectedBecause(whyCPU),
	"cpu_quota":           rejectedBecause(whyCPU),
	"cpu_rt_period":       rejectedBecause(whyCPU),
	"cpu_rt_runtime":      rejectedBecause(whyCPU),
	"cpu_shares":          rejectedBecause(whyCPU),
	"cpus":                yes(), // deploy.resources.limits.cpus when that is unset
	"cpuset":              rejectedBecause(whyCPU),
	"credential_spec":     rejectedBecause(whyWindows),
	"depends_on":          yes(), // opdeploy's up orders services by it
	"deploy":              yes(), // sub-keys: deployKeys
	"develop":             ignoredBecause("only docker compose watch uses it"),
	"device_cgroup_rules": rejectedBecause(whyHostOnly),
	"devices":             rejectedBecause("swarm services cannot map host devices"),
	"dns":                 yes(),
	"dns_opt":             yes(),
	"dns_search":          yes(),
	"domainname":          rejectedBecause(whyNoSwarmField),
	"entrypoint":          yes(),
	"env_file":            yes(),
	"environment":         yes(),
	"expose":              ignoredBecause("tasks on a shared overlay network reach each other's ports whether exposed or not"),
	"extends":             yes(),
	"external_links":      rejectedBecause("swarm services reach each other by service name on a shared network"),
	"extra_hosts":         yes(),
	"gpus":                rejectedBecause("swarm services get GPUs only as generic resources: use deploy.resources.reservations.generic_resources"),
	"group_add":           yes(),
	"healthcheck":         yes(),
	"hostname":            yes(),
	"image":               yes(),
	"init":                yes(),
	"ipc":                 rejectedBecause(whyNamespace),
	"isolation":           yes(),
	"label_file":          yes(),
	"labels":              yes(),
	"links":               rejectedBecause("swarm services reach each other by service name on a shared network"),
	"logging":             yes(),
	"mac_address":         rejectedBecause("a swarm assigns its tasks' addresses"),
	"mem_limit":           yes(), // deploy.resources.limits.memory when that is unset
	"mem_reservation":     yes(), // deploy.resources.reservations.memory when that is unset
	"mem_swappiness":      rejectedBecause("swarm services take swap settings only from engine API 1.52; not supported yet"),
	"memswap_limit":       rejectedBecause("swarm services take swap settings only from engine API 1.52; not supported yet"),
	"models":              rejectedBecause("model runners are a docker compose feature"),
	"network_mode":        rejectedBecause("swarm tasks join overlay networks (networks:); for the host's network attach the external network \"host\""),
	"networks":            yes(),
	"oom_kill_disable":    rejectedBecause(whyHostOnly),
	"oom_score_adj":       yes(), // needs API 1.46 (checkEngineSupport)
	"pid":                 rejectedBecause(whyNamespace),
	"pids_limit":          yes(), // deploy.resources.limits.pids when that is unset
	"platform":            yes(),
	"ports":               yes(),
	"post_start":          rejectedBecause(whyHooks),
	"pre_start":           rejectedBecause(whyHooks),
	"pre_stop":            rejectedBecause(whyHooks),
	"privileged":          rejectedBecause("swarm services cannot run privileged"),
	"profiles":            yes(),
	"provider":            rejectedBecause("providers are a docker compose feature"),
	"pull_policy":         ignoredBecause("how nodes get images is the deployment's images setting (pull or load)"),
	"pull_refresh_after":  ignoredBecause("how nodes get images is the deployment's images setting (pull or load)"),
	"read_only":           yes(),
	"restart":             yes(), // deploy.restart_policy when that is unset
	"runtime":             rejectedBecause(whyNoSwarmField),
	"scale":               yes(),
	"secrets":             rejectedBecause("swarm secret objects are not supported yet"),
	"security_opt":        rejectedBecause("swarm services take no security options (seccomp and AppArmor profiles need engine API 1.44); not supported yet"),
	"shm_size":            rejectedBecause(whyNoSwarmField),
	"stdin_open":          yes(),
	"stop_grace_period":   yes(),
	"stop_signal":         yes(),
	"storage_opt":         rejectedBecause(whyHostOnly),
	"sysctls":             yes(),
	"tmpfs":               yes(),
	"tty":                 yes(),
	"ulimits":             yes(),
	"umask":               ignoredBecause("the Docker engine has no such setting; docker compose ignores it too"),
	"use_api_socket":      rejectedBecause("a task cannot be given its node's engine socket this way"),
	"user":                yes(),
	"userns_mode":         rejectedBecause(whyNamespace),
	"uts":                 rejectedBecause(whyNamespace),
	"volumes":             yes(),
	"volumes_from":        rejectedBecause("swarm tasks cannot mount another container's volumes"),
	"working_dir":         yes(),
}

// deployKeys is the same for the keys of deploy:, all of which a swarm
// honours; their values are checked in validate.go.
var deployKeys = map[string]keyRule{
	"endpoint_mode":   yes(),
	"labels":          yes(),
	"mode":            yes(),
	"placement":       yes(),
	"replicas":        yes(),
	"resources":       yes(),
	"restart_policy":  yes(),
	"rollback_config": yes(),
	"update_config":   yes(),
}

// networkKeys is the same for a top-level network.
var networkKeys = map[string]keyRule{
	"attachable":  yes(), // always: see networkSpec
	"driver":      yes(), // overlay by default; host-only drivers are rejected
	"driver_opts": yes(),
	"enable_ipv4": yes(), // true only: false needs API 1.47
	"enable_ipv6": yes(),
	"external":    yes(),
	"internal":    yes(),
	"ipam":        yes(),
	"labels":      yes(),
	"name":        yes(),
}

// volumeKeys is the same for a top-level volume: a swarm creates a named
// volume on each node a task lands on, from the mount's options.
var volumeKeys = map[string]keyRule{
	"driver":      yes(),
	"driver_opts": yes(),
	"external":    yes(),
	"labels":      yes(),
	"name":        yes(),
}

// checkSupported applies the key tables to a service: warnings for keys
// ignored, and an error for the first key a swarm cannot honour.
func checkSupported(s types.ServiceConfig) (warnings []string, err error) {
	who := fmt.Sprintf("service %q", s.Name)
	if err := applyRules(who, "", compose.SetKeys(s, types.ServiceConfig{}), serviceKeys, &warnings); err != nil {
		return warnings, err
	}
	if s.Deploy != nil {
		if err := applyRules(who, "deploy.", compose.SetKeys(*s.Deploy, types.DeployConfig{}), deployKeys, &warnings); err != nil {
			return warnings, err
		}
	}
	return warnings, nil
}

// applyRules applies a table to the keys set on the object `who` (named
// with prefix in messages), adding warnings, and returning an error for
// the first key rejected.
func applyRules(who, prefix string, keys []string, table map[string]keyRule, warnings *[]string) error {
	for _, k := range keys {
		w, err := applyRule(who, prefix+k, table[k], known(table, k))
		if err != nil {
			return err
		}
		*warnings = append(*warnings, w...)
	}
	return nil
}

func known(table map[string]keyRule, key string) bool { _, ok := table[key]; return ok }

// applyRule applies one rule to a key of the object `who`.
func applyRule(who, key string, rule keyRule, known bool) ([]string, error) {
	if !known {
		rule = rejectedBecause("opdeploy does not know this key")
	}
	switch rule.Support {
	case compose.Ignored:
		return []string{fmt.Sprintf("%s: %s is ignored by swarm_deployment: %s", who, key, rule.Why)}, nil
	case compose.Rejected:
		return nil, fmt.Errorf("%s: %s is not supported by swarm_deployment: %s", who, key, rule.Why)
	}
	return nil, nil
}
