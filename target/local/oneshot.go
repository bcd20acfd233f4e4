package local

import (
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// labelOneShot marks a service as a job that runs to completion (a
// migration, a cluster bootstrap), when no other service declares it so
// through depends_on.
const labelOneShot = "dev.opdeploy.one-shot"

// oneShotServices returns the services declared to run to completion:
// those another service waits on with condition
// service_completed_successfully, and those labelled
// dev.opdeploy.one-shot: "true". Every other service is meant to keep
// running, so an exit, whatever its code, makes it not ready: a stopped
// etcd member that exited 0 on SIGTERM is down, not done. The exit code
// alone never decides (docs/compose.md, "One-shot services").
func oneShotServices(p *types.Project) map[string]bool {
	out := map[string]bool{}
	for _, s := range p.AllServices() {
		if isTrue(s.Labels[labelOneShot]) {
			out[s.Name] = true
		}
		for dep, cfg := range s.DependsOn {
			if cfg.Condition == types.ServiceConditionCompletedSuccessfully {
				out[dep] = true
			}
		}
	}
	return out
}

func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "true", "yes", "1":
		return true
	}
	return false
}
