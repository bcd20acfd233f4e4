package swarm

// Labels and names: a swarm deployment's services, networks and volumes
// are named and labelled as `docker stack deploy` names them, so the
// docker CLI's stack commands see an opdeploy project as a stack.
const (
	// labelNamespace marks every object of a project (stack deploy's own).
	labelNamespace = "com.docker.stack.namespace"
	// labelService names the compose service a swarm service runs.
	labelService = "dev.opdeploy.service"
	// labelConfigHash is the hash of what opdeploy sent for a service: an
	// unchanged hash means the service is up to date and is left alone.
	labelConfigHash = "dev.opdeploy.config-hash"
)

// scoped is a project object's engine name: project_name, as stack deploy
// names services, networks and volumes.
func scoped(project, name string) string { return project + "_" + name }
