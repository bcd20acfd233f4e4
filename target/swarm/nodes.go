package swarm

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// How opdeploy reaches a node's own engine, for what the manager cannot
// do (exec, signals, image loads): the node label dev.opdeploy.engine
// when set (`docker node update --label-add dev.opdeploy.engine=tcp://…`),
// else TCP port 2375 at the address the node advertises to the swarm.
// The node whose address is the manager endpoint's host is reached at the
// endpoint itself.
const (
	labelNodeEngine   = "dev.opdeploy.engine"
	defaultEnginePort = "2375"
)

var _ target.NodeOperator = (*Deployment)(nil)

// nodeEndpoint is where a node's engine answers.
func (d *Deployment) nodeEndpoint(n swarm.Node) string {
	if e := n.Spec.Labels[labelNodeEngine]; e != "" {
		return e
	}
	if u, err := url.Parse(d.spec.Endpoint); err == nil && u.Scheme == "tcp" {
		if host, _, err := net.SplitHostPort(u.Host); err == nil && host == n.Status.Addr {
			return d.spec.Endpoint
		}
	}
	if n.ManagerStatus != nil && n.ManagerStatus.Leader && (n.Status.Addr == "" || n.Status.Addr == "0.0.0.0" || n.Status.Addr == "127.0.0.1") {
		return d.spec.Endpoint // a one-node swarm on this engine
	}
	return "tcp://" + net.JoinHostPort(n.Status.Addr, defaultEnginePort)
}

// nodeAPI connects to a node's engine.
func (d *Deployment) nodeAPI(ctx context.Context, n swarm.Node) (dockerapi.API, error) {
	endpoint := d.nodeEndpoint(n)
	api, err := d.engines.Dial(endpoint).Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("node %s's engine (%s; docs/swarm.md says how opdeploy reaches nodes): %w", n.Description.Hostname, endpoint, err)
	}
	return api, nil
}

// Nodes lists the swarm's nodes, by hostname.
func (d *Deployment) Nodes(ctx context.Context) ([]target.Node, error) {
	api, err := d.managerAPI(ctx)
	if err != nil {
		return nil, err
	}
	res, err := api.NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		return nil, err
	}
	var out []target.Node
	for _, n := range res.Items {
		tn := target.Node{
			ID: n.ID, Hostname: n.Description.Hostname, Role: string(n.Spec.Role),
			State: string(n.Status.State), Availability: string(n.Spec.Availability), Addr: d.nodeEndpoint(n),
		}
		tn.Leader = n.ManagerStatus != nil && n.ManagerStatus.Leader
		out = append(out, tn)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hostname < out[j].Hostname })
	return out, nil
}

// SetAvailability drains, pauses or activates a node.
func (d *Deployment) SetAvailability(ctx context.Context, node, availability string) error {
	switch availability {
	case "active", "pause", "drain":
	default:
		return fmt.Errorf("availability %q: want active, pause or drain", availability)
	}
	api, err := d.managerAPI(ctx)
	if err != nil {
		return err
	}
	n, err := findNode(ctx, api, node)
	if err != nil {
		return err
	}
	spec := n.Spec
	spec.Availability = swarm.NodeAvailability(availability)
	_, err = api.NodeUpdate(ctx, n.ID, client.NodeUpdateOptions{Version: n.Version, Spec: spec})
	if err != nil {
		return fmt.Errorf("set node %s %s: %w", node, availability, err)
	}
	return nil
}

// findNode finds a node by hostname or ID (or a unique ID prefix).
func findNode(ctx context.Context, api dockerapi.API, name string) (swarm.Node, error) {
	res, err := api.NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		return swarm.Node{}, err
	}
	var byPrefix []swarm.Node
	var names []string
	for _, n := range res.Items {
		if n.Description.Hostname == name || n.ID == name {
			return n, nil
		}
		if strings.HasPrefix(n.ID, name) {
			byPrefix = append(byPrefix, n)
		}
		names = append(names, n.Description.Hostname)
	}
	if len(byPrefix) == 1 {
		return byPrefix[0], nil
	}
	sort.Strings(names)
	return swarm.Node{}, fmt.Errorf("no node %q in the swarm (nodes: %s)", name, strings.Join(names, ", "))
}
