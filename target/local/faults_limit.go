package local

import (
	"context"
	"fmt"
	"runtime"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// setLimits changes a live container's CPU and memory limits (zero leaves
// one as it is). Memory and swap together are the limit on cgroup v1, so
// both are set: the container gets no swap beyond it.
func (d *Deployment) setLimits(ctx context.Context, cli dockerapi.API, id string, cpus float64, memory uint64) error {
	var res container.Resources
	if cpus > 0 {
		res.NanoCPUs = int64(cpus * 1e9)
	}
	if memory > 0 {
		res.Memory, res.MemorySwap = int64(memory), int64(memory)
	}
	if _, err := cli.ContainerUpdate(ctx, id, client.ContainerUpdateOptions{Resources: &res}); err != nil {
		return fmt.Errorf("update limits: %w", err)
	}
	return nil
}

// unlimitedMemory is the largest memory limit the kernel accepts: no limit
// in effect.
const unlimitedMemory = int64(^uint64(0)>>1) &^ 4095

// restoreLimits sets the limits the compose file gives the service. The
// Engine API cannot remove a limit (it reads 0 as "unchanged" and refuses
// -1), so where the file sets none, the container gets all the engine's
// CPUs and the kernel's largest memory limit: no limit in effect, though
// inspect shows those numbers (docs/faults.md).
func (d *Deployment) restoreLimits(ctx context.Context, cli dockerapi.API, id, service string) error {
	s, err := d.service(service)
	if err != nil {
		return err
	}
	spec, err := buildContainerSpec(d.project, s, specOptions{Number: 1})
	if err != nil {
		return err
	}
	res := container.Resources{NanoCPUs: spec.Host.NanoCPUs, Memory: spec.Host.Memory, MemorySwap: spec.Host.MemorySwap}
	if res.NanoCPUs == 0 {
		res.NanoCPUs = int64(runtime.NumCPU()) * 1e9 // the engine runs on this machine
	}
	if res.Memory == 0 {
		res.Memory = unlimitedMemory
	}
	if res.MemorySwap == 0 || res.MemorySwap < res.Memory && res.MemorySwap > 0 {
		res.MemorySwap = res.Memory
	}
	if _, err := cli.ContainerUpdate(ctx, id, client.ContainerUpdateOptions{Resources: &res}); err != nil {
		return fmt.Errorf("restore the compose file's limits (cpus %.2f, memory %d): %w", float64(res.NanoCPUs)/1e9, res.Memory, err)
	}
	return nil
}
