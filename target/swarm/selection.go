package swarm

import (
	"fmt"
	"sort"

	"github.com/opdeploy/opdeploy/target"
)

// selected returns the services a verb acts on, in dependency order
// (dependencies first, then natural order): the named ones, with their
// dependencies when withDeps, or all of them when none are named.
func (d *Deployment) selected(names []string, withDeps bool) ([]string, error) {
	want := map[string]bool{}
	if len(names) == 0 {
		for _, n := range d.project.ServiceNames() {
			want[n] = true
		}
	}
	var add func(string)
	add = func(n string) {
		if want[n] {
			return
		}
		want[n] = true
		if withDeps {
			for dep := range d.project.Services[n].DependsOn {
				add(dep)
			}
		}
	}
	for _, n := range names {
		if _, ok := d.project.Services[n]; !ok {
			return nil, fmt.Errorf("no service %q in project %q", n, d.project.Name)
		}
		add(n)
	}
	return d.dependencyOrder(want), nil
}

// dependencyOrder lists the services in want so that each comes after the
// services it depends on; ties in natural order.
func (d *Deployment) dependencyOrder(want map[string]bool) []string {
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	target.SortNatural(names)
	var out []string
	done := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if done[n] {
			return
		}
		done[n] = true // compose-go rejects dependency cycles at load
		deps := make([]string, 0)
		for dep := range d.project.Services[n].DependsOn {
			if want[dep] {
				deps = append(deps, dep)
			}
		}
		sort.Strings(deps)
		for _, dep := range deps {
			visit(dep)
		}
		out = append(out, n)
	}
	for _, n := range names {
		visit(n)
	}
	return out
}
