package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/opdeploy/opdeploy/engine"
	"github.com/opdeploy/opdeploy/target"
)

type statusCmd struct {
	subjectArgs
	Services []string `arg:"" optional:"" name:"service" help:"Only these services."`
	JSON     bool     `help:"Print JSON (schema in docs/cli.md)."`
}

// statusDoc is the stable --json schema of status (docs/cli.md).
type statusDoc struct {
	Project    string          `json:"project"`
	AllHealthy bool            `json:"all_healthy"`
	Services   []statusService `json:"services"`
	Faults     []statusFault   `json:"faults"`          // faults in force (docs/faults.md)
	Nodes      []statusNode    `json:"nodes,omitempty"` // multi-node targets: the machines
}

type statusNode struct {
	Hostname     string `json:"hostname"`
	Role         string `json:"role"`
	Leader       bool   `json:"leader"`
	State        string `json:"state"`
	Availability string `json:"availability"`
}

type statusFault struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Service   string `json:"service"`
	Container string `json:"container"`
	Args      string `json:"args"`
	Since     string `json:"since"` // RFC 3339, UTC
}

type statusService struct {
	Service   string       `json:"service"`
	Container string       `json:"container"`
	Number    int          `json:"number"`
	Node      string       `json:"node,omitempty"` // multi-node targets: where the replica runs
	State     string       `json:"state"`
	Health    string       `json:"health"`
	ExitCode  int          `json:"exit_code"`
	Ports     []statusPort `json:"ports"`
	Image     string       `json:"image"`
	Ready     bool         `json:"ready"`
	Reason    string       `json:"reason"`
}

type statusPort struct {
	HostIP        string `json:"host_ip"`
	HostPort      uint16 `json:"host_port"`
	ContainerPort uint16 `json:"container_port"`
	Protocol      string `json:"protocol"`
}

func (c *statusCmd) Run(ctx context.Context, out *output, s *engine.Subject) error {
	st, err := s.Status(ctx, target.StatusOptions{Services: c.Services})
	if err != nil {
		return err
	}
	faults, err := s.Faults(ctx)
	if err != nil {
		return err
	}
	doc := statusDoc{Project: st.Project, AllHealthy: st.AllHealthy, Services: []statusService{}, Faults: []statusFault{}}
	if no, ok := s.Target.(target.NodeOperator); ok {
		nodes, err := no.Nodes(ctx)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			doc.Nodes = append(doc.Nodes, statusNode{Hostname: n.Hostname, Role: n.Role, Leader: n.Leader, State: n.State, Availability: n.Availability})
		}
	}
	for _, f := range faults {
		doc.Faults = append(doc.Faults, statusFault{ID: f.ID, Kind: string(f.Kind), Service: f.Service, Container: f.Container, Args: f.Args, Since: f.Since.UTC().Format(time.RFC3339Nano)})
	}
	for _, ss := range st.Services {
		svc := statusService{
			Service: ss.Service, Container: ss.Container, Number: ss.Number, Node: ss.Node, State: string(ss.State),
			Health: string(ss.Health), ExitCode: ss.ExitCode, Image: ss.Image, Ports: []statusPort{},
			Ready: ss.Ready, Reason: ss.Reason,
		}
		for _, p := range ss.Ports {
			svc.Ports = append(svc.Ports, statusPort{HostIP: p.HostIP, HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: p.Protocol})
		}
		doc.Services = append(doc.Services, svc)
	}
	if c.JSON {
		enc := json.NewEncoder(out.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(out.stdout, 0, 4, 2, ' ', 0)
		// A NODE column only for targets that span machines.
		nodes := len(doc.Nodes) > 0
		for _, ss := range doc.Services {
			nodes = nodes || ss.Node != ""
		}
		if nodes {
			fmt.Fprintln(tw, "SERVICE\tTASK\tNODE\tSTATE\tHEALTH\tEXIT\tPORTS\tIMAGE\tNOTE")
		} else {
			fmt.Fprintln(tw, "SERVICE\tCONTAINER\tSTATE\tHEALTH\tEXIT\tPORTS\tIMAGE\tNOTE")
		}
		for _, ss := range doc.Services {
			var ports []string
			for _, p := range ss.Ports {
				host := p.HostIP
				if host != "" {
					host += ":"
				}
				ports = append(ports, fmt.Sprintf("%s%d->%d/%s", host, p.HostPort, p.ContainerPort, p.Protocol))
			}
			exit := ""
			if ss.State == string(target.StateExited) {
				exit = fmt.Sprint(ss.ExitCode)
			}
			container := ss.Container
			if container == "" {
				container = "-"
			}
			if nodes {
				node := ss.Node
				if node == "" {
					node = "-"
				}
				container += "\t" + node
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ss.Service, container, ss.State, ss.Health, exit, strings.Join(ports, ","), ss.Image, ss.Reason)
		}
		tw.Flush()
		if len(faults) > 0 {
			fmt.Fprintln(out.stdout)
			tw = tabwriter.NewWriter(out.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FAULT\tKIND\tSERVICE\tCONTAINER\tARGS\tSINCE")
			for _, f := range faults {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s ago\n", f.ID, f.Kind, f.Service, f.Container, f.Args, time.Since(f.Since).Round(time.Second))
			}
			tw.Flush()
		}
		if len(doc.Nodes) > 0 {
			fmt.Fprintln(out.stdout)
			tw = tabwriter.NewWriter(out.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NODE\tROLE\tSTATE\tAVAILABILITY")
			for _, n := range doc.Nodes {
				role := n.Role
				if n.Leader {
					role += " (leader)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Hostname, role, n.State, n.Availability)
			}
			tw.Flush()
		}
		verdict := "all healthy"
		if !doc.AllHealthy {
			verdict = "NOT all healthy"
			if notReady := countNotReady(st.Services); notReady > 0 {
				verdict = fmt.Sprintf("NOT all healthy: %s not ready", plural(notReady, "replica"))
			}
			if allMissing(st.Services) {
				verdict = "NOT all healthy: no containers (run up)"
			}
		}
		if len(faults) > 0 {
			verdict += fmt.Sprintf("; %s in force", plural(len(faults), "fault"))
		}
		fmt.Fprintf(out.stdout, "project %s: %s\n", doc.Project, verdict)
	}
	if !doc.AllHealthy {
		return &codeError{code: exitUnready}
	}
	return nil
}

// countNotReady counts the replicas that make the verdict false.
func countNotReady(rows []target.ServiceStatus) int {
	n := 0
	for _, r := range rows {
		if r.Counted && !r.Ready {
			n++
		}
	}
	return n
}

func allMissing(rows []target.ServiceStatus) bool {
	for _, r := range rows {
		if r.State != target.StateMissing {
			return false
		}
	}
	return true
}
