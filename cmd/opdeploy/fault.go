package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/opdeploy/opdeploy/engine"
	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
)

type faultCmd struct {
	subjectArgs
	Kind    string   `arg:"" enum:"delay,loss,partition,block,fill_disk,limit" help:"delay, loss, partition, block, fill_disk or limit."`
	Service string   `arg:"" help:"The service (partition: the first group, services joined by commas)."`
	Args    []string `arg:"" optional:"" help:"The kind's arguments, in ctx's order or as name=value (docs/faults.md)."`
}

func (c *faultCmd) Run(ctx context.Context, out *output, s *engine.Subject) error {
	spec, err := parseFaultArgs(target.FaultKind(c.Kind), c.Service, c.Args)
	if err != nil {
		return &codeError{code: exitUsage, err: err}
	}
	out.activity.begin("fault", "applying "+c.Kind+" to "+c.Service)
	faults, err := s.ApplyFault(ctx, spec)
	if err != nil {
		return err
	}
	out.activity.end("fault")
	for _, f := range faults {
		fmt.Fprintf(out.stdout, "fault %s: %s %s on %s (%s)\n", f.ID, f.Kind, f.Args, f.Container, f.Service)
	}
	fmt.Fprintf(out.stderr, "%s: %s in force until healed: opdeploy heal %s\n", s.Name, c.Kind, c.File)
	return nil
}

// faultParams are each kind's arguments after the service, in the order
// ctx's methods take them; any may be given as name=value.
var faultParams = map[target.FaultKind][]string{
	target.FaultDelay:     {"delay", "jitter", "to"},
	target.FaultLoss:      {"percent", "to"},
	target.FaultPartition: {},
	target.FaultBlock:     {"to_service"},
	target.FaultFillDisk:  {"path", "leave"},
	target.FaultLimit:     {"cpus", "memory"},
}

// parseFaultArgs reads `opdeploy fault`'s arguments into a spec; values
// read as ctx's do (durations "300ms", sizes "64MiB", lists "a,b").
func parseFaultArgs(kind target.FaultKind, service string, args []string) (target.FaultSpec, error) {
	spec := target.FaultSpec{Kind: kind, Service: service}
	params, ok := faultParams[kind]
	if !ok {
		return spec, fmt.Errorf("unknown fault kind %q", kind)
	}
	if kind == target.FaultPartition {
		spec.Service = ""
		for _, g := range append([]string{service}, args...) {
			spec.Groups = append(spec.Groups, strings.Split(g, ","))
		}
		return spec, nil
	}
	values := map[string]string{}
	for i, a := range args {
		name, value, named := strings.Cut(a, "=")
		if !named {
			if i >= len(params) {
				return spec, fmt.Errorf("%s takes at most %d arguments after the service (%s)", kind, len(params), strings.Join(params, ", "))
			}
			name, value = params[i], a
		}
		if !contains(params, name) {
			return spec, fmt.Errorf("%s has no argument %q (arguments: %s)", kind, name, strings.Join(params, ", "))
		}
		values[name] = value
	}
	var err error
	for name, v := range values {
		switch name {
		case "delay":
			spec.Delay, err = time.ParseDuration(v)
		case "jitter":
			spec.Jitter, err = time.ParseDuration(v)
		case "to", "to_service":
			spec.To = strings.Split(v, ",")
		case "percent":
			spec.Percent, err = strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		case "path":
			spec.Path = v
		case "leave", "memory":
			var b starlark.ByteSize
			b, err = starlark.ParseByteSize(v)
			if name == "leave" {
				spec.Leave = uint64(b)
			} else {
				spec.Memory = uint64(b)
			}
		case "cpus":
			spec.CPUs, err = strconv.ParseFloat(v, 64)
		}
		if err != nil {
			return spec, fmt.Errorf("%s: %s: %v", kind, name, err)
		}
	}
	required := map[target.FaultKind]string{target.FaultDelay: "delay", target.FaultLoss: "percent", target.FaultBlock: "to_service", target.FaultFillDisk: "path"}[kind]
	if _, given := values[required]; required != "" && !given {
		return spec, fmt.Errorf("%s needs %s", kind, required)
	}
	return spec, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type healCmd struct {
	subjectArgs
	Services []string `arg:"" optional:"" name:"service" help:"Only the faults on these services (default: all)."`
}

func (c *healCmd) Run(ctx context.Context, out *output, s *engine.Subject) error {
	out.activity.begin("heal", "healing faults")
	healed, err := s.HealFaults(ctx, target.HealOptions{Services: c.Services})
	for _, f := range healed {
		fmt.Fprintf(out.stdout, "healed %s: %s %s on %s (%s)\n", f.ID, f.Kind, f.Args, f.Container, f.Service)
	}
	if err != nil {
		return err
	}
	out.activity.end("heal")
	if len(healed) == 0 {
		fmt.Fprintf(out.stderr, "%s: no fault in force\n", s.Name)
	}
	return nil
}
