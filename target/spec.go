package target

import "context"

// ComposeSpec is a compose project as a subject declares it: from files
// and/or service definitions built in Starlark. Every target that runs a
// compose model (local, swarm) starts from one.
type ComposeSpec struct {
	// Project is the compose project name. Empty means "not decided yet":
	// the subject's name is used.
	Project string
	// ComposeFiles are absolute paths, merged in order.
	ComposeFiles []string
	// Services are compose service definitions built in Starlark, merged
	// over the files as an override file would be. Values are plain Go
	// values (map[string]any, []any, string, int64, float64, bool, nil).
	Services map[string]any
	// Volumes and Networks are top-level compose volume and network
	// definitions built in Starlark, merged like Services.
	Volumes, Networks map[string]any
	// ServicesFile names the file that defined Services, for messages.
	ServicesFile string
	// Env is used for ${VAR} interpolation, over the process environment,
	// over EnvFiles.
	Env map[string]string
	// EnvFiles are absolute paths of dotenv files for interpolation. When
	// empty, a ".env" in Dir is read if present.
	EnvFiles []string
	// Profiles are the active compose profiles.
	Profiles []string
	// Dir is the project directory: relative paths in compose files and
	// Services resolve against it.
	Dir string
}

// LocalSpec is what a subject asks of the local Docker engine: a compose
// project, and the images to build for it.
type LocalSpec struct {
	ComposeSpec
	// Images are built (when their inputs changed) before containers are
	// created; services refer to them by tag.
	Images []BinaryImage
	// Pos is where the deployment was declared.
	Pos Pos
}

// Resolver turns the specs a subject declares into deployment targets.
// The engine supplies one; the Starlark layer calls it while a subject is
// evaluated so that a bad compose file fails at the line that names it.
// Resolving must not change anything on any engine.
type Resolver interface {
	Local(ctx context.Context, spec LocalSpec) (DeploymentTarget, error)
	Swarm(ctx context.Context, spec SwarmSpec) (DeploymentTarget, error)
}

// SwarmSpec is what a subject asks of a Docker Swarm: a compose project
// deployed as swarm services, through the manager at Endpoint
// (docs/swarm.md).
type SwarmSpec struct {
	ComposeSpec
	// Endpoint is the manager's Engine API address, "unix:///path" or
	// "tcp://host:port". Empty means DOCKER_HOST (else the local socket).
	Endpoint string
	// Images says how images reach the nodes: ImagesPull (each node pulls)
	// or ImagesLoad (copied from the local engine into each node that lacks
	// them).
	Images string
	// BinaryImages are built on the local engine before the images are
	// loaded into the nodes; services refer to them by tag.
	BinaryImages []BinaryImage
	// Pos is where the deployment was declared.
	Pos Pos
}

// How a swarm's nodes get their images (SwarmSpec.Images).
const (
	ImagesPull = "pull"
	ImagesLoad = "load"
)

// BinaryImage is an image a subject builds from host executables, the
// shared libraries they load, and listed files: no Dockerfile, no registry.
type BinaryImage struct {
	Tag string
	// Binaries are host executables: absolute paths, or names looked up in
	// PATH when the image is built. Each lands in the image at the path it
	// has on the host.
	Binaries []string
	// Files maps a path in the image to an absolute host path.
	Files map[string]string
	// Entrypoint defaults to the first binary.
	Entrypoint []string
	Pos        Pos
}
