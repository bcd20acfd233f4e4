package local

import (
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target/compose"
)

// keyRule is the policy for one key (target/compose/policy.go).
type keyRule = compose.KeyRule

func yes() keyRule                       { return keyRule{Support: compose.Honoured} }
func no() keyRule                        { return keyRule{Support: compose.Rejected} }
func ignoredBecause(why string) keyRule  { return keyRule{Support: compose.Ignored, Why: why} }
func rejectedBecause(why string) keyRule { return keyRule{Support: compose.Rejected, Why: why} }

// serviceKeys holds every service key compose-spec defines; docs/compose.md
// has one row per key, and TestKeyPoliciesCoverTheSpec keeps both complete
// against compose-go's schema. A key missing here is rejected.
var serviceKeys = map[string]keyRule{
	"annotations":         yes(), // needs API 1.43 (preflight.go)
	"attach":              ignoredBecause("it only chooses whose logs docker compose up prints"),
	"blkio_config":        no(),
	"build":               yes(),
	"cap_add":             yes(),
	"cap_drop":            yes(),
	"cgroup":              yes(),
	"cgroup_parent":       yes(),
	"command":             yes(),
	"configs":             yes(),
	"container_name":      yes(),
	"cpu_count":           rejectedBecause("only Windows engines apply it"),
	"cpu_percent":         rejectedBecause("only Windows engines apply it"),
	"cpu_period":          yes(),
	"cpu_quota":           yes(),
	"cpu_rt_period":       no(),
	"cpu_rt_runtime":      no(),
	"cpu_shares":          yes(),
	"cpus":                yes(),
	"cpuset":              yes(),
	"credential_spec":     ignoredBecause("only Windows engines use it; docker compose ignores it too"),
	"depends_on":          yes(),
	"deploy":              yes(), // sub-keys: deployKeys
	"develop":             ignoredBecause("only docker compose watch uses it"),
	"device_cgroup_rules": yes(),
	"devices":             yes(),
	"dns":                 yes(),
	"dns_opt":             yes(),
	"dns_search":          yes(),
	"domainname":          yes(),
	"entrypoint":          yes(),
	"env_file":            yes(),
	"environment":         yes(),
	"expose":              yes(),
	"extends":             yes(),
	"external_links":      yes(),
	"extra_hosts":         yes(),
	"gpus":                no(),
	"group_add":           yes(),
	"healthcheck":         yes(),
	"hostname":            yes(),
	"image":               yes(),
	"init":                yes(),
	"ipc":                 yes(),
	"isolation":           rejectedBecause("only Windows engines apply it"),
	"label_file":          yes(),
	"labels":              yes(),
	"links":               yes(),
	"logging":             ignoredBecause("log drivers are not applied yet; containers log with the engine's default driver"),
	"mac_address":         no(),
	"mem_limit":           yes(),
	"mem_reservation":     yes(),
	"mem_swappiness":      yes(),
	"memswap_limit":       yes(),
	"models":              no(),
	"network_mode":        yes(),
	"networks":            yes(),
	"oom_kill_disable":    yes(),
	"oom_score_adj":       yes(),
	"pid":                 yes(),
	"pids_limit":          yes(),
	"platform":            yes(),
	"ports":               yes(),
	"post_start":          no(),
	"pre_start":           no(),
	"pre_stop":            no(),
	"privileged":          yes(),
	"profiles":            yes(),
	"provider":            no(),
	"pull_policy":         yes(),
	"pull_refresh_after":  ignoredBecause("docker compose ignores it too; refresh pull policies are not supported"),
	"read_only":           yes(),
	"restart":             yes(),
	"runtime":             yes(),
	"scale":               yes(),
	"secrets":             yes(),
	"security_opt":        yes(),
	"shm_size":            yes(),
	"stdin_open":          yes(),
	"stop_grace_period":   yes(),
	"stop_signal":         yes(),
	"storage_opt":         yes(),
	"sysctls":             yes(),
	"tmpfs":               yes(),
	"tty":                 yes(),
	"ulimits":             yes(),
	"umask":               ignoredBecause("the Docker engine has no such setting; docker compose ignores it too"),
	"use_api_socket":      no(),
	"user":                yes(),
	"userns_mode":         yes(),
	"uts":                 yes(),
	"volumes":             yes(),
	"volumes_from":        yes(),
	"working_dir":         yes(),
}

// deployKeys is the same for the keys of deploy:. Swarm's scheduling keys
// mean nothing on one engine; docker compose ignores them too.
var deployKeys = map[string]keyRule{
	"endpoint_mode":   ignoredBecause("it is a Swarm setting; docker compose ignores it too"),
	"labels":          ignoredBecause("they label Swarm services; docker compose ignores them too"),
	"mode":            yes(), // replicated or global (one replica on one engine); jobs are rejected
	"placement":       ignoredBecause("it is a Swarm setting; docker compose ignores it too"),
	"replicas":        yes(),
	"resources":       yes(), // limits; reservations.memory
	"restart_policy":  yes(),
	"rollback_config": ignoredBecause("it is a Swarm setting; docker compose ignores it too"),
	"update_config":   ignoredBecause("it is a Swarm setting; docker compose ignores it too"),
}

// buildKeys is the same for the keys of build:. opdeploy builds with the
// engine's classic builder; the keys only BuildKit understands are
// rejected rather than dropped.
var buildKeys = map[string]keyRule{
	"additional_contexts": rejectedBecause("it needs BuildKit; opdeploy uses the engine's classic builder"),
	"args":                yes(),
	"cache_from":          yes(),
	"cache_to":            rejectedBecause("it needs BuildKit; opdeploy uses the engine's classic builder"),
	"context":             yes(),
	"dockerfile":          yes(),
	"dockerfile_inline":   yes(),
	"entitlements":        rejectedBecause("it needs BuildKit; opdeploy uses the engine's classic builder"),
	"extra_hosts":         yes(),
	"isolation":           rejectedBecause("only Windows engines apply it"),
	"labels":              yes(),
	"network":             yes(),
	"no_cache":            yes(),
	"no_cache_filter":     rejectedBecause("it needs BuildKit; opdeploy uses the engine's classic builder"),
	"platforms":           yes(), // one: the classic builder makes one image
	"privileged":          rejectedBecause("it needs BuildKit; opdeploy uses the engine's classic builder"),
	"provenance":          rejectedBecause("it needs BuildKit; opdeploy uses the engine's classic builder"),
	"pull":                yes(),
	"sbom":                rejectedBecause("it needs BuildKit; opdeploy uses the engine's classic builder"),
	"secrets":             rejectedBecause("it needs BuildKit; opdeploy uses the engine's classic builder"),
	"shm_size":            yes(),
	"ssh":                 rejectedBecause("it needs BuildKit; opdeploy uses the engine's classic builder"),
	"tags":                yes(),
	"target":              yes(),
	"ulimits":             yes(),
}

// checkSupported applies the key tables to a service: warnings for keys
// ignored, and an error for the first key opdeploy cannot honour. Values
// are checked by validateService.
func checkSupported(s types.ServiceConfig) (warnings []string, err error) {
	check := func(key string, rule keyRule, known bool) error {
		if !known {
			rule = rejectedBecause("")
		}
		switch rule.Support {
		case compose.Ignored:
			warnings = append(warnings, fmt.Sprintf("service %q: %s is ignored: %s", s.Name, key, rule.Why))
		case compose.Rejected:
			why := ""
			if rule.Why != "" {
				why = ": " + rule.Why
			}
			return fmt.Errorf("service %q: %s is not supported by opdeploy yet%s (docs/compose.md lists what is)", s.Name, key, why)
		}
		return nil
	}
	for _, k := range compose.SetKeys(s, types.ServiceConfig{}) {
		rule, known := serviceKeys[k]
		if err := check(k, rule, known); err != nil {
			return warnings, err
		}
	}
	if s.Deploy != nil {
		for _, k := range compose.SetKeys(*s.Deploy, types.DeployConfig{}) {
			rule, known := deployKeys[k]
			if err := check("deploy."+k, rule, known); err != nil {
				return warnings, err
			}
		}
	}
	if s.Build != nil {
		for _, k := range compose.SetKeys(*s.Build, types.BuildConfig{}) {
			rule, known := buildKeys[k]
			if err := check("build."+k, rule, known); err != nil {
				return warnings, err
			}
		}
	}
	return warnings, nil
}
