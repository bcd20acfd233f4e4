package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/alecthomas/kong"
)

type completionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"Shell to print the script for: bash, zsh or fish."`
}

// Run prints a completion script generated from the CLI's own model, so it
// never falls out of step with the verbs and flags.
func (c *completionCmd) Run(kctx *kong.Context, out *output) error {
	cmds := commandFlags(kctx.Model.Node)
	switch c.Shell {
	case "bash":
		writeBash(out.stdout, cmds)
	case "zsh":
		fmt.Fprintln(out.stdout, "#compdef opdeploy")
		fmt.Fprintln(out.stdout, "autoload -U +X bashcompinit && bashcompinit")
		writeBash(out.stdout, cmds)
	case "fish":
		writeFish(out.stdout, cmds)
	}
	return nil
}

type commandInfo struct {
	name, help string
	flags      []*kong.Flag
	enum       []string // values of the first positional argument, if an enum
}

func commandFlags(root *kong.Node) []commandInfo {
	var out []commandInfo
	for _, child := range root.Children {
		if child.Hidden {
			continue
		}
		ci := commandInfo{name: child.Name, help: child.Help}
		for _, f := range child.Flags {
			if !f.Hidden {
				ci.flags = append(ci.flags, f)
			}
		}
		for _, f := range root.Flags {
			if !f.Hidden {
				ci.flags = append(ci.flags, f)
			}
		}
		if len(child.Positional) > 0 && child.Positional[0].Enum != "" {
			ci.enum = strings.Split(child.Positional[0].Enum, ",")
		}
		sort.Slice(ci.flags, func(i, j int) bool { return ci.flags[i].Name < ci.flags[j].Name })
		out = append(out, ci)
	}
	return out
}

func writeBash(w io.Writer, cmds []commandInfo) {
	var names []string
	for _, c := range cmds {
		names = append(names, c.name)
	}
	fmt.Fprintf(w, `# bash completion for opdeploy; load with: source <(opdeploy completion bash)
_opdeploy() {
	local cur="${COMP_WORDS[COMP_CWORD]}"
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W %q -- "$cur"))
		return
	fi
	local opts="" words=""
	case "${COMP_WORDS[1]}" in
`, strings.Join(names, " "))
	for _, c := range cmds {
		var flags []string
		for _, f := range c.flags {
			flags = append(flags, "--"+f.Name)
			if f.Short != 0 {
				flags = append(flags, "-"+string(f.Short))
			}
		}
		fmt.Fprintf(w, "\t%s) opts=%q; words=%q ;;\n", c.name, strings.Join(flags, " "), strings.Join(c.enum, " "))
	}
	fmt.Fprint(w, `	esac
	if [[ "$cur" == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	elif [ -n "$words" ]; then
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -o filenames -F _opdeploy opdeploy
`)
}

func writeFish(w io.Writer, cmds []commandInfo) {
	fmt.Fprintln(w, "# fish completion for opdeploy; load with: opdeploy completion fish | source")
	fmt.Fprintln(w, "complete -c opdeploy -f")
	for _, c := range cmds {
		fmt.Fprintf(w, "complete -c opdeploy -n __fish_use_subcommand -a %s -d %s\n", c.name, fishQuote(c.help))
		cond := "__fish_seen_subcommand_from " + c.name
		for _, f := range c.flags {
			line := fmt.Sprintf("complete -c opdeploy -n %s -l %s", fishQuote(cond), f.Name)
			if f.Short != 0 {
				line += " -s " + string(f.Short)
			}
			fmt.Fprintf(w, "%s -d %s\n", line, fishQuote(f.Help))
		}
		if len(c.enum) > 0 {
			fmt.Fprintf(w, "complete -c opdeploy -n %s -a %s\n", fishQuote(cond), fishQuote(strings.Join(c.enum, " ")))
		} else {
			fmt.Fprintf(w, "complete -c opdeploy -n %s -F\n", fishQuote(cond))
		}
	}
}

func fishQuote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
