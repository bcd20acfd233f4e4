package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
)

type checkCmd struct {
	subjectArgs
	Names []string `arg:"" optional:"" name:"name" help:"Only these checks."`
	JSON  bool     `help:"Print JSON (schema in docs/cli.md)."`
}

type checkDoc struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Service   string `json:"service"`
	OK        bool   `json:"ok"`
	LatencyMS int64  `json:"latency_ms"`
	Detail    string `json:"detail"`
}

func (c *checkCmd) Run(ctx context.Context, out *output) error {
	s, err := c.load(ctx)
	if err != nil {
		return err
	}
	results, err := s.RunChecks(ctx, c.Names)
	if err != nil {
		return err
	}
	docs := []checkDoc{}
	allOK := true
	for _, r := range results {
		docs = append(docs, checkDoc{Name: r.Name, Kind: r.Kind, Service: r.Service, OK: r.OK, LatencyMS: r.Latency.Milliseconds(), Detail: relativize(r.Detail)})
		allOK = allOK && r.OK
	}
	if c.JSON {
		enc := json.NewEncoder(out.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(docs); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(out.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CHECK\tSERVICE\tOK\tLATENCY\tDETAIL")
		for _, d := range docs {
			ok := "ok"
			if !d.OK {
				ok = "FAIL"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%dms\t%s\n", d.Name, d.Service, ok, d.LatencyMS, d.Detail)
		}
		tw.Flush()
	}
	if ctx.Err() != nil {
		return &codeError{code: 130, err: fmt.Errorf("check interrupted")}
	}
	if !allOK {
		return &codeError{code: exitUnready}
	}
	return nil
}
