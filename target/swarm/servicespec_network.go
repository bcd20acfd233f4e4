package swarm

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// networkName is the engine name of a project network: its name: (which
// compose-go sets to <project>_<key> when the file gives none, and to the
// key for an external network), else <project>_<key>.
func networkName(p *types.Project, key string) string {
	if n, ok := p.Networks[key]; ok && n.Name != "" {
		return n.Name
	}
	return scoped(p.Name, key)
}

// hostNetworks are the engine's own networks, which take no aliases (a
// service attaches to "host" as an external network).
var hostNetworks = map[string]bool{"host": true, "bridge": true, "none": true, "ingress": true}

// networkAttachments attaches a service to its networks, sorted by engine
// name. Each task answers to the compose service name (the swarm service
// is <project>_<service>) and the aliases the file gives, as stack deploy
// does, unless use_service_name_alias is false.
func networkAttachments(p *types.Project, s types.ServiceConfig) ([]swarm.NetworkAttachmentConfig, error) {
	var out []swarm.NetworkAttachmentConfig
	for key, cfg := range s.Networks {
		att := swarm.NetworkAttachmentConfig{Target: networkName(p, key)}
		if cfg != nil {
			for _, c := range []struct {
				set      bool
				key, why string
			}{
				{cfg.Ipv4Address != "", "ipv4_address", "a swarm assigns each task its address; it cannot pin one"},
				{cfg.Ipv6Address != "", "ipv6_address", "a swarm assigns each task its address; it cannot pin one"},
				{len(cfg.LinkLocalIPs) > 0, "link_local_ips", "a swarm assigns each task its addresses"},
				{cfg.MacAddress != "", "mac_address", "a swarm assigns each task its addresses"},
				{cfg.InterfaceName != "", "interface_name", "a swarm names its tasks' interfaces"},
			} {
				if c.set {
					return nil, unsupported(s, fmt.Sprintf("networks.%s.%s", key, c.key), c.why)
				}
			}
			att.Aliases = append(att.Aliases, cfg.Aliases...)
			att.DriverOpts = cfg.DriverOpts
		}
		if hostNetworks[att.Target] {
			if len(att.Aliases) > 0 {
				return nil, unsupported(s, fmt.Sprintf("networks.%s.aliases", key), "the engine's "+att.Target+" network takes no aliases")
			}
		} else if cfg.ServiceNameAliasEnabled() {
			att.Aliases = append(att.Aliases, s.Name)
		}
		out = append(out, att)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Target < out[j].Target })
	for _, att := range out {
		if att.Target == "host" && len(out) > 1 {
			// The engine refuses to join the host's network stack and
			// another network at once.
			return nil, specError(s, "networks", "a task on the host network cannot join other networks")
		}
	}
	return out, nil
}

// networkSpec is how up creates a project network (external ones are not
// created: the caller skips them). Every network is an overlay unless the
// file names another driver, swarm-scoped, and attachable, so that
// containers outside the swarm's services — opdeploy's own helpers, or a
// `docker run --network` — can join it; compose cannot say attachable:
// false (it reads as unset), so nothing is lost.
func networkSpec(p *types.Project, key string, n types.NetworkConfig) client.NetworkCreateOptions {
	opts := client.NetworkCreateOptions{
		Driver:     n.Driver,
		Scope:      "swarm",
		Attachable: true,
		Internal:   n.Internal,
		EnableIPv4: n.EnableIPv4,
		EnableIPv6: n.EnableIPv6,
		Options:    n.DriverOpts,
		Labels:     map[string]string{},
	}
	if opts.Driver == "" {
		opts.Driver = "overlay"
	}
	for k, v := range n.Labels {
		opts.Labels[k] = v
	}
	opts.Labels[labelNamespace] = p.Name
	opts.IPAM, _ = ipam(key, n.Ipam)
	return opts
}

// ipam converts a network's ipam, checking its addresses: the engine
// takes them as parsed addresses and prefixes.
func ipam(key string, c types.IPAMConfig) (*network.IPAM, error) {
	if c.Driver == "" && len(c.Config) == 0 && len(c.Options) == 0 {
		return nil, nil
	}
	out := &network.IPAM{Driver: c.Driver, Options: c.Options}
	for i, pool := range c.Config {
		if pool == nil {
			continue
		}
		fail := func(field, format string, args ...any) error {
			return fmt.Errorf("network %q: ipam.config[%d].%s %s", key, i, field, fmt.Sprintf(format, args...))
		}
		var cfg network.IPAMConfig
		var err error
		if pool.Subnet != "" {
			if cfg.Subnet, err = netip.ParsePrefix(pool.Subnet); err != nil {
				return out, fail("subnet", "%q is not a subnet (10.9.0.0/24)", pool.Subnet)
			}
		}
		if pool.IPRange != "" {
			if cfg.IPRange, err = netip.ParsePrefix(pool.IPRange); err != nil {
				return out, fail("ip_range", "%q is not a subnet (10.9.0.128/25)", pool.IPRange)
			}
			if cfg.Subnet.IsValid() && !(cfg.Subnet.Contains(cfg.IPRange.Addr()) && cfg.IPRange.Bits() >= cfg.Subnet.Bits()) {
				return out, fail("ip_range", "%s is not within subnet %s", pool.IPRange, pool.Subnet)
			}
		}
		if pool.Gateway != "" {
			if cfg.Gateway, err = netip.ParseAddr(pool.Gateway); err != nil {
				return out, fail("gateway", "%q is not an IP address", pool.Gateway)
			}
			if cfg.Subnet.IsValid() && !cfg.Subnet.Contains(cfg.Gateway) {
				return out, fail("gateway", "%s is not within subnet %s", pool.Gateway, pool.Subnet)
			}
		}
		for name, addr := range pool.AuxiliaryAddresses {
			a, err := netip.ParseAddr(addr)
			if err != nil {
				return out, fail("aux_addresses", "%s: %q is not an IP address", name, addr)
			}
			if cfg.AuxAddress == nil {
				cfg.AuxAddress = map[string]netip.Addr{}
			}
			cfg.AuxAddress[name] = a
		}
		out.Config = append(out.Config, cfg)
	}
	return out, nil
}
