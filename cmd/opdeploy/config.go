package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/opdeploy/opdeploy/engine"
	"github.com/opdeploy/opdeploy/target"
)

type configCmd struct {
	subjectArgs
	JSON bool `help:"Print JSON (schema in docs/cli.md) instead of text."`
}

func (c *configCmd) Run(ctx context.Context, out *output, s *engine.Subject) error {
	doc := newConfigDoc(s)
	if c.JSON {
		enc := json.NewEncoder(out.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	return doc.writeText(out.stdout)
}

// configDoc is the stable JSON schema of `opdeploy config --json`,
// documented in docs/cli.md. Add fields; never rename or remove one.
// Paths are relative to the subject file's folder, so output does not
// depend on where opdeploy runs.
type configDoc struct {
	Name      string           `json:"name"`
	Doc       string           `json:"doc"`
	File      string           `json:"file"`
	Target    configTarget     `json:"target"`
	Project   string           `json:"project"`
	Services  []configService  `json:"services"`
	Inactive  []configInactive `json:"inactive_services"`
	Checks    []configCheck    `json:"checks"`
	Sequences []configSequence `json:"sequences"`
}

type configTarget struct {
	Kind         string   `json:"kind"`
	ComposeFiles []string `json:"compose_files"`
	Profiles     []string `json:"profiles"`
	// Endpoint and Images are a swarm's, absent for other kinds; an
	// endpoint of "" means DOCKER_HOST, so they are pointers rather than
	// omitempty strings.
	Endpoint *string `json:"endpoint,omitempty"`
	Images   *string `json:"images,omitempty"`
}

type configService struct {
	Name        string             `json:"name"`
	Image       string             `json:"image"`
	Build       bool               `json:"build"`
	Entrypoint  []string           `json:"entrypoint"`
	Command     []string           `json:"command"`
	Ports       []configPort       `json:"ports"`
	DependsOn   []configDependency `json:"depends_on"`
	Healthcheck *configHealthcheck `json:"healthcheck"`
	Replicas    int                `json:"replicas"`
	Profiles    []string           `json:"profiles"`
}

type configPort struct {
	HostIP    string `json:"host_ip"`
	Published string `json:"published"`
	Target    uint32 `json:"target"`
	Protocol  string `json:"protocol"`
}

type configDependency struct {
	Service   string `json:"service"`
	Condition string `json:"condition"`
	Required  bool   `json:"required"`
	Restart   bool   `json:"restart"`
}

type configHealthcheck struct {
	Test        []string `json:"test"`
	Interval    string   `json:"interval"`
	Timeout     string   `json:"timeout"`
	Retries     uint64   `json:"retries"`
	StartPeriod string   `json:"start_period"`
	Disabled    bool     `json:"disabled"`
}

type configInactive struct {
	Name     string   `json:"name"`
	Profiles []string `json:"profiles"`
}

type configCheck struct {
	Name         string   `json:"name"`
	Kind         string   `json:"kind"`
	Service      string   `json:"service"`
	Port         int      `json:"port,omitempty"`
	Path         string   `json:"path,omitempty"`
	ExpectStatus int      `json:"expect_status,omitempty"`
	Command      []string `json:"command,omitempty"`
	Timeout      string   `json:"timeout,omitempty"`
	DefinedAt    string   `json:"defined_at"`
}

type configSequence struct {
	Name      string `json:"name"`
	Doc       string `json:"doc"`
	DefinedAt string `json:"defined_at"`
}

func newConfigDoc(s *engine.Subject) configDoc {
	desc := s.Target.Describe()
	dir := filepath.Dir(s.File)
	rel := func(p string) string {
		if r, err := filepath.Rel(dir, p); err == nil {
			return filepath.ToSlash(r)
		}
		return p
	}
	at := func(p target.Pos) string {
		return fmt.Sprintf("%s:%d:%d", rel(p.File), p.Line, p.Col)
	}
	doc := configDoc{
		Name:    s.Name,
		Doc:     s.Doc,
		File:    filepath.ToSlash(relPath(s.File)),
		Project: desc.Project,
		Target: configTarget{
			Kind:         desc.Kind,
			ComposeFiles: []string{},
			Profiles:     nonNil(desc.Profiles),
		},
		Services:  []configService{},
		Inactive:  []configInactive{},
		Checks:    []configCheck{},
		Sequences: []configSequence{},
	}
	if sw := s.Swarm; sw != nil {
		endpoint, images := sw.Endpoint, sw.Images
		doc.Target.Endpoint, doc.Target.Images = &endpoint, &images
	}
	for _, f := range desc.ComposeFiles {
		doc.Target.ComposeFiles = append(doc.Target.ComposeFiles, rel(f))
	}
	for _, svc := range desc.Services {
		cs := configService{
			Name:       svc.Name,
			Image:      svc.Image,
			Build:      svc.Build,
			Entrypoint: nonNil(svc.Entrypoint),
			Command:    nonNil(svc.Command),
			Ports:      []configPort{},
			DependsOn:  []configDependency{},
			Replicas:   svc.Replicas,
			Profiles:   nonNil(svc.Profiles),
		}
		for _, p := range svc.Ports {
			cs.Ports = append(cs.Ports, configPort{HostIP: p.HostIP, Published: p.Published, Target: p.Target, Protocol: p.Protocol})
		}
		for _, d := range svc.DependsOn {
			cs.DependsOn = append(cs.DependsOn, configDependency(d))
		}
		if hc := svc.Healthcheck; hc != nil {
			cs.Healthcheck = &configHealthcheck{
				Test:        nonNil(hc.Test),
				Interval:    durationString(hc.Interval),
				Timeout:     durationString(hc.Timeout),
				Retries:     hc.Retries,
				StartPeriod: durationString(hc.StartPeriod),
				Disabled:    hc.Disabled,
			}
		}
		doc.Services = append(doc.Services, cs)
	}
	names := make([]string, 0, len(desc.Inactive))
	for name := range desc.Inactive {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		doc.Inactive = append(doc.Inactive, configInactive{Name: name, Profiles: nonNil(desc.Inactive[name])})
	}
	for _, c := range s.Checks {
		doc.Checks = append(doc.Checks, configCheck{
			Name: c.Name, Kind: string(c.Kind), Service: c.Service, Port: c.Port, Path: c.Path,
			ExpectStatus: c.Expect, Command: c.Command, Timeout: durationString(c.Timeout), DefinedAt: at(c.Pos),
		})
	}
	for _, fc := range s.FuncChecks {
		doc.Checks = append(doc.Checks, configCheck{Name: fc.Name, Kind: "starlark", DefinedAt: at(fc.Pos)})
	}
	for _, seq := range s.Sequences {
		doc.Sequences = append(doc.Sequences, configSequence{Name: seq.Name, Doc: seq.Doc, DefinedAt: at(seq.Pos)})
	}
	return doc
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// durationString prints a duration as compose writes it ("30s", "1m30s"),
// or "" when unset.
func durationString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// writeText prints the subject for a person.
func (d configDoc) writeText(w io.Writer) error {
	top := func(label, value string) { fmt.Fprintf(w, "%-15s%s\n", label+":", value) }
	top("subject", d.Name)
	if d.Doc != "" {
		top("doc", firstLine(d.Doc))
	}
	top("file", d.File)
	top("target", d.Target.Kind)
	if d.Target.Endpoint != nil {
		endpoint := *d.Target.Endpoint
		if endpoint == "" {
			endpoint = "(DOCKER_HOST)"
		}
		top("endpoint", endpoint)
	}
	if d.Target.Images != nil {
		top("images", *d.Target.Images)
	}
	top("project", d.Project)
	top("compose files", orNone(strings.Join(d.Target.ComposeFiles, ", ")))
	top("profiles", orNone(strings.Join(d.Target.Profiles, ", ")))

	fmt.Fprintf(w, "\nservices (%d):\n", len(d.Services))
	for _, s := range d.Services {
		fmt.Fprintf(w, "  %s\n", s.Name)
		field := func(label, value string) { fmt.Fprintf(w, "    %-13s%s\n", label+":", value) }
		image := s.Image
		if s.Build {
			image += " (built)"
		}
		field("image", image)
		if len(s.Entrypoint) > 0 {
			field("entrypoint", shellJoin(s.Entrypoint))
		}
		if len(s.Command) > 0 {
			field("command", shellJoin(s.Command))
		}
		if len(s.Ports) > 0 {
			var ports []string
			for _, p := range s.Ports {
				ports = append(ports, formatPort(p))
			}
			field("ports", strings.Join(ports, ", "))
		}
		if len(s.DependsOn) > 0 {
			var deps []string
			for _, dep := range s.DependsOn {
				deps = append(deps, dep.Service+" ("+dep.Condition+")")
			}
			field("depends on", strings.Join(deps, ", "))
		}
		if hc := s.Healthcheck; hc != nil {
			field("healthcheck", formatHealthcheck(hc))
		}
		if s.Replicas != 1 {
			field("replicas", fmt.Sprint(s.Replicas))
		}
		if len(s.Profiles) > 0 {
			field("profiles", strings.Join(s.Profiles, ", "))
		}
	}
	for _, in := range d.Inactive {
		fmt.Fprintf(w, "  (%s: inactive, needs profile %s)\n", in.Name, strings.Join(in.Profiles, " or "))
	}

	fmt.Fprintf(w, "\nchecks (%d):\n", len(d.Checks))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range d.Checks {
		var what string
		switch c.Kind {
		case "http":
			what = fmt.Sprintf("GET %s:%d%s expects %d", c.Service, c.Port, c.Path, c.ExpectStatus)
		case "tcp":
			what = fmt.Sprintf("connect %s:%d", c.Service, c.Port)
		case "exec":
			what = fmt.Sprintf("exec in %s: %s", c.Service, shellJoin(c.Command))
		case "starlark":
			what = "Starlark function at " + c.DefinedAt
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\ttimeout %s\n", c.Name, c.Kind, what, c.Timeout)
	}
	tw.Flush()

	fmt.Fprintf(w, "\nsequences (%d):\n", len(d.Sequences))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range d.Sequences {
		fmt.Fprintf(tw, "  %s\t%s\n", s.Name, firstLine(s.Doc))
	}
	return tw.Flush()
}

func formatPort(p configPort) string {
	var b strings.Builder
	if p.HostIP != "" {
		b.WriteString(p.HostIP + ":")
	}
	if p.Published != "" {
		b.WriteString(p.Published + "->")
	}
	fmt.Fprintf(&b, "%d/%s", p.Target, p.Protocol)
	return b.String()
}

func formatHealthcheck(hc *configHealthcheck) string {
	if hc.Disabled {
		return "disabled"
	}
	s := shellJoin(hc.Test)
	var opts []string
	if hc.Interval != "" {
		opts = append(opts, "every "+hc.Interval)
	}
	if hc.Timeout != "" {
		opts = append(opts, "timeout "+hc.Timeout)
	}
	if hc.Retries != 0 {
		opts = append(opts, fmt.Sprintf("%d retries", hc.Retries))
	}
	if hc.StartPeriod != "" {
		opts = append(opts, "start period "+hc.StartPeriod)
	}
	if len(opts) > 0 {
		s += " (" + strings.Join(opts, ", ") + ")"
	}
	return s
}

// shellJoin prints an argv so that a person can paste it into a shell.
func shellJoin(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`|&;<>()*?[]{}!#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// firstLine returns a doc string's first paragraph on one line.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "\n\n"); i >= 0 {
		s = s[:i]
	}
	return strings.Join(strings.Fields(s), " ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
