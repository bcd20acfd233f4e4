package local

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// addNetworks sets the container's network mode and its endpoints, as
// docker compose does: on each network the container answers to its
// container name, its service name and the aliases the file gives, and
// links add names that only this container resolves.
func addNetworks(p *types.Project, s types.ServiceConfig, number int, spec *containerSpec) error {
	host := spec.Host
	if s.NetworkMode != "" {
		// host, none, bridge, "container:<id>" (a "service:" reference
		// resolved), or a network's name: the engine takes them as they are.
		host.NetworkMode = container.NetworkMode(s.NetworkMode)
		return nil
	}
	links := containerLinks(p, s)
	host.Links = links
	for _, key := range networkOrder(s) {
		netCfg, ok := p.Networks[key]
		if !ok {
			return fmt.Errorf("service %q: network %q is not defined", s.Name, key)
		}
		ep, err := endpointSettings(p, s, number, key, links)
		if err != nil {
			return err
		}
		spec.Networks = append(spec.Networks, networkAttachment{Network: netCfg.Name, Endpoint: ep})
	}
	if len(spec.Networks) > 0 {
		host.NetworkMode = container.NetworkMode(spec.Networks[0].Network)
	}
	return nil
}

// endpointSettings is replica number's endpoint on the network key.
func endpointSettings(p *types.Project, s types.ServiceConfig, number int, key string, links []string) (*network.EndpointSettings, error) {
	ep := &network.EndpointSettings{Aliases: []string{containerName(p.Name, s, number), s.Name}, Links: links}
	sn := s.Networks[key]
	if sn == nil {
		return ep, nil
	}
	ep.Aliases = append(ep.Aliases, sn.Aliases...)
	if sn.Ipv4Address == "" && sn.Ipv6Address == "" {
		return ep, nil
	}
	ep.IPAMConfig = &network.EndpointIPAMConfig{}
	if sn.Ipv4Address != "" {
		addr, err := netip.ParseAddr(sn.Ipv4Address)
		if err != nil {
			return nil, fmt.Errorf("service %q: network %q: ipv4_address: %w", s.Name, key, err)
		}
		ep.IPAMConfig.IPv4Address = addr.Unmap()
	}
	if sn.Ipv6Address != "" {
		addr, err := netip.ParseAddr(sn.Ipv6Address)
		if err != nil {
			return nil, fmt.Errorf("service %q: network %q: ipv6_address: %w", s.Name, key, err)
		}
		ep.IPAMConfig.IPv6Address = addr
	}
	return ep, nil
}

// containerLinks renders links and external_links in the engine's
// "container:alias" form. A link to a service names each of its replicas'
// containers, which exist by the time this one starts (compose-go makes
// every link a depends_on); an external link names a container outside
// the project.
func containerLinks(p *types.Project, s types.ServiceConfig) []string {
	var links []string
	for _, l := range s.Links {
		svc, alias, ok := strings.Cut(l, ":")
		target, found := p.Services[svc]
		if !found {
			continue // a disabled service: compose-go has checked the rest
		}
		if !ok {
			alias = svc
		}
		for n := 1; n <= target.GetScale(); n++ {
			links = append(links, containerName(p.Name, target, n)+":"+alias)
		}
	}
	for _, l := range s.ExternalLinks {
		name, alias, ok := strings.Cut(l, ":")
		if !ok {
			alias = name
		}
		links = append(links, name+":"+alias)
	}
	return links
}
