// Package local implements LocalDeployment: a compose project, loaded by
// target/compose, run on the local Docker engine through target/dockerapi.
package local

// Kind is the name of this engine, as `opdeploy config` shows it.
const Kind = "local"
