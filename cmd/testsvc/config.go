package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

const envPrefix = "TESTSVC_"

// errUsage means the problem was already reported with the usage text; the
// caller should exit 2.
var errUsage = errors.New("usage error")

// envName returns the environment variable that sets the flag name:
// "healthy-after" → "TESTSVC_HEALTHY_AFTER".
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// envMap turns an os.Environ-style list into a map; later entries win.
func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// parseFlags parses args into fs, then sets every flag not given on the
// command line from its TESTSVC_ variable in env (if non-empty): flags win
// over the environment, and an environment value a flag overrides is not
// even looked at. Errors have been printed with the usage when it returns
// errUsage; flag.ErrHelp means -h was asked for.
func parseFlags(fs *flag.FlagSet, args []string, env map[string]string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage // flag has printed the error and the usage
	}
	if fs.NArg() > 0 {
		return usageFail(fs, "unexpected arguments %q", fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		key := envName(f.Name)
		if v := env[key]; envErr == nil && !given[f.Name] && v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("invalid value %q for %s: %v", v, key, err)
			}
		}
	})
	if envErr != nil {
		return usageFail(fs, "%v", envErr)
	}
	return nil
}

// usageFail prints a message and the usage of fs, and returns errUsage.
func usageFail(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "testsvc %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return errUsage
}

// usageExitCode maps a parse error to an exit code.
func usageExitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// newFlagSet returns a FlagSet whose usage text lists each flag's
// environment variable.
func newFlagSet(name, synopsis string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "usage: %s\n\nFlags (each also settable with the environment variable shown; flags win):\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// annotateEnv appends the environment variable name to every flag's usage.
func annotateEnv(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		f.Usage += " [$" + envName(f.Name) + "]"
	})
}

// optDuration is a duration flag that records whether it was set at all, so
// that "--exit-after 0s" (exit now) differs from not giving it (never exit).
type optDuration struct {
	d   time.Duration
	set bool
}

func (o *optDuration) String() string {
	if o == nil || !o.set {
		return ""
	}
	return o.d.String()
}

func (o *optDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("invalid duration")
	}
	o.d, o.set = d, true
	return nil
}

// serveConfig holds the flags of "testsvc serve".
type serveConfig struct {
	listen        string
	name          string
	healthyAfter  time.Duration
	unhealthy     bool
	exitAfter     optDuration
	exitCode      int
	crashLoop     bool
	logEvery      time.Duration
	stderrEvery   time.Duration
	dataFile      string
	ignoreSIGTERM bool
	udpListen     string
}

// parseServeConfig parses the serve flags over the environment.
func parseServeConfig(args []string, env map[string]string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := newFlagSet("serve", "testsvc [serve] [flags]", stderr)
	fs.StringVar(&c.listen, "listen", ":8080", "`address` to serve HTTP on")
	fs.StringVar(&c.name, "name", "", "service `name` for logs and GET / (default: the hostname)")
	fs.DurationVar(&c.healthyAfter, "healthy-after", 0, "report unhealthy until this `duration` has passed since start")
	fs.BoolVar(&c.unhealthy, "unhealthy", false, "never report healthy (POST /health/ok does not override it)")
	fs.Var(&c.exitAfter, "exit-after", "exit with --exit-code after this `duration`; 0s means a one-shot job that exits at once (default: never)")
	fs.IntVar(&c.exitCode, "exit-code", 0, "exit `code` (0-255) used by --exit-after")
	fs.BoolVar(&c.crashLoop, "crash-loop", false, "print a line and exit 1 immediately on start")
	fs.DurationVar(&c.logEvery, "log-every", 0, "print \"tick N\" to stdout every `duration` (0 = off)")
	fs.DurationVar(&c.stderrEvery, "stderr-every", 0, "print \"tock N\" to stderr every `duration` (0 = off)")
	fs.StringVar(&c.dataFile, "data-file", "", "at start, append \"start <RFC3339Nano>\" to this `file` (counts restarts)")
	fs.BoolVar(&c.ignoreSIGTERM, "ignore-sigterm", false, "ignore SIGTERM (to test stop_grace_period and SIGKILL); SIGINT still stops")
	fs.StringVar(&c.udpListen, "udp-listen", "", "also log every UDP datagram that arrives on this `address` (\"udp from ADDR: TEXT\")")
	annotateEnv(fs)

	if err := parseFlags(fs, args, env); err != nil {
		return c, err
	}
	switch {
	case c.listen == "":
		return c, usageFail(fs, "--listen must not be empty")
	case c.healthyAfter < 0:
		return c, usageFail(fs, "--healthy-after must not be negative")
	case c.exitAfter.set && c.exitAfter.d < 0:
		return c, usageFail(fs, "--exit-after must not be negative")
	case c.exitCode < 0 || c.exitCode > 255:
		return c, usageFail(fs, "--exit-code must be between 0 and 255")
	case c.logEvery < 0:
		return c, usageFail(fs, "--log-every must not be negative")
	case c.stderrEvery < 0:
		return c, usageFail(fs, "--stderr-every must not be negative")
	}
	return c, nil
}

// probeConfig holds the flags of "testsvc probe".
type probeConfig struct {
	url     string
	timeout time.Duration
}

// parseProbeConfig parses the probe flags over the environment. The default
// URL targets the port of TESTSVC_LISTEN, so that a healthcheck of
// ["CMD", "/testsvc", "probe"] follows the service's own setting.
func parseProbeConfig(args []string, env map[string]string, stderr io.Writer) (probeConfig, error) {
	var c probeConfig
	fs := newFlagSet("probe", "testsvc probe [flags]", stderr)
	fs.StringVar(&c.url, "url", defaultProbeURL(env[envName("listen")]), "`URL` to GET (default port follows $TESTSVC_LISTEN)")
	fs.DurationVar(&c.timeout, "timeout", 2*time.Second, "give up after this `duration`")
	annotateEnv(fs)

	if err := parseFlags(fs, args, env); err != nil {
		return c, err
	}
	switch {
	case c.url == "":
		return c, usageFail(fs, "--url must not be empty")
	case c.timeout <= 0:
		return c, usageFail(fs, "--timeout must be positive")
	}
	return c, nil
}
