package local

import (
	"fmt"
	"net/netip"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
)

// resources translates a service's limits and weights. deploy.resources
// wins over the service's own keys, as in docker compose (compose-go
// rejects files where both are set and differ).
func resources(s types.ServiceConfig, r container.Resources) container.Resources {
	r.Memory = int64(s.MemLimit)
	r.MemoryReservation = int64(s.MemReservation)
	r.MemorySwap = int64(s.MemSwapLimit)
	if s.MemSwappiness != 0 {
		v := int64(s.MemSwappiness)
		r.MemorySwappiness = &v
	}
	if s.OomKillDisable {
		v := true
		r.OomKillDisable = &v
	}
	r.NanoCPUs = int64(float64(s.CPUS) * 1e9)
	r.CPUShares = s.CPUShares
	r.CPUPeriod = s.CPUPeriod
	r.CPUQuota = s.CPUQuota
	r.CpusetCpus = s.CPUSet
	r.CgroupParent = s.CgroupParent
	r.DeviceCgroupRules = s.DeviceCgroupRules
	if s.PidsLimit != 0 {
		limit := s.PidsLimit
		r.PidsLimit = &limit
	}
	for _, name := range sortedKeys(s.Ulimits) {
		u := s.Ulimits[name]
		soft, hard := int64(u.Soft), int64(u.Hard)
		if u.Single != 0 {
			soft, hard = int64(u.Single), int64(u.Single)
		}
		r.Ulimits = append(r.Ulimits, &container.Ulimit{Name: name, Soft: soft, Hard: hard})
	}
	if s.Deploy == nil {
		return r
	}
	if l := s.Deploy.Resources.Limits; l != nil {
		if l.MemoryBytes != 0 {
			r.Memory = int64(l.MemoryBytes)
		}
		if l.NanoCPUs != 0 {
			r.NanoCPUs = int64(float64(l.NanoCPUs) * 1e9)
		}
		if l.Pids != 0 {
			limit := l.Pids
			r.PidsLimit = &limit
		}
	}
	if res := s.Deploy.Resources.Reservations; res != nil && res.MemoryBytes != 0 {
		r.MemoryReservation = int64(res.MemoryBytes)
	}
	return r
}

// addNamespaces sets the namespaces the container shares: ipc, pid, uts,
// cgroup, the user namespace, and its runtime. "service:" references have
// been resolved to "container:<id>".
func addNamespaces(s types.ServiceConfig, host *container.HostConfig) {
	host.IpcMode = container.IpcMode(s.Ipc)
	host.PidMode = container.PidMode(s.Pid)
	host.UTSMode = container.UTSMode(s.Uts)
	host.CgroupnsMode = container.CgroupnsMode(s.Cgroup)
	host.UsernsMode = container.UsernsMode(s.UserNSMode)
	host.GroupAdd = s.GroupAdd
	host.Runtime = s.Runtime
	host.StorageOpt = s.StorageOpt
	host.OomScoreAdj = int(s.OomScoreAdj)
	if len(s.Annotations) > 0 {
		host.Annotations = map[string]string(s.Annotations)
	}
}

// addDNS sets the resolver configuration.
func addDNS(s types.ServiceConfig, host *container.HostConfig) error {
	for _, d := range s.DNS {
		addr, err := netip.ParseAddr(d)
		if err != nil {
			return fmt.Errorf("service %q: dns %q: %w", s.Name, d, err)
		}
		host.DNS = append(host.DNS, addr)
	}
	host.DNSSearch = s.DNSSearch
	host.DNSOptions = s.DNSOpts
	return nil
}

// addDevices maps host devices into the container ("/dev/fuse",
// "/dev/sda:/dev/xvda:rwm").
func addDevices(s types.ServiceConfig, host *container.HostConfig) {
	for _, d := range s.Devices {
		target := d.Target
		if target == "" {
			target = d.Source
		}
		perms := d.Permissions
		if perms == "" {
			perms = "rwm"
		}
		host.Devices = append(host.Devices, container.DeviceMapping{PathOnHost: d.Source, PathInContainer: target, CgroupPermissions: perms})
	}
}

// addSecurityOptions passes security_opt on, but for systempaths=unconfined:
// that one the docker CLI and compose turn into empty masked and read-only
// path lists (the engine itself rejects it), which lets a container write
// /proc/sys and /sys — what a Docker engine nested in a container needs.
func addSecurityOptions(s types.ServiceConfig, host *container.HostConfig) {
	for _, opt := range s.SecurityOpt {
		if opt == "systempaths=unconfined" {
			host.MaskedPaths, host.ReadonlyPaths = []string{}, []string{}
			continue
		}
		host.SecurityOpt = append(host.SecurityOpt, opt)
	}
}
