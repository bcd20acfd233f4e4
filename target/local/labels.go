package local

import (
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Labels are docker compose's own, so `docker compose ps -p NAME` sees what
// opdeploy made and opdeploy sees what compose made.
const (
	labelProject     = "com.docker.compose.project"
	labelService     = "com.docker.compose.service"
	labelNumber      = "com.docker.compose.container-number"
	labelOneoff      = "com.docker.compose.oneoff"
	labelConfigHash  = "com.docker.compose.config-hash"
	labelWorkingDir  = "com.docker.compose.project.working_dir"
	labelConfigFiles = "com.docker.compose.project.config_files"
	labelDependsOn   = "com.docker.compose.depends_on"
	labelImage       = "com.docker.compose.image"
	labelVersion     = "com.docker.compose.version"
	labelNetwork     = "com.docker.compose.network"
	labelVolume      = "com.docker.compose.volume"
	// labelImageBuilder is on the images up builds: the builder that made
	// them ("classic": the engine's build endpoint without BuildKit).
	labelImageBuilder = "com.docker.compose.image.builder"

	// composeVersion is what we write in com.docker.compose.version; compose
	// only displays it.
	composeVersion = "2.0.0-opdeploy"
)

// containerName is the name docker compose gives replica n of a service.
func containerName(project string, s types.ServiceConfig, n int) string {
	return replicaName(project, s.Name, s.ContainerName, n)
}

// replicaName is compose's naming rule: a fixed container_name, else
// <project>-<service>-<n>.
func replicaName(project, service, fixed string, n int) string {
	if fixed != "" {
		return fixed
	}
	return fmt.Sprintf("%s-%s-%d", project, service, n)
}

// dependsOnLabel encodes depends_on as compose does ("db:service_healthy:false"),
// so `down` can order stops from labels alone.
func dependsOnLabel(s types.ServiceConfig) string {
	var deps []string
	for name, d := range s.DependsOn {
		deps = append(deps, fmt.Sprintf("%s:%s:%t", name, d.Condition, d.Restart))
	}
	sort.Strings(deps)
	return strings.Join(deps, ",")
}

// parseDependsOnLabel returns the service names in a depends_on label.
func parseDependsOnLabel(v string) []string {
	var out []string
	for _, dep := range strings.Split(v, ",") {
		if name, _, _ := strings.Cut(dep, ":"); name != "" {
			out = append(out, name)
		}
	}
	return out
}

func projectFilterLabel(project string) string { return labelProject + "=" + project }
