package swarm

import (
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"
)

// Who runs a service's compose healthcheck on a swarm. By default opdeploy
// runs it, through the task's node engine, and the swarm is given none.
// The reason: a swarm adds a task to its service's DNS (the service name,
// its aliases, tasks.NAME) only once the task's healthcheck has passed
// (moby/moby#35451, #36737). A cluster whose members must reach each other
// by name before any of them can call itself healthy — etcd, TiKV, Kafka,
// Elasticsearch: what opdeploy is for — then never forms. Run by
// opdeploy, the healthcheck decides the verdict (status, up, wait_healthy,
// a health-gated rolling restart) without keeping names out of DNS. What
// is lost: the swarm does not replace a task that runs but fails its
// healthcheck; opdeploy reports it instead.
//
// A service can hand its healthcheck to the swarm, as docker stack deploy
// does, with the compose extension `x-opdeploy-healthcheck: swarm`.
const (
	extHealthcheck    = "x-opdeploy-healthcheck"
	healthByOpdeploy  = "opdeploy"
	healthBySwarm     = "swarm"
	labelHealthRunner = "dev.opdeploy.healthcheck"
)

// healthRunner says who runs the service's healthcheck: "" when it has
// none (or it is disabled), else healthByOpdeploy or healthBySwarm.
func healthRunner(s types.ServiceConfig) string {
	hc := s.HealthCheck
	if hc == nil || hc.Disable || (len(hc.Test) > 0 && hc.Test[0] == "NONE") || len(hc.Test) == 0 {
		return ""
	}
	if v, ok := s.Extensions[extHealthcheck]; ok && v == healthBySwarm {
		return healthBySwarm
	}
	return healthByOpdeploy
}

// checkHealthRunner validates the extension's value.
func checkHealthRunner(s types.ServiceConfig) error {
	v, ok := s.Extensions[extHealthcheck]
	if !ok {
		return nil
	}
	if v != healthByOpdeploy && v != healthBySwarm {
		return fmt.Errorf("service %q: %s: got %v, want %q or %q", s.Name, extHealthcheck, v, healthByOpdeploy, healthBySwarm)
	}
	return nil
}
