package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/opdeploy/opdeploy/engine"
)

// helpPrinter prints kong's help and, for `opdeploy run FILE --help`, the
// sequences that FILE defines, with their docs. A subject that does not
// load adds nothing: help never fails because of it.
func helpPrinter(tgts targets) kong.HelpPrinter {
	return func(options kong.HelpOptions, ctx *kong.Context) error {
		return printHelp(tgts, options, ctx)
	}
}

func printHelp(tgts targets, options kong.HelpOptions, ctx *kong.Context) error {
	if err := kong.DefaultHelpPrinter(options, ctx); err != nil {
		return err
	}
	if sel := ctx.Selected(); sel == nil || sel.Name != "run" {
		return nil
	}
	file := ""
	for i, a := range ctx.Args {
		if a == "run" {
			for _, b := range ctx.Args[i+1:] {
				if !strings.HasPrefix(b, "-") {
					file = b
					break
				}
			}
			break
		}
	}
	if file == "" {
		return nil
	}
	s, err := engine.Load(context.Background(), file, engine.Options{Resolver: tgts})
	if err != nil {
		return nil
	}
	w := ctx.Stdout
	fmt.Fprintf(w, "\nSequences of %s:\n", file)
	width := 0
	for _, seq := range s.Sequences {
		width = max(width, len(seq.Name))
	}
	for _, seq := range s.Sequences {
		fmt.Fprintf(w, "  %-*s  %s\n", width, seq.Name, firstLine(seq.Doc))
	}
	return nil
}
