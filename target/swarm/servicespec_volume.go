package swarm

import (
	"os"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/mount"
)

// volumeName is the engine name of a project volume, as networkName is a
// network's: name:, else <project>_<key>. Each node a task lands on has
// its own volume of that name.
func volumeName(p *types.Project, key string) string {
	if v, ok := p.Volumes[key]; ok && v.Name != "" {
		return v.Name
	}
	return scoped(p.Name, key)
}

// volumeOptions is how a node creates a project volume when a task first
// mounts it: the swarm has no cluster-wide volumes (without CSI), so the
// top-level volume's driver, driver_opts and labels travel in every mount.
// An external volume gets none: it exists, and is not the project's.
func volumeOptions(p *types.Project, key string) *mount.VolumeOptions {
	v := p.Volumes[key]
	if v.External {
		return &mount.VolumeOptions{}
	}
	opts := &mount.VolumeOptions{Labels: map[string]string{}}
	for k, val := range v.Labels {
		opts.Labels[k] = val
	}
	opts.Labels[labelNamespace] = p.Name
	if v.Driver != "" || len(v.DriverOpts) > 0 {
		opts.DriverConfig = &mount.Driver{Name: v.Driver, Options: v.DriverOpts}
	}
	return opts
}

// mounts maps volumes and tmpfs, in the file's order.
func mounts(p *types.Project, s types.ServiceConfig) ([]mount.Mount, error) {
	var out []mount.Mount
	for _, v := range s.Volumes {
		m := mount.Mount{Type: mount.Type(v.Type), Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
		key := "volumes " + v.Target
		switch v.Type {
		case types.VolumeTypeVolume:
			if v.Source != "" {
				m.Source = volumeName(p, v.Source)
				m.VolumeOptions = volumeOptions(p, v.Source)
			}
			if vv := v.Volume; vv != nil && (vv.NoCopy || vv.Subpath != "" || len(vv.Labels) > 0) {
				if m.VolumeOptions == nil {
					m.VolumeOptions = &mount.VolumeOptions{}
				}
				m.VolumeOptions.NoCopy = vv.NoCopy
				m.VolumeOptions.Subpath = vv.Subpath // API 1.45: checkEngineSupport
				if len(vv.Labels) > 0 && !p.Volumes[v.Source].External {
					if m.VolumeOptions.Labels == nil {
						m.VolumeOptions.Labels = map[string]string{}
					}
					for k, val := range vv.Labels {
						m.VolumeOptions.Labels[k] = val
					}
				}
			}
		case types.VolumeTypeBind:
			if b := v.Bind; b != nil {
				if b.SELinux != "" {
					return nil, unsupported(s, key+": bind.selinux", "swarm mounts cannot relabel a bind source")
				}
				if b.Recursive != "" {
					return nil, unsupported(s, key+": bind.recursive", "not supported yet (it needs engine API 1.44)")
				}
				if b.Propagation != "" {
					m.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(b.Propagation)}
				}
			}
		case types.VolumeTypeTmpfs:
			if t := v.Tmpfs; t != nil && (t.Size != 0 || t.Mode != 0) {
				m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: int64(t.Size), Mode: os.FileMode(t.Mode)}
			}
		default:
			return nil, unsupported(s, key+": type "+v.Type, "a swarm mounts volumes, binds and tmpfs")
		}
		out = append(out, m)
	}
	for _, t := range s.Tmpfs {
		m, err := tmpfsMount(s, t)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// tmpfsMount reads a tmpfs entry, "/path[:size=64m,mode=1777]": a swarm
// takes a tmpfs's size and mode only.
func tmpfsMount(s types.ServiceConfig, entry string) (mount.Mount, error) {
	path, options, _ := strings.Cut(entry, ":")
	m := mount.Mount{Type: mount.TypeTmpfs, Target: path}
	if options == "" {
		return m, nil
	}
	m.TmpfsOptions = &mount.TmpfsOptions{}
	for _, opt := range strings.Split(options, ",") {
		name, value, _ := strings.Cut(opt, "=")
		switch name {
		case "size":
			var size types.UnitBytes
			if err := size.UnmarshalJSON([]byte(strconv.Quote(value))); err != nil {
				return m, specError(s, "tmpfs", "%s: size %q is not a size (64m)", path, value)
			}
			m.TmpfsOptions.SizeBytes = int64(size)
		case "mode":
			mode, err := strconv.ParseUint(value, 8, 32)
			if err != nil {
				return m, specError(s, "tmpfs", "%s: mode %q is not an octal mode (1777)", path, value)
			}
			m.TmpfsOptions.Mode = os.FileMode(mode)
		default:
			return m, unsupported(s, "tmpfs "+path+": option "+name, "a swarm sets a tmpfs's size and mode only")
		}
	}
	return m, nil
}
