package local

import (
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// A service may join another service's namespaces (network_mode, ipc,
// pid: "service:db") or mount its volumes (volumes_from: [db]). The engine
// takes container IDs for these, so docker compose resolves each reference
// to the other service's first container when it creates the dependent,
// and records the resolved form in the dependent's config hash: a
// dependent whose owner was recreated no longer matches, and is recreated
// too. opdeploy does the same. compose-go adds an implicit depends_on for
// each reference, so owners are selected, ordered and started first.

// refKind is the key a reference comes from.
type refKind string

const (
	refNetwork refKind = "network_mode"
	refIPC     refKind = "ipc"
	refPID     refKind = "pid"
	refVolumes refKind = "volumes_from"
)

// serviceRef is one reference from a service to another service.
type serviceRef struct {
	Kind    refKind
	Service string
}

// serviceRefs lists the references a service makes to other services.
func serviceRefs(s types.ServiceConfig) []serviceRef {
	var refs []serviceRef
	for _, ns := range []struct {
		kind  refKind
		value string
	}{{refNetwork, s.NetworkMode}, {refIPC, s.Ipc}, {refPID, s.Pid}} {
		if name, ok := strings.CutPrefix(ns.value, types.ServicePrefix); ok {
			refs = append(refs, serviceRef{Kind: ns.kind, Service: name})
		}
	}
	for _, v := range s.VolumesFrom {
		if name, ok := volumesFromService(v); ok {
			refs = append(refs, serviceRef{Kind: refVolumes, Service: name})
		}
	}
	return refs
}

// refOwners are the services whose containers s's containers reference,
// sorted, each once.
func refOwners(s types.ServiceConfig) []string {
	seen := map[string]bool{}
	for _, r := range serviceRefs(s) {
		seen[r.Service] = true
	}
	return sortedKeys(seen)
}

// volumesFromService reads a volumes_from entry: "db", "db:ro" name a
// service; "container:name[:mode]" names a container outside the project.
func volumesFromService(v string) (string, bool) {
	if strings.HasPrefix(v, types.ContainerPrefix) {
		return "", false
	}
	name, _, _ := strings.Cut(v, ":")
	return name, true
}

// resolveRefs returns s with each reference to a service replaced by the
// container the engine should use: "service:db" becomes "container:<id>"
// and a volumes_from "db:ro" becomes "<id>:ro"; "container:name[:mode]"
// volumes_from entries take the engine's form "name[:mode]". owners gives,
// by service, the ID of the container a reference resolves to; a service
// missing from it is left unresolved (a container whose hash was computed
// that way matches no container made with an owner, so it is recreated).
//
// docker compose drops a volumes_from entry's :ro or :rw when it resolves
// it; opdeploy keeps it.
func resolveRefs(s types.ServiceConfig, owners map[string]string) types.ServiceConfig {
	resolve := func(value string) string {
		if name, ok := strings.CutPrefix(value, types.ServicePrefix); ok {
			if id, ok := owners[name]; ok {
				return types.ContainerPrefix + id
			}
		}
		return value
	}
	s.NetworkMode, s.Ipc, s.Pid = resolve(s.NetworkMode), resolve(s.Ipc), resolve(s.Pid)
	if len(s.VolumesFrom) > 0 {
		from := make([]string, len(s.VolumesFrom))
		for i, v := range s.VolumesFrom {
			from[i] = v
			if rest, ok := strings.CutPrefix(v, types.ContainerPrefix); ok {
				from[i] = rest
				continue
			}
			name, mode, hasMode := strings.Cut(v, ":")
			if id, ok := owners[name]; ok {
				from[i] = id
				if hasMode {
					from[i] += ":" + mode
				}
			}
		}
		s.VolumesFrom = from
	}
	return s
}

// ownerIDs picks, for every service, the container its references resolve
// to: the lowest-numbered replica, as docker compose picks the first. A
// container an interrupted recreate left aside is never picked.
func ownerIDs(containers []observedContainer) map[string]string {
	byService := map[string]observedContainer{}
	for _, c := range containers {
		if strings.HasPrefix(c.Name, asideName(c.ID, "")) {
			continue
		}
		if prev, ok := byService[c.Service]; !ok || c.Number < prev.Number {
			byService[c.Service] = c
		}
	}
	out := make(map[string]string, len(byService))
	for svc, c := range byService {
		out[svc] = c.ID
	}
	return out
}

// refOrder returns the services ordered so that every reference's owner
// comes before the services that reference it (compose-go rejects cycles,
// since each reference is also a depends_on); otherwise by name.
func refOrder(services []desiredService) []desiredService {
	byName := map[string]desiredService{}
	names := make([]string, 0, len(services))
	for _, s := range services {
		byName[s.name()] = s
		names = append(names, s.name())
	}
	sort.Strings(names)
	done := map[string]bool{}
	var out []desiredService
	var visit func(name string)
	visit = func(name string) {
		s, ok := byName[name]
		if !ok || done[name] {
			return
		}
		done[name] = true
		for _, owner := range refOwners(s.Config) {
			visit(owner)
		}
		out = append(out, s)
	}
	for _, n := range names {
		visit(n)
	}
	return out
}
