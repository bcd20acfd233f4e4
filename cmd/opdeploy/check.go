package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/opdeploy/opdeploy/engine"
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

func (c *checkCmd) Run(ctx context.Context, out *output, s *engine.Subject) error {
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
	if err := printChecks(out.stdout, docs, c.JSON); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return &codeError{code: 130, err: fmt.Errorf("check interrupted")}
	}
	if !allOK {
		return &codeError{code: exitUnready}
	}
	return nil
}

// printChecks prints the results as a table or as JSON. Details quote
// what containers answered (an HTTP body's first line, exec output), so
// control characters in them are made visible in the table, and escaped
// in JSON, whatever stdout is.
func printChecks(w io.Writer, docs []checkDoc, asJSON bool) error {
	if asJSON {
		b, err := json.MarshalIndent(docs, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", safeJSON(b))
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSERVICE\tOK\tLATENCY\tDETAIL")
	for _, d := range docs {
		ok := "ok"
		if !d.OK {
			ok = "FAIL"
		}
		// safeLine: a tab or newline in a detail would break the table.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%dms\t%s\n", d.Name, d.Service, ok, d.LatencyMS, safeLine(d.Detail))
	}
	return tw.Flush()
}
