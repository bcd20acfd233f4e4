package local

import (
	"fmt"
	"net/netip"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// networkCreateOptions translates a compose network into the engine's
// create request: driver, options, ipam, IPv4/IPv6, and docker compose's
// labels, its config hash included, so that a later up can tell the
// network's definition changed.
func networkCreateOptions(project, key string, n types.NetworkConfig) (client.NetworkCreateOptions, error) {
	hash, err := resourceHash(n)
	if err != nil {
		return client.NetworkCreateOptions{}, err
	}
	labels := map[string]string{}
	for k, v := range n.Labels {
		labels[k] = v
	}
	for k, v := range map[string]string{labelProject: project, labelNetwork: key, labelVersion: composeVersion, labelConfigHash: hash} {
		labels[k] = v
	}
	ipam, err := networkIPAM(key, n.Ipam)
	if err != nil {
		return client.NetworkCreateOptions{}, err
	}
	return client.NetworkCreateOptions{
		Driver: n.Driver, Options: n.DriverOpts, Internal: n.Internal, Attachable: n.Attachable,
		IPAM: ipam, EnableIPv4: n.EnableIPv4, EnableIPv6: n.EnableIPv6, Labels: labels,
	}, nil
}

// networkIPAM translates ipam: driver, options and address pools. A
// network without ipam gets the engine's defaults (nil).
func networkIPAM(key string, in types.IPAMConfig) (*network.IPAM, error) {
	if in.Driver == "" && len(in.Config) == 0 && len(in.Options) == 0 {
		return nil, nil
	}
	out := &network.IPAM{Driver: in.Driver, Options: in.Options}
	for i, pool := range in.Config {
		if pool == nil {
			continue
		}
		where := fmt.Sprintf("network %q: ipam.config[%d]", key, i)
		var c network.IPAMConfig
		var err error
		if pool.Subnet != "" {
			if c.Subnet, err = netip.ParsePrefix(pool.Subnet); err != nil {
				return nil, fmt.Errorf("%s.subnet: %w", where, err)
			}
		}
		if pool.IPRange != "" {
			if c.IPRange, err = netip.ParsePrefix(pool.IPRange); err != nil {
				return nil, fmt.Errorf("%s.ip_range: %w", where, err)
			}
			if c.Subnet.IsValid() && !prefixWithin(c.IPRange, c.Subnet) {
				return nil, fmt.Errorf("%s.ip_range %s is not within subnet %s", where, c.IPRange, c.Subnet)
			}
		}
		if pool.Gateway != "" {
			if c.Gateway, err = netip.ParseAddr(pool.Gateway); err != nil {
				return nil, fmt.Errorf("%s.gateway: %w", where, err)
			}
			if c.Subnet.IsValid() && !c.Subnet.Contains(c.Gateway) {
				return nil, fmt.Errorf("%s.gateway %s is not within subnet %s", where, c.Gateway, c.Subnet)
			}
		}
		for _, name := range sortedKeys(pool.AuxiliaryAddresses) {
			addr, err := netip.ParseAddr(pool.AuxiliaryAddresses[name])
			if err != nil {
				return nil, fmt.Errorf("%s.aux_addresses.%s: %w", where, name, err)
			}
			if c.AuxAddress == nil {
				c.AuxAddress = map[string]netip.Addr{}
			}
			c.AuxAddress[name] = addr
		}
		out.Config = append(out.Config, c)
	}
	return out, nil
}

func prefixWithin(inner, outer netip.Prefix) bool {
	return inner.Bits() >= outer.Bits() && outer.Contains(inner.Addr())
}

// validateNetworks checks the networks the services use, and that fixed
// addresses fall in a subnet their network declares (else the engine
// refuses the container half-way through up: "user specified IP address is
// supported only when connecting to networks with user configured
// subnets").
func validateNetworks(p *types.Project, services []string) error {
	used := map[string]bool{}
	for _, name := range services {
		s := p.Services[name]
		for key, sn := range s.Networks {
			used[key] = true
			n, ok := p.Networks[key]
			if sn == nil || !ok || bool(n.External) {
				continue
			}
			for _, a := range []struct{ key, addr string }{{"ipv4_address", sn.Ipv4Address}, {"ipv6_address", sn.Ipv6Address}} {
				if a.addr == "" {
					continue
				}
				addr, err := netip.ParseAddr(a.addr)
				if err != nil {
					return fmt.Errorf("service %q: network %q: %s: %w", name, key, a.key, err)
				}
				if !inDeclaredSubnet(n.Ipam, addr) {
					return fmt.Errorf("service %q: network %q: %s %s is in no subnet that network's ipam declares (the engine takes fixed addresses only then)", name, key, a.key, addr)
				}
			}
		}
	}
	for _, key := range sortedKeys(used) {
		if n, ok := p.Networks[key]; ok {
			if _, err := networkIPAM(key, n.Ipam); err != nil {
				return err
			}
		}
	}
	return nil
}

func inDeclaredSubnet(ipam types.IPAMConfig, addr netip.Addr) bool {
	for _, pool := range ipam.Config {
		if pool == nil {
			continue
		}
		if prefix, err := netip.ParsePrefix(pool.Subnet); err == nil && prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// volumeCreateOptions translates a compose volume into the engine's create
// request, with docker compose's labels and config hash.
func volumeCreateOptions(project, key string, v types.VolumeConfig) (client.VolumeCreateOptions, error) {
	hash, err := resourceHash(v)
	if err != nil {
		return client.VolumeCreateOptions{}, err
	}
	labels := map[string]string{}
	for k, val := range v.Labels {
		labels[k] = val
	}
	for k, val := range map[string]string{labelProject: project, labelVolume: key, labelVersion: composeVersion, labelConfigHash: hash} {
		labels[k] = val
	}
	return client.VolumeCreateOptions{Name: v.Name, Driver: v.Driver, DriverOpts: v.DriverOpts, Labels: labels}, nil
}
