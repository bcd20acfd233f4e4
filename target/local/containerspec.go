package local

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/opdeploy/opdeploy/target/compose"
)

// containerSpec is everything needed to create one container. Engines
// before API 1.44 accept a single network at create time, so the first
// network goes into the create call and the rest are connected before the
// container starts.
type containerSpec struct {
	Name     string
	Config   *container.Config
	Host     *container.HostConfig
	Networks []networkAttachment
	// Files are secrets and configs copied into the container once it is
	// created, before it starts (files.go).
	Files []containerFile
	// Platform is the service's platform, nil when it names none.
	Platform *ocispec.Platform
}

type networkAttachment struct {
	Network  string // engine-level network name
	Endpoint *network.EndpointSettings
}

// specOptions carries what the translation needs beyond the service.
type specOptions struct {
	Number     int
	Image      string // image reference to run
	ImageID    string // resolved image ID, recorded in a label
	Hash       string
	APIVersion string
	// AnonymousVolumes maps a target path to the engine volume name an
	// earlier container of this replica used, so recreation keeps its data.
	AnonymousVolumes map[string]string
}

// buildContainerSpec translates a compose service into an Engine API
// container for replica opts.Number. References to other services'
// containers (network_mode: "service:db", volumes_from) must have been
// resolved (resolveRefs): the engine takes container IDs.
func buildContainerSpec(p *types.Project, s types.ServiceConfig, opts specOptions) (*containerSpec, error) {
	name := containerName(p.Name, s, opts.Number)
	cfg := &container.Config{
		Image:        opts.Image,
		Hostname:     s.Hostname,
		Domainname:   s.DomainName,
		User:         s.User,
		WorkingDir:   s.WorkingDir,
		Entrypoint:   s.Entrypoint,
		Cmd:          s.Command,
		Tty:          s.Tty,
		OpenStdin:    s.StdinOpen,
		StopSignal:   s.StopSignal,
		Env:          compose.Environment(s),
		Labels:       map[string]string{},
		ExposedPorts: network.PortSet{},
	}
	for k, v := range s.Labels {
		cfg.Labels[k] = v
	}
	for k, v := range map[string]string{
		labelProject:     p.Name,
		labelService:     s.Name,
		labelNumber:      strconv.Itoa(opts.Number),
		labelOneoff:      "False",
		labelConfigHash:  opts.Hash,
		labelWorkingDir:  p.WorkingDir,
		labelConfigFiles: strings.Join(p.ComposeFiles, ","),
		labelDependsOn:   dependsOnLabel(s),
		labelImage:       opts.ImageID,
		labelVersion:     composeVersion,
	} {
		cfg.Labels[k] = v
	}
	if s.StopGracePeriod != nil {
		secs := int(math.Ceil(time.Duration(*s.StopGracePeriod).Seconds()))
		cfg.StopTimeout = &secs
	}
	if hc := s.HealthCheck; hc != nil {
		cfg.Healthcheck = &container.HealthConfig{
			Test:        hc.Test,
			Interval:    durationOf(hc.Interval),
			Timeout:     durationOf(hc.Timeout),
			StartPeriod: durationOf(hc.StartPeriod),
		}
		if hc.Retries != nil {
			cfg.Healthcheck.Retries = int(*hc.Retries)
		}
		if hc.StartInterval != nil && !apiBefore(opts.APIVersion, "1.44") {
			cfg.Healthcheck.StartInterval = durationOf(hc.StartInterval)
		}
		if hc.Disable {
			cfg.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
		}
	}

	host := &container.HostConfig{
		Init:           s.Init,
		Privileged:     s.Privileged,
		CapAdd:         s.CapAdd,
		CapDrop:        s.CapDrop,
		ExtraHosts:     s.ExtraHosts.AsList(":"),
		ReadonlyRootfs: s.ReadOnly,
		ShmSize:        int64(s.ShmSize),
		PortBindings:   network.PortMap{},
	}
	if len(s.Sysctls) > 0 {
		host.Sysctls = map[string]string(s.Sysctls)
	}
	if len(s.Tmpfs) > 0 {
		host.Tmpfs = map[string]string{}
		for _, t := range s.Tmpfs {
			path, opt, _ := strings.Cut(t, ":")
			host.Tmpfs[path] = opt
		}
	}
	restart, err := restartPolicy(restartOf(s))
	if err != nil {
		return nil, fmt.Errorf("service %q: %w", s.Name, err)
	}
	host.RestartPolicy = restart
	addSecurityOptions(s, host)
	host.Resources = resources(s, host.Resources)
	addNamespaces(s, host)
	addDevices(s, host)
	if err := addDNS(s, host); err != nil {
		return nil, err
	}

	if err := addPorts(s, cfg, host); err != nil {
		return nil, err
	}
	if err := addVolumes(p, s, host, opts.AnonymousVolumes); err != nil {
		return nil, err
	}
	fileMounts, files, err := serviceFiles(p, s)
	if err != nil {
		return nil, err
	}
	host.Mounts = append(host.Mounts, fileMounts...)
	host.VolumesFrom = s.VolumesFrom

	spec := &containerSpec{Name: name, Config: cfg, Host: host, Files: files}
	if s.Platform != "" {
		platform, err := parsePlatform(s.Platform)
		if err != nil {
			return nil, fmt.Errorf("service %q: platform: %w", s.Name, err)
		}
		spec.Platform = &platform
	}
	if err := addNetworks(p, s, opts.Number, spec); err != nil {
		return nil, err
	}
	return spec, nil
}

// restartOf is the restart policy a service's containers get, in the form
// of compose's restart key: deploy.restart_policy when it is set (it wins
// over restart, as in docker compose), else restart. delay and window have
// no engine equivalent (validateDeploy warns).
func restartOf(s types.ServiceConfig) string {
	if s.Deploy == nil || s.Deploy.RestartPolicy == nil {
		return s.Restart
	}
	rp := s.Deploy.RestartPolicy
	mode := restartMode(rp.Condition)
	if mode == "on-failure" && rp.MaxAttempts != nil && *rp.MaxAttempts > 0 {
		return fmt.Sprintf("on-failure:%d", *rp.MaxAttempts)
	}
	return mode
}

func restartPolicy(r string) (container.RestartPolicy, error) {
	mode, count, _ := strings.Cut(r, ":")
	switch mode {
	case "", "no":
		return container.RestartPolicy{Name: container.RestartPolicyDisabled}, nil
	case "always":
		return container.RestartPolicy{Name: container.RestartPolicyAlways}, nil
	case "unless-stopped":
		return container.RestartPolicy{Name: container.RestartPolicyUnlessStopped}, nil
	case "on-failure":
		p := container.RestartPolicy{Name: container.RestartPolicyOnFailure}
		if count != "" {
			n, err := strconv.Atoi(count)
			if err != nil {
				return p, fmt.Errorf("restart %q: bad retry count", r)
			}
			p.MaximumRetryCount = n
		}
		return p, nil
	}
	return container.RestartPolicy{}, fmt.Errorf("restart %q: want no, always, on-failure[:N] or unless-stopped", r)
}

func addPorts(s types.ServiceConfig, cfg *container.Config, host *container.HostConfig) error {
	for _, p := range s.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		port, err := network.ParsePort(fmt.Sprintf("%d/%s", p.Target, proto))
		if err != nil {
			return fmt.Errorf("service %q: port %d/%s: %w", s.Name, p.Target, proto, err)
		}
		cfg.ExposedPorts[port] = struct{}{}
		binding := network.PortBinding{HostPort: p.Published}
		if p.HostIP != "" {
			addr, err := netip.ParseAddr(p.HostIP)
			if err != nil {
				return fmt.Errorf("service %q: port host_ip %q: %w", s.Name, p.HostIP, err)
			}
			binding.HostIP = addr
		}
		host.PortBindings[port] = append(host.PortBindings[port], binding)
	}
	for _, e := range s.Expose {
		spec := e
		if !strings.Contains(spec, "/") {
			spec += "/tcp"
		}
		r, err := network.ParsePortRange(spec)
		if err != nil {
			return fmt.Errorf("service %q: expose %q: %w", s.Name, e, err)
		}
		for port := range r.All() {
			cfg.ExposedPorts[port] = struct{}{}
		}
	}
	return nil
}

func addVolumes(p *types.Project, s types.ServiceConfig, host *container.HostConfig, anonymous map[string]string) error {
	declared := map[string]bool{}
	for _, v := range s.Volumes {
		declared[v.Target] = true
	}
	for _, target := range sortedKeys(anonymous) {
		if !declared[target] { // an image VOLUME, carried over by a recreate
			host.Mounts = append(host.Mounts, mount.Mount{Type: mount.TypeVolume, Source: anonymous[target], Target: target})
		}
	}
	for _, v := range s.Volumes {
		switch v.Type {
		case types.VolumeTypeBind:
			var opts []string
			if v.ReadOnly {
				opts = append(opts, "ro")
			}
			if v.Bind != nil {
				if v.Bind.Propagation != "" {
					opts = append(opts, v.Bind.Propagation)
				}
				if v.Bind.SELinux != "" {
					opts = append(opts, v.Bind.SELinux)
				}
			}
			bind := v.Source + ":" + v.Target
			if len(opts) > 0 {
				bind += ":" + strings.Join(opts, ",")
			}
			host.Binds = append(host.Binds, bind)
		case types.VolumeTypeVolume:
			m := mount.Mount{Type: mount.TypeVolume, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Source == "" {
				m.Source = anonymous[v.Target] // "" makes the engine create one
			} else {
				vol, ok := p.Volumes[v.Source]
				if !ok {
					return fmt.Errorf("service %q: volume %q is not defined in the top-level volumes", s.Name, v.Source)
				}
				m.Source = vol.Name
			}
			if v.Volume != nil && (v.Volume.NoCopy || v.Volume.Subpath != "") {
				m.VolumeOptions = &mount.VolumeOptions{NoCopy: v.Volume.NoCopy, Subpath: v.Volume.Subpath}
			}
			host.Mounts = append(host.Mounts, m)
		case types.VolumeTypeTmpfs:
			m := mount.Mount{Type: mount.TypeTmpfs, Target: v.Target}
			if v.Tmpfs != nil {
				m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: int64(v.Tmpfs.Size), Mode: os.FileMode(v.Tmpfs.Mode)}
			}
			host.Mounts = append(host.Mounts, m)
		}
	}
	return nil
}

// networkOrder lists a service's networks by descending priority, then name,
// as compose connects them.
func networkOrder(s types.ServiceConfig) []string {
	keys := sortedKeys(s.Networks)
	sort.SliceStable(keys, func(i, j int) bool {
		pi, pj := 0, 0
		if n := s.Networks[keys[i]]; n != nil {
			pi = n.Priority
		}
		if n := s.Networks[keys[j]]; n != nil {
			pj = n.Priority
		}
		return pi > pj
	})
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
